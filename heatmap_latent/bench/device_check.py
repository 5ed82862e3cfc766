"""One prepared device check: ``python -m heatmap_latent.bench --device-check OUT [--dry-run]``.

On a machine with a CUDA GPU it runs, in one call and within 10 minutes: the GPU tests, the
roofline bench, a default ``train.py`` run on the GPU, a one-seed study (4 runs), the training
loader's batches per second on dSprites by loader processes, and a slice of the field's benchmark
run (``experiment=dlib`` on dSprites: its steps per second and the 300,000-step budget's time at
that rate), and writes ``OUT/device_check.json`` with the machine and every step's command, exit
status, wall time and figures. It is rewritten (atomically) after each step, so a check cut short
still returns what it measured. Without a GPU, or with ``--dry-run``, the same steps run at toy size
on the CPU (the GPU tests collected, not run; a tiny grid; one epoch) so that the script itself is
tested where no GPU is (``tests/test_bench.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.conf import CONF_DIR
from heatmap_latent.core.precision import describe_machine, machine

ROOT = CONF_DIR.parent  # where train.py and tests/ are
# the whole check fits the device tool's 10 minutes per call
BUDGET_S = {"gpu_tests": 130, "roofline": 80, "default_run": 110, "study": 140, "loader": 30, "dlib_slice": 90}
# the slice of disentanglement_lib's budget (experiment=dlib: 300,000 steps) the check trains
DLIB_SLICE_STEPS, DLIB_FULL_STEPS = 1500, 300000
# loader processes for the slice: half the cores (8 of the lent machine's 16; --loader measures them)
DLIB_LOADER_WORKERS = max(1, (os.cpu_count() or 2) // 2)
TINY = ["data.grid.size=12", "data.var.step=1.0", "data.rho.step=0.5", "data.batch_size=16", "data.val_fraction=0"]


@dataclasses.dataclass
class Step:
    name: str
    argv: list[str]
    figures: Any  # (out_dir) -> dict of figures read from what the step wrote


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _job(path: Path) -> dict[str, Any]:
    record = _json(path / "job.json")
    keep = ("test/frobenius", "best_val_loss", "fit_seconds", "epochs")
    return {
        "status": record.get("status"),
        "precision": record.get("precision"),
        "metrics": {k: v for k, v in record.get("metrics", {}).items() if k in keep},
    }


def _study(path: Path) -> dict[str, Any]:
    jobs = sorted(p for p in path.iterdir() if (p / "job.json").is_file()) if path.is_dir() else []
    return {p.name: _job(p) for p in jobs}


def _slice(path: Path, full_steps: int = DLIB_FULL_STEPS) -> dict[str, Any]:
    """Steps per second of the slice (its steps over its fit time, the start-up and first steps
    included) and the full budget's time at that rate."""
    job = _job(path)
    record = _json(path / "job.json").get("metrics", {})
    steps, seconds = record.get("steps"), record.get("fit_seconds")
    if steps and seconds:
        rate = float(steps) / float(seconds)
        job |= {"steps": steps, "steps_per_s": round(rate, 2), "full_budget_hours": round(full_steps / rate / 3600, 2)}
    return job


def steps(out: Path, dry_run: bool) -> list[Step]:
    py = sys.executable
    tiny = [*TINY, "trainer.max_epochs=1", "logger=none"] if dry_run else []
    collect = ["--collect-only"] if dry_run else []
    quick = ["--quick"] if dry_run else []
    trainer = "trainer=cpu" if dry_run else "trainer=gpu"
    return [
        Step(
            "gpu_tests",
            # -n0: one process on the one GPU (the suite's addopts start an xdist worker per CPU)
            [py, "-m", "pytest", "tests/test_gpu.py", "-q", "-n0", "-p", "no:cacheprovider", *collect],
            lambda o: {},
        ),
        Step(
            "roofline",
            [py, "-m", "heatmap_latent.bench", "--roofline", "--json", str(out / "roofline.json"), *quick],
            lambda o: _json(o / "roofline.json"),
        ),
        Step(
            "default_run",
            [py, "train.py", trainer, *tiny, f"hydra.run.dir={out / 'default_run'}"],
            lambda o: _job(o / "default_run"),
        ),
        Step(
            "study",
            [py, "train.py", "-m", "experiment=study", "seed=1", trainer, *tiny, f"hydra.sweep.dir={out / 'study'}"],
            lambda o: _study(o / "study"),
        ),
        Step(
            "loader",
            # dSprites' batches per second by loader processes: what bounds the slice below apart from the GPU
            [py, "-m", "heatmap_latent.bench", "--json", str(out / "loader.json"), *quick, "--loader", "data=dsprites"],
            lambda o: _json(o / "loader.json"),
        ),
        Step(
            "dlib_slice",
            # a slice of the field's benchmark run (experiment=dlib, the VAE on the procedural dSprites)
            [
                py,
                "train.py",
                "experiment=dlib",
                "model.beta=1",
                "data=dsprites",
                trainer,
                f"trainer.max_steps={3 if dry_run else DLIB_SLICE_STEPS}",
                # dSprites is drawn per batch, 0.5 ms an image on a core: loader processes keep the GPU fed
                f"data.num_workers={1 if dry_run else DLIB_LOADER_WORKERS}",
                "+trainer.limit_val_batches=1",
                "test=false",
                "logger=none",
                f"hydra.run.dir={out / 'dlib_slice'}",
            ],
            lambda o: _slice(o / "dlib_slice"),
        ),
    ]


def run(out: Path, dry_run: bool) -> dict[str, Any]:
    """Every step in turn, each under its share of the budget; ``OUT/device_check.json`` after each."""
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "dry_run": dry_run, "steps": {}}
    print(f"device check on {describe_machine(report['machine'])}{' (dry run)' if dry_run else ''}", flush=True)
    for step in steps(out, dry_run):
        start = time.perf_counter()
        try:
            done = subprocess.run(step.argv, cwd=ROOT, capture_output=True, text=True, timeout=BUDGET_S[step.name])
            rc, tail = done.returncode, (done.stdout + done.stderr)[-2000:]
        except subprocess.TimeoutExpired as err:
            rc, tail = 124, f"timed out after {BUDGET_S[step.name]} s: {str(err.stdout or '')[-1500:]}"
        wall = time.perf_counter() - start
        report["steps"][step.name] = {
            "argv": step.argv[1:],
            "rc": rc,
            "wall_s": round(wall, 2),
            "figures": step.figures(out),
            "output_tail": tail,
        }
        print(f"  {step.name}: rc {rc} in {wall:.1f} s", flush=True)
        write_atomic(out / "device_check.json", json.dumps(report, indent=2, default=str))
    return report
