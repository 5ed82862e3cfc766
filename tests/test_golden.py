"""Behaviour kept: today's code analyses, loads and resumes a run written before the restructuring,
and gives the same numbers and figures as the code that wrote it (``tests/golden.py``)."""

import json
import re
import shutil
from html import unescape

import pytest
import torch

from tests.conftest import analyze_in_process, run_train
from tests.golden import GOLDEN, GOLDEN_RUN, assert_close, summarise

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("golden")


@pytest.fixture(scope="module")
def golden_analysis(tmp_path_factory):
    """The golden run's whole analysis, its figures too (most of its time on a slow CPU)."""
    out = tmp_path_factory.mktemp("golden_analysis")
    analyze_in_process(out, f"run={GOLDEN_RUN}")
    return out


@pytest.fixture(scope="module")
def golden_metrics(tmp_path_factory):
    """The golden run's metrics alone (``figures=false``): what the quick set checks."""
    out = tmp_path_factory.mktemp("golden_metrics")
    analyze_in_process(out, f"run={GOLDEN_RUN}", "figures=false")
    return out


def test_a_single_runs_report_leads_with_the_run_and_says_in_one_block_what_a_verdict_needs(golden_metrics):
    html = (golden_metrics / "report.html").read_text()
    text = unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.S))
    claims = json.loads((golden_metrics / "metrics.json").read_text())["claims"]
    assert len(claims) == 10 and {c["verdict"] for c in claims} <= {"not measured", "too few seeds"}
    assert text.count("not measured") <= 1 and "too few seeds" not in text  # not once per claim or comparison
    # the run's sections first, then the claims' one block: what a verdict needs and how to train it
    assert html.index("<h2 id='reconstruction'>") < html.index("<h2 id='claims'>") < html.index("<h2 id='runs'>")
    assert "python train.py -m experiment=study seed=1,2,3" in text and "at least 3 seeds" in text
    for claim in claims:
        assert text.count(claim["statement"]) == 1
    assert "Each comparison's effect is the paired per-seed difference" not in text  # no rule paragraph
    assert "<h2 id='df_classifier'>" not in html  # gaussian has no df: no section of n/a rows


@pytest.mark.parametrize("analysis", ["golden_metrics", pytest.param("golden_analysis", marks=pytest.mark.slow)])
def test_the_golden_run_analyses_to_the_golden_metrics(analysis, request):
    metrics, _ = summarise(request.getfixturevalue(analysis))
    assert_close(metrics, json.loads((GOLDEN / "metrics.json").read_text()), "metrics")


@pytest.mark.slow  # draws every figure
def test_the_golden_run_draws_the_golden_figures(golden_analysis):
    _, figures = summarise(golden_analysis)
    golden = json.loads((GOLDEN / "figures.json").read_text())
    assert sorted(figures) == sorted(golden)
    for name, expected in golden.items():
        assert figures[name]["shape"] == expected["shape"], name
        diff = torch.tensor(figures[name]["cells"]) - torch.tensor(expected["cells"])
        assert diff.abs().max() < 0.02, f"{name}: thumbnails differ by {diff.abs().max():.3f}"


def test_the_golden_run_analyses_to_the_same_metrics_under_another_cpus_rounding(tmp_path):
    """Another CPU (AVX2 against AVX-512 kernels) computes each layer of the network to within a few
    units in the last place, differently at each position of a batch: every output of every conv and
    linear layer is moved by that much here. The golden run is a collapsed model whose codes lie a
    few float32 ulps apart; its analysis must not rank, bin or fit them by rounding."""

    generator = torch.Generator().manual_seed(0)

    def rounding(module, args, output):
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            eps = torch.finfo(output.dtype).eps
            return output * (1 + 4 * eps * torch.randn(output.shape, generator=generator, dtype=output.dtype))
        return None

    handle = torch.nn.modules.module.register_module_forward_hook(rounding)
    try:
        analyze_in_process(tmp_path, f"run={GOLDEN_RUN}", "figures=false")
    finally:
        handle.remove()
    metrics, _ = summarise(tmp_path)
    assert_close(metrics, json.loads((GOLDEN / "metrics.json").read_text()), "metrics")


