"""Time to a converged model: ``python -m heatmap_latent.bench --time-to-quality [--json F]``.

For the default VAE and AE on gaussian: train with the default recipe to early stopping (on the
held-out validation split) and record the test error it reaches (``E_ref``, mean Frobenius of the
best checkpoint on the test split) and the wall time; then train with each faster recipe until its
*validation* error reaches ``E_ref`` and record that wall time, or its own final error if it never
does. Its error is the *test* error of the weights that reached E_ref (of the checkpoint with the
lowest val/loss when it never does): validation decides when to stop, the test split only scores.
Where the time of an epoch goes (training steps, validation, callbacks, checkpoint writes) comes
from Lightning's ``SimpleProfiler``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from heatmap_latent.core.conf import CONF_DIR, compose_config
from heatmap_latent.core.precision import describe_machine, fastest_precision
from heatmap_latent.models.losses import frobenius_error
from heatmap_latent.training import train

ROOT = CONF_DIR.parent  # where train.py is
RECIPES = {"default": ["recipe=default"], "fast": ["recipe=fast"]}
MODELS = ("vae", "ae")


class ReachTarget(pl.Callback):
    """Records the wall time from fit start to the first validation with ``val/frobenius <= target``
    and stops training there; ``reached_error`` is then those weights' mean Frobenius error on the
    test split (after the clock stopped)."""

    def __init__(self, target: float | None) -> None:
        self.target, self.reached_s, self.reached_epoch, self.reached_error = target, None, None, None
        self.reached_val_error: float | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        value = trainer.callback_metrics.get("val/frobenius")
        if trainer.sanity_checking or self.target is None or value is None or self.reached_s is not None:
            return
        if float(value) <= self.target:
            self.reached_s = time.perf_counter() - self.start
            self.reached_epoch = trainer.current_epoch + 1
            self.reached_val_error = float(value)
            self.reached_error = test_error(pl_module, trainer.datamodule)
            trainer.should_stop = True


def test_error(model: pl.LightningModule, datamodule: Any) -> float:
    """Mean Frobenius error of ``model``'s reconstructions of the test split, as train() tests it."""
    images = datamodule.images[torch.as_tensor(datamodule.test_idx)]
    recons = model.decode_batched(model.embed(images))
    return float(frobenius_error(recons, images).mean())


class WallSplit(pl.Callback):
    """Per-epoch seconds of training steps, validation, callbacks and checkpoint writes, summed from
    the ``SimpleProfiler``'s recorded durations at the end of fitting."""

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        durations: dict[str, list[float]] = getattr(trainer.profiler, "recorded_durations", {})
        split = {"train_steps": 0.0, "validation": 0.0, "callbacks": 0.0, "checkpoint_writes": 0.0}
        for action, times in durations.items():
            total = sum(times)
            if action == "run_training_batch":
                split["train_steps"] += total
            elif action.endswith(".validation_step") or action.endswith("val_next"):
                split["validation"] += total
            elif action == "save_checkpoint":
                split["checkpoint_writes"] += total
            elif action.startswith("[Callback]") and "ModelCheckpoint" not in action and "Progress" not in action:
                split["callbacks"] += total
        epochs = max(1, trainer.current_epoch)
        self.per_epoch = {k: v / epochs for k, v in split.items()}


def _config(model: str, recipe: list[str], out: Path, extra: list[str]):
    return compose_config(
        "train",
        [
            f"model={model}",
            *recipe,
            f"paths.output_dir={out}",
            "+trainer.profiler=simple",
            *extra,
        ],
    )


def run_recipe(model: str, recipe: list[str], target: float | None, extra: list[str]) -> dict[str, Any]:
    reach, split = ReachTarget(target), WallSplit()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = _config(model, recipe, Path(tmp), extra)
        start = time.perf_counter()
        metrics = train(cfg, extra_callbacks=[reach, split])
        wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "to_target_s": reach.reached_s,
        "reached_epoch": reach.reached_epoch,
        "epochs": metrics["epochs"],
        # the test error of the weights whose validation error reached E_ref: what reaching it means
        "reached_error": reach.reached_error,
        "reached_val_error": reach.reached_val_error,
        # of the checkpoint with the lowest val/loss, as train() tests it; for a VAE that choice
        # is noisy near convergence (val/loss moves by ~0.01% while the error moves by 10%)
        "test_error": metrics["test/frobenius"],
        "epoch_split_s": getattr(split, "per_epoch", {}),
    }


