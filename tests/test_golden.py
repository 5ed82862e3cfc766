"""Behaviour kept: today's code analyses, loads and resumes a run written before the restructuring,
and gives the same numbers and figures as the code that wrote it (``tests/golden.py``)."""

import json
import re
import shutil
from html import unescape

import pytest
import torch

from tests.conftest import run_train
from tests.golden import GOLDEN, LEGACY_RUN, assert_close, summarise
from tests.test_study import analyze_in_process

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("golden")


@pytest.fixture(scope="module")
def legacy_analysis(tmp_path_factory):
    """The legacy run's whole analysis, its figures too (most of its time on a slow CPU)."""
    out = tmp_path_factory.mktemp("legacy_analysis")
    analyze_in_process(out, f"run={LEGACY_RUN}")
    return out


@pytest.fixture(scope="module")
def legacy_metrics(tmp_path_factory):
    """The legacy run's metrics alone (``figures=false``): what the quick set checks."""
    out = tmp_path_factory.mktemp("legacy_metrics")
    analyze_in_process(out, f"run={LEGACY_RUN}", "figures=false")
    return out


def test_a_single_runs_report_leads_with_the_run_and_says_in_one_block_what_a_verdict_needs(legacy_metrics):
    html = (legacy_metrics / "report.html").read_text()
    text = unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.S))
    claims = json.loads((legacy_metrics / "metrics.json").read_text())["claims"]
    assert len(claims) == 10 and {c["verdict"] for c in claims} <= {"not measured", "too few seeds"}
    assert text.count("not measured") <= 1 and "too few seeds" not in text  # not once per claim or comparison
    # the run's sections first, then the claims' one block: what a verdict needs and how to train it
    assert html.index("<h2 id='reconstruction'>") < html.index("<h2 id='claims'>") < html.index("<h2 id='runs'>")
    assert "python train.py -m experiment=study seed=1,2,3" in text and "at least 3 seeds" in text
    for claim in claims:
        assert text.count(claim["statement"]) == 1
    assert "Each comparison's effect is the paired per-seed difference" not in text  # no rule paragraph
    assert "<h2 id='df_classifier'>" not in html  # gaussian has no df: no section of n/a rows


@pytest.mark.parametrize("analysis", ["legacy_metrics", pytest.param("legacy_analysis", marks=pytest.mark.slow)])
def test_the_legacy_run_analyses_to_the_golden_metrics(analysis, request):
    metrics, _ = summarise(request.getfixturevalue(analysis))
    assert_close(metrics, json.loads((GOLDEN / "metrics.json").read_text()), "metrics")


@pytest.mark.slow  # draws every figure
def test_the_legacy_run_draws_the_golden_figures(legacy_analysis):
    _, figures = summarise(legacy_analysis)
    golden = json.loads((GOLDEN / "figures.json").read_text())
    assert sorted(figures) == sorted(golden)
    for name, expected in golden.items():
        assert figures[name]["shape"] == expected["shape"], name
        diff = torch.tensor(figures[name]["cells"]) - torch.tensor(expected["cells"])
        assert diff.abs().max() < 0.02, f"{name}: thumbnails differ by {diff.abs().max():.3f}"


def test_the_legacy_run_analyses_to_the_same_metrics_under_another_cpus_rounding(tmp_path):
    """Another CPU (AVX2 against AVX-512 kernels) computes each layer of the network to within a few
    units in the last place, differently at each position of a batch: every output of every conv and
    linear layer is moved by that much here. The legacy run is a collapsed model whose codes lie a
    few float32 ulps apart; its analysis must not rank, bin or fit them by rounding."""

    generator = torch.Generator().manual_seed(0)

    def rounding(module, args, output):
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            eps = torch.finfo(output.dtype).eps
            return output * (1 + 4 * eps * torch.randn(output.shape, generator=generator, dtype=output.dtype))
        return None

    handle = torch.nn.modules.module.register_module_forward_hook(rounding)
    try:
        analyze_in_process(tmp_path, f"run={LEGACY_RUN}", "figures=false")
    finally:
        handle.remove()
    metrics, _ = summarise(tmp_path)
    assert_close(metrics, json.loads((GOLDEN / "metrics.json").read_text()), "metrics")


@pytest.mark.slow  # train.py in a subprocess
def test_the_legacy_run_resumes_with_todays_code(tmp_path):
    run = tmp_path / "legacy_run"
    shutil.copytree(LEGACY_RUN, run)
    run_train(f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "trainer.max_epochs=4", tiny=False)
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 3  # trained one more epoch on top of the legacy run's three
    assert json.loads((run / "job.json").read_text())["status"] == "completed"


def test_the_kl_per_dimension_of_the_analysis_is_the_one_training_logged(legacy_metrics):
    """The legacy run validated on its test split: its job.json's test/kl_dim<i> at the best checkpoint
    are what the analysis recomputes from the posterior (closed form, no sampling)."""
    metrics = next(iter(json.loads((legacy_metrics / "metrics.json").read_text())["runs"].values()))
    logged = json.loads((LEGACY_RUN / "job.json").read_text())["metrics"]
    kl = metrics["latent_usage"]["kl"]["per_dim"]
    assert kl == pytest.approx([logged[f"test/kl_dim{i}"] for i in range(3)], rel=1e-4)
    assert metrics["latent_usage"]["n_collapsed"] == 3  # three epochs: every dimension still collapsed
    assert metrics["run"]["protocol"] == "validation on the test split (the original study's protocol)"


@pytest.mark.slow  # draws every figure
def test_each_run_gets_its_traversals_as_a_figure_and_an_animated_gif(legacy_analysis):
    from PIL import Image

    gifs = list((legacy_analysis / "figures").glob("*_traversals_gif.gif"))
    assert len(gifs) == 1 and (legacy_analysis / "figures" / gifs[0].name.replace("_gif.gif", ".png")).is_file()
    with Image.open(gifs[0]) as gif:
        durations = []
        for frame in range(gif.n_frames):
            gif.seek(frame)
            durations.append(gif.info["duration"])
        # -3 std to +3 std and back: 16 steps of 120 ms (Pillow merges identical neighbours)
        assert gif.is_animated and sum(durations) == (2 * 9 - 2) * 120
    page = next((legacy_analysis / "runs").glob("*.html")).read_text()
    assert f"../figures/{gifs[0].name}" in page and "Latent traversals" in page
    saved = json.loads((legacy_analysis / "metrics.json").read_text())
    traversal = next(iter(saved["runs"].values()))["traversals"]
    assert traversal["n_steps"] == 9 and len(traversal["image_change"]) == 3


def test_old_names_map_in_one_place(caplog):
    from heatmap_latent.core.legacy import current_target, renamed_override
    from heatmap_latent.training.preflight import check_overrides

    assert renamed_override("train", "model.scheduler.kind=cosine") == "model/scheduler=cosine"
    assert renamed_override("analyze", "compare=[a,b]") == "study=[a,b]"
    assert renamed_override("train", "compare=[a,b]") is None and renamed_override("analyze", "seed=1") is None
    old = "heatmap_latent.callbacks.LatentSnapshots"
    assert current_target(old) == "heatmap_latent.training.callbacks.LatentSnapshots"
    assert current_target("heatmap_latent.models.VAE") == "heatmap_latent.models.VAE"
    # analyze.py's former compare= is study= now: composed, and said once
    assert check_overrides("analyze", ["compare=[/tmp/a]", "figures=false"], "analyze.py") == [
        "study=[/tmp/a]",
        "figures=false",
    ]
    assert "compare=[/tmp/a] is now study=[/tmp/a]" in caplog.text
