"""A dataset of the user's own (tests/own_dataset.py, tests/own_conf/data/bars.yaml), without a line of
the package changed: it declares its factors, is trusted by the entry-point group or the config's
allow-list, trains with train.py and is analysed by analyze.py."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from heatmap_latent.analysis.loading import RunLoadError, load_config, load_run
from heatmap_latent.data.plugins import ENTRY_POINT_GROUP, registered_datasets
from tests.browser import needs_chromium, open_page
from tests.conftest import ROOT, in_process_run, run_analyze, run_train
from tests.own_dataset import BarDataModule

OWN_CONF = ROOT / "tests" / "own_conf"
BARS = [f"hydra.searchpath=[file://{OWN_CONF}]", "data=bars"]
TARGET = "tests.own_dataset.BarDataModule"


def test_the_bars_declare_their_factors_and_the_inverse_reads_every_image_exactly():
    dm = BarDataModule(seed=0)
    dm.setup()
    assert dm.images.shape == (638, 1, 16, 16) and dm.declaration.names == ("left", "width", "top")
    assert dm.declaration.missing("render") is None and dm.declaration.missing("invert") is None
    read = dm.declaration.invert(dm.images.numpy())
    for name in dm.declaration.names:
        np.testing.assert_array_equal(read[name], dm.factors[name])
    again = dm.declaration.render(dm.factors)
    np.testing.assert_array_equal(again, dm.images.numpy())


@pytest.fixture(scope="module")
def bars_run(tmp_path_factory):
    """One epoch on the bars, trained in this process, with the files analyze.py reads."""
    run_dir = tmp_path_factory.mktemp("bars") / "run"
    return in_process_run(run_dir, *BARS, "model=vae", "trainer.max_epochs=1", "logger=none", tiny=False)


def test_a_run_of_an_untrusted_dataset_is_refused_in_one_line_and_loads_once_trusted(bars_run):
    with pytest.raises(RunLoadError) as refused:
        load_config(bars_run)
    message = str(refused.value)
    assert f"data._target_={TARGET} is not a class this project configures" in message and "\n" not in message
    assert ENTRY_POINT_GROUP in message and "trust_datasets" in message  # and says how to trust it
    run = load_run(bars_run, trusted_data=[TARGET])
    assert isinstance(run.datamodule, BarDataModule) and run.model.hparams.image_size == 16


def test_trusting_a_name_does_not_let_a_foreign_class_in(bars_run, tmp_path):
    cfg = OmegaConf.load(bars_run / ".hydra" / "config.yaml")
    cfg.data._target_ = "collections.OrderedDict"  # importable, trusted by name, not a data module
    (tmp_path / ".hydra").mkdir()
    OmegaConf.save(cfg, tmp_path / ".hydra" / "config.yaml")
    with pytest.raises(RunLoadError, match="collections.OrderedDict is not a class this project configures"):
        load_config(tmp_path, trusted_data=["collections.OrderedDict"])


def _install_bars_plugin(folder: Path, monkeypatch) -> None:
    """What pip leaves on ``sys.path`` for a package that declares the bars in its entry points."""
    info = folder / "my_bars-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-bars\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nbars = tests.own_dataset:BarDataModule\n")
    monkeypatch.syspath_prepend(str(folder))


def test_an_installed_package_trusts_its_dataset_by_the_entry_point_group(bars_run, tmp_path, monkeypatch):
    """As pip installs a package that declares ``[project.entry-points."heatmap_latent.datasets"]``:
    its dist-info on ``sys.path`` holds the entry point."""
    _install_bars_plugin(tmp_path, monkeypatch)
    assert registered_datasets()["bars"] == TARGET
    assert load_config(bars_run).data._target_ == TARGET  # no allow-list needed


HEATMAP_WORDS = re.compile(r"var_x|var_y|\brho\b|student_t|\bdf\b|heatmap study|claim|not measured|isovariance")


def test_the_analysis_of_the_bars_has_every_generic_step_and_no_word_of_the_heatmap_study(bars_run, tmp_path):
    from heatmap_latent.analyze import analyze
    from heatmap_latent.core.conf import compose_config

    overrides = [f"output_dir={tmp_path}", f"run={bars_run}", f"trust_datasets=[{TARGET}]", "figures=false"]
    result = analyze(compose_config("analyze", overrides))
    (metrics,) = result["runs"].values()
    assert metrics["disentanglement"]["factors"] == ["left", "width", "top"]
    assert set(metrics["recoverability"]) >= {"left", "width", "top"}
    assert set(metrics["round_trip"]) == {"left", "width", "top"}
    for name in ("left", "width", "top"):
        assert 0 <= metrics["round_trip"][name]["mean"] <= 16
    assert len(metrics["traversals"]["image_change"]) == 3
    # the heatmap study applies to its own datasets only: none of its steps ran, no claim was evaluated
    assert not {"trajectories", "realism", "df_classifier"} & set(metrics)
    assert not {"claims", "claims_rule", "digest", "sensitivity"} & set(result)
    for page in (tmp_path / "report.html", *(tmp_path / "runs").glob("*.html")):
        text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page.read_text(), flags=re.S)
        assert "left" in text and HEATMAP_WORDS.search(text) is None, (page.name, HEATMAP_WORDS.search(text))


@pytest.mark.slow  # two processes: train.py, analyze.py (the refusal without trust: in-process above)
def test_the_bars_train_with_train_py_and_are_analysed_by_analyze_py(tmp_path):
    run_train(*BARS, "trainer.max_epochs=1", "logger=none", f"hydra.run.dir={tmp_path / 'run'}", tiny=False)
    out = tmp_path / "analysis"
    done = run_analyze(f"run={tmp_path / 'run'}", f"trust_datasets=[{TARGET}]", f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr[-2000:]
    (metrics,) = json.loads((out / "metrics.json").read_text())["runs"].values()
    assert set(metrics["round_trip"]) == {"left", "width", "top"}
    (page,) = (out / "runs").glob("*.html")  # the run's page shows every figure of its steps
    html = page.read_text()
    for figure in ("projection_left", "projection_width", "projection_top", "traversals", "examples"):
        assert figure in html and any((out / "figures").glob(f"*_{figure}.png")), figure
    text = re.sub(r"<style>.*?</style>|<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
    assert HEATMAP_WORDS.search(text) is None, HEATMAP_WORDS.search(text)
    assert "factor_declaration" in (out / "explorer.html").read_text()  # and its explorer page


def test_the_data_yaml_is_the_only_config_a_dataset_needs():
    raw = OmegaConf.load(OWN_CONF / "data" / "bars.yaml")
    assert raw._target_ == TARGET and set(raw) == {"_target_", "image_size", "seed"}
    assert Path(sys.modules[BarDataModule.__module__].__file__).parent == ROOT / "tests"


@needs_chromium
def test_the_bars_explorer_page_has_their_factors_and_decodes_and_encodes_as_torch(bars_run, tmp_path):
    from heatmap_latent.explorer import write_explorer

    run = load_run(bars_run, trusted_data=[TARGET])
    page_path = write_explorer(run, tmp_path / "explorer.html")
    latents = run.model.embed(run.datamodule.images).numpy()
    rng = np.random.default_rng(0)
    z = latents[rng.choice(len(latents), 20)] + 0.1 * rng.normal(size=(20, latents.shape[1]))
    images = run.datamodule.images[rng.choice(len(latents), 20)]
    with open_page(page_path) as (page, errors):
        sliders = page.evaluate(
            "Array.from(document.querySelectorAll('#factor-sliders input, #factor-sliders select'), e => e.id)"
        )
        assert sliders == ["factor-left", "factor-width", "factor-top"]  # exactly the declared factors
        colours = page.evaluate("Array.from(document.getElementById('colour').options, o => o.value)")
        assert colours == ["left", "width", "top"]
        got = np.array(page.evaluate("zs => zs.map(z => Array.from(window.heatmapLatent.decode(z)))", z.tolist()))
        want = run.model.decode_batched(z).numpy().reshape(len(z), -1)
        assert np.abs(got - want).max() < 1e-4
        codes = np.array(
            page.evaluate(
                "xs => xs.map(x => Array.from(window.heatmapLatent.encode(x)))", images.reshape(20, -1).tolist()
            )
        )
        assert np.abs(codes - run.model.embed(images).numpy()).max() < 1e-4
        # the page's renderer and inverse are the dataset's own images: a set of factors renders to
        # the dataset's image of them, and that image reads back to the same factors
        f = {"left": 3.0, "width": 2.0, "top": 4.0}
        rendered = np.array(page.evaluate("f => Array.from(window.heatmapLatent.render(f))", f))
        np.testing.assert_array_equal(rendered, run.datamodule.render({k: np.array([v]) for k, v in f.items()}).ravel())
        fit = page.evaluate("x => window.heatmapLatent.fitFactors(Float32Array.from(x))", rendered.tolist())
        assert {k: fit[k] for k in f} == f and fit["realism"] == 0
        page.locator("#factor-width").fill("3")  # the slider's last value: width 4
        page.locator("#factor-width").dispatch_event("input")
        # the others at their middle declared values: left 7 of 0-15, top 5 of 0-10
        want_image = run.datamodule.render({"left": np.array([7.0]), "width": np.array([4.0]), "top": np.array([5.0])})
        shown = np.array(page.evaluate("Array.from(window.heatmapLatent.probes.factorImage)"))
        np.testing.assert_array_equal(shown, want_image.ravel())
        assert "width 4.000" in page.locator("#factor-info").inner_text()
        assert errors == []


def test_the_latent_tab_reads_the_bars_snapshots_once_their_package_declares_them(bars_run, tmp_path, monkeypatch):
    from heatmap_latent.explorer.live import snapshot_data

    with pytest.raises(RunLoadError, match="not a class this project configures"):
        snapshot_data(bars_run)  # TensorBoard passes no allow-list: the entry points only
    _install_bars_plugin(tmp_path, monkeypatch)
    data = snapshot_data(bars_run)
    assert [f["name"] for f in data["factor_declaration"]] == ["left", "width", "top"]
    assert data["domain"] is None and "no dataset images" in data["no_render"] and data["realism_scale"] is None
    assert set(data["factors"]) == {"left", "width", "top"} and data["image_size"] == 16
