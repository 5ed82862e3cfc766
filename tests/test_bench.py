"""The time-to-quality bench on a tiny grid: its figures are computed from real runs."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from heatmap_latent.bench.time_to_quality import MODELS, time_to_quality
from heatmap_latent.models.losses import frobenius_error
from tests.conftest import TINY_DATA


@pytest.mark.slow
@pytest.mark.parametrize("seeds", [None, [1, 2]])
def test_time_to_quality_reports_every_figure_from_real_runs(capsys, seeds):
    figures = time_to_quality(
        [*TINY_DATA, "trainer.max_epochs=3", "logger=none", "callbacks.early_stopping.patience=1"], seeds=seeds
    )
    per_seed = []
    for suffix in [f"/seed{s}" for s in seeds] if seeds else [""]:
        default, fast, errors = {}, {}, {}
        for model in MODELS:
            ref, run = figures["runs"][f"{model}/default{suffix}"], figures["runs"][f"{model}/fast{suffix}"]
            assert ref["to_target_s"] is None and ref["epochs"] <= 3  # the default recipe sets E_ref
            if run["to_target_s"] is not None:  # stopped at the validation epoch that reached E_ref
                assert run["to_target_s"] <= run["wall_s"] and run["epochs"] == run["reached_epoch"]
                assert run["reached_val_error"] <= ref["test_error"] and run["reached_error"] > 0  # its test error
            else:
                assert run["reached_error"] is None and run["reached_val_error"] is None
            assert set(ref["epoch_split_s"]) == {"train_steps", "validation", "callbacks", "checkpoint_writes"}
            assert ref["epoch_split_s"]["train_steps"] > 0 and ref["epoch_split_s"]["checkpoint_writes"] > 0
            default[model], fast[model] = ref["wall_s"], run["to_target_s"] or run["wall_s"]
            errors[model] = (run["reached_error"] or run["test_error"]) / ref["test_error"]
        per_seed.append((default, fast, min(default[m] / fast[m] for m in MODELS), max(errors.values())))
    for model in MODELS:
        assert figures["ttq_default_s"][model] == pytest.approx(statistics.median(d[model] for d, *_ in per_seed))
        assert figures["ttq_fast_s"][model] == pytest.approx(statistics.median(f[model] for _, f, *_ in per_seed))
    assert figures["ttq_speedup"] == pytest.approx(statistics.median(p[2] for p in per_seed))
    assert figures["ttq_error_ratio"] == pytest.approx(statistics.median(p[3] for p in per_seed))
    if seeds:  # each seed its own split and E_ref; the per-seed figures beside the medians
        assert figures["ttq_speedup_per_seed"] == pytest.approx(dict(zip(seeds, (p[2] for p in per_seed))))
        assert figures["runs"]["vae/default/seed1"]["test_error"] != figures["runs"]["vae/default/seed2"]["test_error"]
    else:
        assert "ttq_speedup_per_seed" not in figures
    printed = capsys.readouterr().out.splitlines()  # each run's line as it ends, before the summary
    assert [line.split()[0] for line in printed if line.startswith("  ") and " epochs" in line] == list(figures["runs"])


def test_bench_rejects_a_bad_seed_list():
    from heatmap_latent.bench.__main__ import seed_list

    assert seed_list("1,2") == [1, 2]
    with pytest.raises(argparse.ArgumentTypeError, match="integers separated by commas.*'1,x'"):
        seed_list("1,x")


def test_reach_target_stops_at_the_first_epoch_at_or_below_the_target(make_cfg):
    from heatmap_latent.bench.time_to_quality import ReachTarget
    from heatmap_latent.training import train

    reach = ReachTarget(target=1e9)  # any error reaches it
    cfg = make_cfg("trainer.max_epochs=5", "logger=none", "data.val_fraction=0.2", "test=false")
    metrics = train(cfg, extra_callbacks=[reach])
    assert reach.reached_epoch == 1 and metrics["epochs"] == 1 and reach.reached_s > 0
    # validation decided when to stop; the error it reports is the test split's, of the same weights
    assert reach.reached_val_error == pytest.approx(metrics["val/frobenius"])
    model = instantiate(cfg.model)
    model.load_state_dict(
        torch.load(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    )
    dm = instantiate(cfg.data)
    dm.setup()
    assert set(dm.val_idx).isdisjoint(dm.test_idx)
    images = dm.images[torch.as_tensor(dm.test_idx)]
    with torch.no_grad():
        expected = frobenius_error(model.eval().reconstruct(images), images).mean()
    assert reach.reached_error == pytest.approx(float(expected), rel=1e-5)
    assert reach.reached_error != pytest.approx(reach.reached_val_error, rel=1e-6)


def test_roofline_counts_the_steps_flops_and_divides_by_a_measured_peak():
    from heatmap_latent.bench import roofline
    from heatmap_latent.core.precision import fastest_precision

    figures = roofline.step_figures(TINY_DATA, steps=2, batch_size=16, peak_size=256)
    assert figures["device"] in ("cpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")
    where = fastest_precision("auto")
    assert figures["hardware"] == where.hardware and figures["native_bf16"] == where.native_bf16
    fp32, bf16 = figures["fp32"], figures["bf16"]
    assert fp32["flops_per_step"] == bf16["flops_per_step"] > 0  # the count does not depend on the precision
    assert fp32["native"] and bf16["native"] == where.native_bf16
    # the arithmetic of the figures, not the machine: an emulated bf16 matmul is no peak, and a tiny
    # step may beat it (10x on an AVX2 CPU), so the fraction is only positive
    for f in (fp32, bf16):
        assert f["gflops"] == pytest.approx(f["flops_per_step"] / f["step_s"] / 1e9)
        assert f["fraction_of_peak"] == pytest.approx(f["gflops"] / f["peak_gflops"]) and f["fraction_of_peak"] > 0
    # a training step is a forward and a backward (about twice the forward): about 3 forward passes
    from hydra.utils import instantiate
    from torch.utils.flop_counter import FlopCounterMode

    from heatmap_latent.core.conf import compose_config

    cfg = compose_config("train", ["paths.output_dir=.", *TINY_DATA])
    model = instantiate(cfg.model)
    with FlopCounterMode(display=False) as forward:
        model.loss_terms(torch.rand(16, 1, 12, 12))
    assert 2.5 < fp32["flops_per_step"] / forward.get_total_flops() < 3.5


@pytest.mark.slow  # four subprocesses (pytest, the bench, train.py, a 4-job sweep) at toy size
def test_the_device_check_dry_run_runs_every_step_and_writes_one_json(tmp_path):
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "heatmap_latent.bench", "--device-check", str(tmp_path), "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert report["dry_run"] is True and report["machine"]["cpu_capability"]
    assert list(report["steps"]) == ["gpu_tests", "roofline", "default_run", "study", "loader", "dlib_slice"]
    assert all(step["rc"] == 0 and step["wall_s"] > 0 for step in report["steps"].values())
    assert "tests/test_gpu.py" in report["steps"]["gpu_tests"]["output_tail"]  # collected, not run
    roof = report["steps"]["roofline"]["figures"]
    assert roof["default"]["fp32"]["flops_per_step"] > 0 and roof["machine"]["cpu"]
    assert report["steps"]["default_run"]["figures"]["status"] == "completed"
    study = report["steps"]["study"]["figures"]
    assert len(study) == 4 and all(job["status"] == "completed" for job in study.values())
    rates = report["steps"]["loader"]["figures"]["batches_per_s"]
    assert set(rates) == {"0", "1"} and all(r > 0 for r in rates.values())  # --quick: 0 and 1 worker
    # the benchmark's slice: its rate and the 300,000-step budget's time at that rate
    cut = report["steps"]["dlib_slice"]["figures"]
    assert cut["status"] == "completed" and cut["steps"] == 3 and cut["steps_per_s"] > 0
    assert cut["full_budget_hours"] == pytest.approx(300000 / cut["steps_per_s"] / 3600, rel=0.01)
    from omegaconf import OmegaConf

    assert OmegaConf.load(tmp_path / "dlib_slice" / ".hydra" / "config.yaml").data.num_workers == 1  # drawn apart


def test_the_loader_bench_times_the_training_loader_by_its_worker_count(capsys):
    from heatmap_latent.bench import loader

    assert loader.worker_counts(16) == [0, 1, 2, 4, 8, 16] and loader.worker_counts(2) == [0, 1, 2]
    figures = loader.loader_rates(["data=sprites", "data.batch_size=16"], [0, 1], batches=3)
    assert figures["batch_size"] == 16 and set(figures["batches_per_s"]) == {"0", "1"}
    assert all(rate > 0 for rate in figures["batches_per_s"].values())
    loader.report(figures)
    assert "num_workers=1:" in capsys.readouterr().out
    from heatmap_latent.core.errors import UserError

    with pytest.raises(UserError, match="Could not find 'data/nope'; options: dsprites"):
        loader.loader_rates(["data=nope"], [0])