@pytest.mark.slow  # train.py in a subprocess
def test_the_golden_run_resumes_with_todays_code(tmp_path):
    run = tmp_path / "golden_run"
    shutil.copytree(GOLDEN_RUN, run)
    run_train(f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "trainer.max_epochs=4", tiny=False)
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 3  # trained one more epoch on top of the golden run's three
    assert json.loads((run / "job.json").read_text())["status"] == "completed"


def test_the_kl_per_dimension_of_the_analysis_is_the_one_training_logged(golden_metrics):
    """The golden run validated on its test split: its job.json's test/kl_dim<i> at the best checkpoint
    are what the analysis recomputes from the posterior (closed form, no sampling)."""
    metrics = next(iter(json.loads((golden_metrics / "metrics.json").read_text())["runs"].values()))
    logged = json.loads((GOLDEN_RUN / "job.json").read_text())["metrics"]
    kl = metrics["latent_usage"]["kl"]["per_dim"]
    assert kl == pytest.approx([logged[f"test/kl_dim{i}"] for i in range(3)], rel=1e-4)
    assert metrics["latent_usage"]["n_collapsed"] == 3  # three epochs: every dimension still collapsed
    assert metrics["run"]["protocol"] == "validation on the test split (the original study's protocol)"


@pytest.mark.slow  # draws every figure
def test_each_run_gets_its_traversals_as_a_figure_and_an_animated_gif(golden_analysis):
    from PIL import Image

    gifs = list((golden_analysis / "figures").glob("*_traversals_gif.gif"))
    assert len(gifs) == 1 and (golden_analysis / "figures" / gifs[0].name.replace("_gif.gif", ".png")).is_file()
    with Image.open(gifs[0]) as gif:
        durations = []
        for frame in range(gif.n_frames):
            gif.seek(frame)
            durations.append(gif.info["duration"])
        # -3 std to +3 std and back: 16 steps of 120 ms (Pillow merges identical neighbours)
        assert gif.is_animated and sum(durations) == (2 * 9 - 2) * 120
    page = next((golden_analysis / "runs").glob("*.html")).read_text()
    assert f"../figures/{gifs[0].name}" in page and "Latent traversals" in page
    saved = json.loads((golden_analysis / "metrics.json").read_text())
    traversal = next(iter(saved["runs"].values()))["traversals"]
    assert traversal["n_steps"] == 9 and len(traversal["image_change"]) == 3


def test_an_old_name_or_format_is_one_line_naming_it(tmp_path):
    """No shims: a run whose config names an old class path, an old override key and snapshots of an
    older format each fail in one line that names what is old."""
    from heatmap_latent.analysis.loading import RunLoadError, load_run
    from heatmap_latent.training.preflight import check_overrides
    from heatmap_latent.training.snapshots import DIRNAME, INDEX, SnapshotError, read_index

    run = tmp_path / "old"
    shutil.copytree(GOLDEN_RUN, run)
    config = run / ".hydra" / "config.yaml"
    old = "heatmap_latent.models.schedules.lr_scheduler"  # the scheduler.kind factory before the layers
    config.write_text(config.read_text().replace("torch.optim.lr_scheduler.ReduceLROnPlateau", old))
    with pytest.raises(RunLoadError) as refused:
        load_run(run)
    assert f"model.scheduler._target_={old} is not a class this project configures" in str(refused.value)
    assert "\n" not in str(refused.value)
    with pytest.raises(SystemExit) as key:
        check_overrides("analyze", ["compare=[/tmp/a]"], "analyze.py")  # study= since 0.1
    line = str(key.value.code)  # sys.exit(message): printed to stderr, exit status 1
    assert "\n" not in line and line.startswith("analyze.py: error: Could not override 'compare'")
    (run / DIRNAME).mkdir()
    index = {"format": "heatmap-latent-snapshots", "version": 2, "snapshots": []}
    (run / DIRNAME / INDEX).write_text(json.dumps(index))
    with pytest.raises(SnapshotError, match="holds snapshots of format version 2; this heatmap-latent reads version 3"):
        read_index(run)
