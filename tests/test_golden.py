"""Behaviour kept: today's code analyses, loads and resumes a run written before the restructuring,
and gives the same numbers and figures as the code that wrote it (``tests/golden.py``)."""

import json
import shutil

import pytest
import torch

from tests.conftest import run_train
from tests.golden import GOLDEN, LEGACY_RUN, assert_close, summarise
from tests.test_study import analyze_in_process


@pytest.fixture(scope="module")
def legacy_analysis(tmp_path_factory):
    out = tmp_path_factory.mktemp("legacy_analysis")
    analyze_in_process(out, f"run={LEGACY_RUN}")
    return out


def test_the_legacy_run_analyses_to_the_golden_metrics(legacy_analysis):
    metrics, _ = summarise(legacy_analysis)
    assert_close(metrics, json.loads((GOLDEN / "metrics.json").read_text()), "metrics")


def test_the_legacy_run_draws_the_golden_figures(legacy_analysis):
    _, figures = summarise(legacy_analysis)
    golden = json.loads((GOLDEN / "figures.json").read_text())
    assert sorted(figures) == sorted(golden)
    for name, expected in golden.items():
        assert figures[name]["shape"] == expected["shape"], name
        diff = torch.tensor(figures[name]["cells"]) - torch.tensor(expected["cells"])
        assert diff.abs().max() < 0.02, f"{name}: thumbnails differ by {diff.abs().max():.3f}"


def test_the_legacy_run_resumes_with_todays_code(tmp_path):
    run = tmp_path / "legacy_run"
    shutil.copytree(LEGACY_RUN, run)
    run_train(f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "trainer.max_epochs=4", tiny=False)
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 3  # trained one more epoch on top of the legacy run's three
    assert json.loads((run / "job.json").read_text())["status"] == "completed"


def test_the_kl_per_dimension_of_the_analysis_is_the_one_training_logged(legacy_analysis):
    """The legacy run validated on its test split: its job.json's test/kl_dim<i> at the best checkpoint
    are what the analysis recomputes from the posterior (closed form, no sampling)."""
    metrics = next(iter(json.loads((legacy_analysis / "metrics.json").read_text())["runs"].values()))
    logged = json.loads((LEGACY_RUN / "job.json").read_text())["metrics"]
    kl = metrics["latent_usage"]["kl"]["per_dim"]
    assert kl == pytest.approx([logged[f"test/kl_dim{i}"] for i in range(3)], rel=1e-4)
    assert metrics["latent_usage"]["n_collapsed"] == 3  # three epochs: every dimension still collapsed
    assert metrics["run"]["protocol"] == "validation on the test split (the seed study's protocol)"
