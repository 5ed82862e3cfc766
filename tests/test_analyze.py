"""analyze.py end to end on real (tiny) trained runs, and the report in headless Chromium."""

import json
import os
import re
import shutil

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from heatmap_latent.analysis import load_run
from heatmap_latent.analysis.grouping import Role, RunIdentity, group_runs
from heatmap_latent.models.losses import frobenius_error
from heatmap_latent.study.steps import STEPS
from heatmap_latent.training import train
from tests.conftest import run_analyze

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("analyze")

FIGURES = [
    "examples",
    "projection_rho",
    "projection_var_x",
    "projection_var_y",
    "projection_var_x-var_y",
    "path_line_0_2",
    "path_line_0_1",
    "path_circle",
    "path_isovariance_spline",
    "path_bounding_plane_0",
    "path_bounding_plane_1",
    "path_perturbations",
    "path_empty_between_tails",
    "error_hist",
]


def only_run(out):
    """The metrics of the one run of a ``run=`` analysis."""
    runs = json.loads((out / "metrics.json").read_text())["runs"]
    assert len(runs) == 1
    return next(iter(runs.values()))


@pytest.fixture(scope="module")
def single_report(tiny_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    done = run_analyze(f"run={tiny_runs / '0'}", f"output_dir={out}")
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


# analyze.py in a subprocess with figures and an explorer page; tests/test_study.py runs every step in-process
@pytest.mark.slow
def test_analyze_writes_report_figures_and_metrics(single_report):
    out, done = single_report
    n = len(STEPS)
    assert f"[{n}/{n}] k-NN classifier of df" in done.stderr + done.stdout  # progress is shown
    metrics = only_run(out)
    for key in (
        "reconstruction",
        "recoverability",
        "disentanglement",
        "density",
        "realism",
        "trajectories",
        "df_classifier",
    ):
        assert key in metrics
    assert set(metrics["recoverability"]) == {"var_x", "var_y", "rho"}
    assert {"mig", "sap", "dci"} <= set(metrics["disentanglement"])
    assert {"empty_regions", "prior_samples", "reconstructions"} <= set(metrics["realism"])
    assert 0 <= metrics["df_classifier"]["accuracy"] <= 1
    pngs = {p.stem for p in (out / "figures").glob("*.png")}
    assert {f"vae-student_t_0_{name}" for name in FIGURES} <= pngs
    assert "vae-student_t_0_projection_df" in pngs
    html = (out / "report.html").read_text()
    assert not re.search(r"<script[^>]*src=[\"']?https?:", html)  # plotly.js is embedded, not fetched
    assert html.count("plotly.js v") == 1  # once per page
    run_page = (out / "runs" / "vae-student_t_0.html").read_text()
    assert "<script src='../plotly.min.js'>" in run_page and (out / "plotly.min.js").is_file()
    for name in FIGURES:  # every figure of the run on its own page
        assert f"vae-student_t_0_{name}.png" in run_page
    assert not list(out.glob(".staging-*"))


@pytest.mark.slow
def test_metrics_match_an_independent_recomputation(tiny_runs, single_report):
    out, _ = single_report
    metrics = only_run(out)
    run = load_run(tiny_runs / "0")
    images = run.datamodule.images[torch.from_numpy(run.datamodule.test_idx)]
    with torch.no_grad():
        errors = frobenius_error(run.model.reconstruct(images), images).numpy()
    assert metrics["reconstruction"]["mean"] == pytest.approx(errors.mean(), rel=1e-4)
    assert metrics["reconstruction"]["p99"] == pytest.approx(np.quantile(errors, 0.99), rel=1e-4)
    # the decoded strip of a path is what its stored points decode to
    path = metrics["trajectories"]["line_0_2"]
    assert len(path["points"]) == len(path["realism"]) == len(path["nearest_factors"]) == 10


@pytest.mark.slow
def test_a_study_of_a_folder_of_runs_writes_one_report(tiny_runs, tmp_path):
    done = run_analyze(f"study=[{tiny_runs}]", f"output_dir={tmp_path}")
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert sorted(metrics["runs"]) == ["ae-gaussian (1)", "vae-student_t (0)"]
    assert (tmp_path / "figures" / "overview_gaussian_error_hist.png").is_file()
    html = (tmp_path / "report.html").read_text()
    assert "ae-gaussian (1)" in html and "vae-student_t (0)" in html


@pytest.mark.slow  # a subprocess; tests/test_faults.py refuses a missing run in-process
def test_missing_run_fails_cleanly_without_output(tmp_path):
    out = tmp_path / "out"
    done = run_analyze(f"run={tmp_path / 'nope'}", f"output_dir={out}")
    assert done.returncode != 0
    assert "analyze.py: error:" in done.stderr and "does not exist" in done.stderr
    assert not out.exists() or not any(out.iterdir())


def test_best_checkpoint_comes_from_the_callbacks_state_not_file_times(make_cfg, tmp_path):
    from heatmap_latent.analysis.loading import find_checkpoint

    cfg = make_cfg("model=ae", "trainer.max_epochs=4", "logger=none", "callbacks.model_checkpoint.save_top_k=3")
    train(cfg)
    ckpts = sorted(p for p in (tmp_path / "checkpoints").glob("epoch_*.ckpt"))
    assert len(ckpts) == 3
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    recorded = next(v for k, v in state["callbacks"].items() if k.startswith("ModelCheckpoint"))
    best = find_checkpoint(tmp_path, "best")
    assert best.name == os.path.basename(recorded["best_model_path"])
    for i, p in enumerate(sorted(ckpts, key=lambda p: p != best)):  # make the best the OLDEST file
        os.utime(p, (1000 + i, 1000 + i))
    assert find_checkpoint(tmp_path, "best") == best
    scores = {os.path.basename(k): float(v) for k, v in recorded["best_k_models"].items()}
    assert scores[best.name] == min(scores.values())


def test_a_run_is_grouped_by_what_it_is_not_by_its_config_files_name(tiny_runs, tmp_path):
    # conf/model/vae.yaml renamed gauss_vae.yaml, conf/data/student_t.yaml renamed my_t.yaml
    run = tmp_path / "renamed"
    shutil.copytree(tiny_runs / "0", run)
    hydra_yaml = OmegaConf.load(run / ".hydra" / "hydra.yaml")
    hydra_yaml.hydra.runtime.choices.model, hydra_yaml.hydra.runtime.choices.data = "gauss_vae", "my_t"
    OmegaConf.save(hydra_yaml, run / ".hydra" / "hydra.yaml")
    overrides = [o for o in OmegaConf.load(run / ".hydra" / "overrides.yaml") if not o.startswith(("model=", "data="))]
    OmegaConf.save(OmegaConf.create([*overrides, "model=gauss_vae", "data=my_t"]), run / ".hydra" / "overrides.yaml")
    loaded = load_run(run)
    assert (loaded.choices["model"], loaded.choices["data"]) == ("vae", "student_t")
    assert loaded.choices["trainer"] == "default"  # the other choices are Hydra's
    cfg = OmegaConf.to_container(loaded.cfg, resolve=False)
    ae_overrides = tuple("model=ae" if o.startswith("model=") else o for o in loaded.overrides)
    ae = RunIdentity("ae", 1, "ae", "student_t", ae_overrides, {**cfg, "model": {"kind": "ae"}})
    vae = RunIdentity("vae", 1, loaded.choices["model"], loaded.choices["data"], loaded.overrides, cfg)
    groups = group_runs([vae, ae], {"vae": {}, "ae": {}})
    assert [g.role for g in groups] == [Role("vae", "student_t"), Role("ae", "student_t")]
    assert groups[0].label == "vae · student_t · model=gauss_vae"  # the file's name, said where it is not the kind
    assert [g.condition for g in groups] == [{}, {}]  # one condition: the study's claims pair them


def test_runs_named_alike_get_as_much_of_their_path_as_tells_them_apart(tmp_path):
    from types import SimpleNamespace

    from heatmap_latent.analyze import _unique_names

    dirs = [tmp_path / "dose" / "ae" / "0", tmp_path / "placebo" / "ae" / "0", tmp_path / "placebo" / "ae" / "1"]
    runs = [SimpleNamespace(name=f"ae-gaussian ({d.name})", run_dir=d) for d in dirs]
    _unique_names(runs)
    assert [r.name for r in runs] == ["ae-gaussian (dose/ae/0)", "ae-gaussian (placebo/ae/0)", "ae-gaussian (1)"]
    two = [SimpleNamespace(name="vae-gaussian (0)", run_dir=tmp_path / s / "0") for s in ("a", "b")]
    _unique_names(two)
    assert [r.name for r in two] == ["vae-gaussian (a/0)", "vae-gaussian (b/0)"]