def time_to_quality(extra: list[str] = (), seeds: list[int] | None = None) -> dict[str, Any]:
    """The bench's figures; ``extra`` overrides apply to every run (e.g. a tiny grid in tests).

    With ``seeds``, each seed trains all four runs (its own split, initialisation and E_ref), and the
    top-level figures are medians over the seeds beside their per-seed values: one default run
    decides E_ref and the default's wall time, and the speed-up moved by 2x between seeds (README).
    """
    out: dict[str, Any] = {"runs": {}}
    per_seed: list[dict[str, Any]] = []
    for seed in seeds or [None]:
        seed_extra = [*extra] + ([f"seed={seed}"] if seed is not None else [])
        suffix = f"/seed{seed}" if seed is not None else ""
        runs = {}
        for model in MODELS:
            runs[f"{model}/default"] = ref = run_recipe(model, RECIPES["default"], None, seed_extra)
            print_run(f"{model}/default{suffix}", ref)
            for name, recipe in RECIPES.items():
                if name != "default":
                    runs[f"{model}/{name}"] = run = run_recipe(model, recipe, ref["test_error"], seed_extra)
                    print_run(f"{model}/{name}{suffix}", run)
        out["runs"].update({f"{key}{suffix}": run for key, run in runs.items()})
        per_seed.append(seed_figures(runs))
    for key in ("ttq_default_s", "ttq_fast_s"):
        out[key] = {m: statistics.median(f[key][m] for f in per_seed) for m in MODELS}
    for key in ("ttq_speedup", "ttq_error_ratio"):
        out[key] = statistics.median(f[key] for f in per_seed)
        if seeds:
            out[f"{key}_per_seed"] = dict(zip(seeds, (f[key] for f in per_seed)))
    out["epochs"] = {k: v["epochs"] for k, v in out["runs"].items()}
    out["epoch_split_s"] = {k: v["epoch_split_s"] for k, v in out["runs"].items()}
    return out


def seed_figures(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One seed's figures from its ``<model>/<recipe>`` runs: the speed-up is the smaller of the VAE's
    and the AE's, the error ratio the larger."""
    default = {m: runs[f"{m}/default"]["wall_s"] for m in MODELS}
    fast = {m: runs[f"{m}/fast"]["to_target_s"] or runs[f"{m}/fast"]["wall_s"] for m in MODELS}
    return {
        "ttq_default_s": default,
        "ttq_fast_s": fast,
        "ttq_speedup": min(default[m] / fast[m] for m in MODELS),
        "ttq_error_ratio": max(final_error(runs[f"{m}/fast"]) / runs[f"{m}/default"]["test_error"] for m in MODELS),
    }


def final_error(run: dict[str, Any]) -> float:
    """A faster recipe's final error: that of the weights that reached E_ref, else its test error."""
    return run["reached_error"] if run["reached_error"] is not None else run["test_error"]


def time_study(recipe: list[str], seed: int = 1) -> float:
    """Wall seconds of ``train.py -m experiment=study seed=<seed> <recipe>`` (4 runs, one at a time)."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "train.py", "-m", "experiment=study", f"seed={seed}", *recipe, f"hydra.sweep.dir={tmp}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def print_run(key: str, run: dict[str, Any]) -> None:
    """One run's line, printed as soon as it ends (a bench cut short still shows what it measured)."""
    reached = ""
    if run["to_target_s"]:
        reached = f", reached E_ref at epoch {run['reached_epoch']} in {run['to_target_s']:.1f} s"
        if run["reached_error"] is not None:
            reached += f" with error {run['reached_error']:.4f}"
    split = ", ".join(f"{k} {v:.2f}" for k, v in run["epoch_split_s"].items())
    print(
        f"  {key:<12} {run['wall_s']:7.1f} s, {run['epochs']:.0f} epochs, test error {run['test_error']:.4f}"
        f"{reached}; per epoch: {split}",
        flush=True,
    )


def report(figures: dict[str, Any]) -> None:
    print("\ntime to quality (default recipe to early stopping; fast recipe to the default's test error)")
    for key, run in figures["runs"].items():
        print_run(key, run)
    print(
        f"  ttq_speedup {figures['ttq_speedup']:.2f}x, ttq_error_ratio {figures['ttq_error_ratio']:.3f} "
        f"on {describe_machine()} (the fast recipe trains in {fastest_precision('auto').precision} here)"
    )
    if "ttq_speedup_per_seed" in figures:
        print(
            "  (medians over seeds) per seed: "
            + ", ".join(
                f"seed {s}: {x:.2f}x, {figures['ttq_error_ratio_per_seed'][s]:.3f}"
                for s, x in figures["ttq_speedup_per_seed"].items()
            )
        )
    for key in ("study_default_s", "study_fast_s"):
        if key in figures:
            print(f"  {key} {figures[key]:.0f} s")
