"""A recipe chosen on validation error only: ``python -m heatmap_latent.bench --recipe-choice SWEEP SWEEP ...``.

Each SWEEP is a ``train.py -m`` sweep of one recipe over seeds (the same model, data and seeds in
each). A run's error is its validation Frobenius error at the epoch of its best checkpoint (the
lowest ``val/loss``, which is what ``callbacks.model_checkpoint`` keeps and the test scores), read
from the run's TensorBoard event files; its test error is printed beside it and never decides.

The rule, fixed before the comparison was run: the preferred recipe (``--prefer``, the cheaper one)
is chosen unless another recipe's mean validation error over the seeds is lower by more than
``--tolerance`` (0.005, claim 1's minimum effect: about 2% of a converged model's error), in which
case the recipe with the lowest mean is chosen.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from heatmap_latent.core.errors import UserError

MONITOR = "val/loss"  # what the checkpoint callback keeps (conf/callbacks/default.yaml)
METRIC = "val/frobenius"
TOLERANCE = 0.005


@dataclass(frozen=True)
class RunError:
    job: str
    recipe: str  # the job's recipe= override ("default" without one)
    seed: int
    val_error: float  # METRIC at the epoch with the lowest MONITOR
    best_step: int
    test_error: float | None
    epochs: int | None
    fit_seconds: float | None


def _scalars(events: EventAccumulator, tag: str) -> dict[int, float]:
    # a resumed run repeats steps in a second event file: the later value wins
    return {e.step: e.value for e in events.Scalars(tag)}


def run_error(job: Path, monitor: str = MONITOR, metric: str = METRIC) -> RunError:
    """The validation error of one completed job of a sweep, at its best checkpoint's epoch."""
    record_path = job / "job.json"
    try:
        record = json.loads(record_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"{record_path}: not a readable job record ({err})") from None
    if record.get("status") != "completed":
        raise UserError(f"{job}: the job did not complete (status {record.get('status')!r})")
    logs = job / "tensorboard"
    tags: list[str] = []
    if logs.is_dir():  # TensorBoard raises on a folder that is gone
        events = EventAccumulator(str(logs), size_guidance={"scalars": 0})
        events.Reload()
        tags = events.Tags().get("scalars", [])
    missing = [t for t in (monitor, metric) if t not in tags]
    if missing:
        raise UserError(f"{logs}: no {', '.join(missing)} in the TensorBoard events (train with logger=tensorboard)")
    monitored, measured = _scalars(events, monitor), _scalars(events, metric)
    best_step = min((step for step in monitored if step in measured), key=lambda s: (monitored[s], s))
    metrics = record.get("metrics") or {}
    overrides = dict(o.partition("=")[::2] for o in record.get("overrides", []))
    seed = overrides.get("seed")
    if seed is None:
        raise UserError(f"{record_path}: no seed= override; the comparison pairs runs by seed")
    return RunError(
        job=str(job),
        recipe=overrides.get("recipe", "default"),
        seed=int(seed),
        val_error=measured[best_step],
        best_step=best_step,
        test_error=metrics.get("test/frobenius"),
        epochs=None if metrics.get("epochs") is None else int(metrics["epochs"]),
        fit_seconds=metrics.get("fit_seconds"),
    )


def sweep_errors(sweep: Path) -> list[RunError]:
    """Every job of a sweep (its numbered sub-folders with a ``job.json``), in seed order."""
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and (p / "job.json").exists()) if sweep.is_dir() else []
    if not jobs:
        raise UserError(f"{sweep}: no job records (job.json) in this folder; is it a train.py -m sweep?")
    return sorted((run_error(job) for job in jobs), key=lambda r: r.seed)


def choose(sweeps: dict[str, list[RunError]], prefer: str, tolerance: float = TOLERANCE) -> dict:
    """The rule of this module's docstring over ``{recipe: runs}``; the figures and the choice."""
    if prefer not in sweeps:
        raise UserError(f"--prefer {prefer!r} is none of the recipes compared ({', '.join(sweeps)})")
    seeds = {name: [r.seed for r in runs] for name, runs in sweeps.items()}
    if len({tuple(s) for s in seeds.values()}) != 1:
        raise UserError(f"the sweeps do not train the same seeds: {seeds}")
    figures = {}
    for name, runs in sweeps.items():
        vals = [r.val_error for r in runs]
        tests = [r.test_error for r in runs if r.test_error is not None]
        figures[name] = {
            "seeds": [r.seed for r in runs],
            "val_error": vals,
            "val_mean": statistics.fmean(vals),
            "val_std": statistics.stdev(vals) if len(vals) > 1 else 0.0,
            "test_error": tests,
            "test_mean": statistics.fmean(tests) if tests else None,
            "epochs": [r.epochs for r in runs],
            "fit_seconds": [r.fit_seconds for r in runs],
        }
    best = min(figures, key=lambda n: figures[n]["val_mean"])
    gain = figures[prefer]["val_mean"] - figures[best]["val_mean"]
    chosen = best if gain > tolerance else prefer
    return {"recipes": figures, "prefer": prefer, "tolerance": tolerance, "lowest": best, "chosen": chosen}


def report(result: dict) -> None:
    print(f"| recipe | seeds | {METRIC} at the best {MONITOR} | mean ± std | test error (mean) | epochs | fit s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, f in result["recipes"].items():
        fits = [s for s in f["fit_seconds"] if s is not None]
        test = "-" if f["test_mean"] is None else f"{f['test_mean']:.4f}"
        print(
            f"| {name} | {','.join(map(str, f['seeds']))} | {', '.join(f'{v:.4f}' for v in f['val_error'])} "
            f"| {f['val_mean']:.4f} ± {f['val_std']:.4f} | {test} "
            f"| {min(f['epochs'], default=0)}-{max(f['epochs'], default=0)} "
            f"| {min(fits, default=0):.0f}-{max(fits, default=0):.0f} |"
        )
    print(
        f"chosen: {result['chosen']} (lowest mean validation error: {result['lowest']}; "
        f"{result['prefer']} is kept unless another is lower by more than {result['tolerance']})"
    )


def recipe_choice(sweeps: list[Path], prefer: str, tolerance: float = TOLERANCE) -> dict:
    """The runs of ``sweeps`` grouped by their ``recipe=`` override, compared by :func:`choose`."""
    named: dict[str, list[RunError]] = {}
    for run in (run for sweep in sweeps for run in sweep_errors(sweep)):
        named.setdefault(run.recipe, []).append(run)
    if len(named) < 2:
        raise UserError(f"--recipe-choice needs runs of two or more recipes; found only {', '.join(named)}")
    return choose({name: sorted(runs, key=lambda r: r.seed) for name, runs in named.items()}, prefer, tolerance)
