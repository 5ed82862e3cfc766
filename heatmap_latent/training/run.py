"""``train(cfg)``: build everything from a composed Hydra config, fit, test, return the metrics."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf

from heatmap_latent.core.errors import TrainingInterrupted, UserError, WriteError
from heatmap_latent.core.precision import fastest_precision
from heatmap_latent.sweeps import records
from heatmap_latent.sweeps.slurm import slurm_job
from heatmap_latent.training.checkpoint_io import AtomicCheckpointIO

log = logging.getLogger(__name__)

BEST_VAL_METRIC = "hp/best_val_loss"


def build(node: DictConfig, **kwargs: Any) -> Any:
    """``instantiate`` whose failures from bad values become one-line :class:`UserError`s."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as err:
        raise UserError(instantiation_error(err)) from err


def instantiation_error(err: InstantiationException) -> str:
    """Hydra's error with its cause in one line: ``Error loading 'X': ModuleNotFoundError: No module
    named 'X'`` (its first line alone, "Error loading 'X':", hid why)."""
    cause = err.__cause__ or err
    lines = [ln.strip() for ln in str(cause).splitlines() if ln.strip()] or [repr(cause)]
    if len(lines) > 1 and lines[0].endswith(":"):
        inner = cause.__cause__
        reason = f"{type(inner).__name__}: {inner}" if inner is not None else lines[1]
        return f"{lines[0]} {reason}"
    return lines[0]


def check_named(nodes: DictConfig | None, group: str) -> None:
    """Every entry of a group of named nodes (``callbacks``, ``logger``) is ``null`` or names a
    ``_target_``; an entry that only sets values (``callbacks.early_stopping.patience=10`` where the
    chosen callbacks have no ``early_stopping``) is a one-line :class:`UserError`."""
    for name in nodes or {}:
        node = nodes[name]
        if node is None:
            continue
        if not OmegaConf.is_dict(node) or "_target_" not in node:
            keys = ", ".join(f"{group}.{name}.{k}" for k in node) if OmegaConf.is_dict(node) else f"{group}.{name}"
            raise UserError(
                f"{group}.{name} has no _target_: {keys} is set (by a recipe, an experiment or an override) "
                f"but the chosen {group} config has no {name}; add ~{group}.{name} or choose {group} that have it"
            )


def instantiate_named(nodes: DictConfig | None, group: str = "callbacks") -> list[Any]:
    """Instantiate each ``_target_`` node of a dict of named nodes; ``null`` entries are dropped."""
    check_named(nodes, group)
    if not nodes:
        return []
    return [build(node) for node in nodes.values() if node is not None]


# what tells runs apart in TensorBoard's HParams tab (plus every key a sweep varies); the whole
# config stays in the run's .hydra/config.yaml
HPARAM_KEYS = (
    "seed",
    "model.latent_dim",
    "model.beta",
    "model.optimizer.lr",
    "data.batch_size",
    "model.channels",
    "model.hidden_dims",
    "model.activation",
    "trainer.precision",
)


def _swept_keys() -> list[str]:
    if not HydraConfig.initialized():
        return []
    keys = [o.split("=", 1)[0].lstrip("+~") for o in HydraConfig.get().overrides.task]
    return [k for k in keys if not k.startswith(("hydra", "paths", "logger", "callbacks"))]


def run_hparams(cfg: DictConfig) -> dict[str, Any]:
    """The hyperparameters that tell runs apart: model and data by name, the keys above, the overrides."""
    out: dict[str, Any] = {
        "model": str(cfg.model._target_).rsplit(".", 1)[-1],
        "data": str(cfg.data._target_).rsplit(".", 1)[-1].replace("HeatmapDataModule", "").removesuffix("DataModule"),
    }
    for key in dict.fromkeys([*HPARAM_KEYS, *_swept_keys()]):
        value = OmegaConf.select(cfg, key, default=None)
        if value is None or key in ("model", "data"):
            continue
        value = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
        out[key] = str(value) if isinstance(value, list | dict) else value
    return out


def _as_float(value: Any) -> float:
    return float(value.item() if hasattr(value, "item") else value)


def _checkpoint_to_resume(cfg: DictConfig, callbacks: list[Any]) -> str | None:
    ckpt_path = cfg.get("ckpt_path")
    if ckpt_path is None:
        last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
        job = slurm_job()
        requeued = job is not None and job.restarts > 0  # SLURM started it again: it goes on where it stopped
        if (cfg.get("resume") or requeued) and last.is_file():
            why = f"requeued by SLURM (job {job.job_id}, restart {job.restarts})" if requeued else "resume=true"
            log.info("%s: continuing from %s", why, last)
            return str(last)
        return None
    if ckpt_path == "last":
        dirs = [Path(c.dirpath) for c in callbacks if isinstance(c, ModelCheckpoint) and c.dirpath]
        last = [d / "last.ckpt" for d in dirs if (d / "last.ckpt").is_file()]
        if not last:
            raise UserError(
                f"ckpt_path=last: no last.ckpt in {', '.join(map(str, dirs)) or 'this run'}; "
                "give the run directory with hydra.run.dir=... or a checkpoint path"
            )
        return str(last[0])
    if not Path(ckpt_path).is_file():
        raise UserError(f"ckpt_path={ckpt_path} does not exist")
    return str(ckpt_path)


def _last_good_checkpoint(trainer: pl.Trainer) -> str:
    """The newest checkpoint on disk (each is whole: they are written atomically)."""
    found = [Path(c.dirpath) / "last.ckpt" for c in trainer.checkpoint_callbacks if getattr(c, "dirpath", None)]
    found += [Path(c.best_model_path) for c in trainer.checkpoint_callbacks if getattr(c, "best_model_path", "")]
    existing = [p for p in found if p.is_file()]
    return str(max(existing, key=lambda p: p.stat().st_mtime)) if existing else "none (no checkpoint was written)"


def precision_record(cfg: DictConfig, trainer: pl.Trainer) -> dict[str, Any]:
    """What the job trains in and who chose it: the ``${fastest_precision:...}`` rule (a recipe) or
    an explicit ``trainer.precision``; logged in one line and written to ``job.json``."""
    raw = OmegaConf.to_container(cfg.trainer, resolve=False).get("precision")
    by_rule = isinstance(raw, str) and "${fastest_precision:" in raw
    choice = fastest_precision(str(cfg.trainer.get("accelerator", "auto")))
    record = {
        "precision": str(trainer.precision),
        "chosen_by": "fastest_precision" if by_rule else "trainer.precision",
        "device": choice.device,
        "hardware": choice.hardware,
        "native_bf16": choice.native_bf16,
    }
    why = f"the fastest this device runs natively: {choice.reason}" if by_rule else "as trainer.precision sets it"
    log.info("precision %s (%s)", record["precision"], why)
    return record


def _write_failed(cfg: DictConfig, err: WriteError, trainer: pl.Trainer) -> UserError:
    """A file that could not be written: one line naming it and the last good checkpoint, and a
    ``job.json`` that says failed where it still fits."""
    line = f"{err}; the last good checkpoint is {_last_good_checkpoint(trainer)}"
    if trainer.is_global_zero:
        try:
            records.write_record(cfg, "failed", error=line)
        except WriteError:
            log.error("the job record does not fit either: %s", line)
    return UserError(line)


def train(cfg: DictConfig, extra_callbacks: Sequence[pl.Callback] = ()) -> dict[str, float]:
    """Fit the configured model on the configured data; test the best checkpoint.

    ``extra_callbacks`` are added to the configured ones (for tests and benchmarks).

    Returns every logged metric as a float, plus ``best_val_loss``, ``fit_seconds``, ``epochs`` and
    ``steps`` (optimizer steps). With ``resume=true``, a job that already completed this config
    returns its recorded metrics, and one that left a ``last.ckpt`` continues from it. The last act
    is writing the job record (``job.json``).
    """
    if (done := records.finished_metrics(cfg)) is not None:
        metrics, why = done
        log.info("%s: %s; not training again", cfg.paths.output_dir, why)
        return metrics
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule: pl.LightningDataModule = build(cfg.data)
    model: pl.LightningModule = build(cfg.model)
    loggers = instantiate_named(cfg.get("logger"), "logger")
    callbacks = [*instantiate_named(cfg.get("callbacks"), "callbacks"), *extra_callbacks]
    if not loggers:
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    # checkpoints written whole or not at all, unless the config names its own plugins
    plugins = {} if cfg.trainer.get("plugins") else {"plugins": [AtomicCheckpointIO()]}
    trainer: pl.Trainer = build(cfg.trainer, callbacks=callbacks, logger=loggers or False, **plugins)
    resume_from = _checkpoint_to_resume(cfg, callbacks)
    precision = precision_record(cfg, trainer)

    for logger in loggers:
        if isinstance(logger, TensorBoardLogger):  # the HParams tab's metric column
            logger.log_hyperparams(run_hparams(cfg), {BEST_VAL_METRIC: math.nan})
        else:
            logger.log_hyperparams(run_hparams(cfg))

    start = time.perf_counter()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
    except SIGTERMException as err:
        raise TrainingInterrupted(
            f"stopped by SIGTERM at epoch {trainer.current_epoch}, step {trainer.global_step}; "
            f"resume with ckpt_path={Path(cfg.paths.output_dir) / 'checkpoints' / 'last.ckpt'}"
        ) from err
    except WriteError as err:
        raise _write_failed(cfg, err, trainer) from err
    fit_seconds = time.perf_counter() - start
    metrics = {k: _as_float(v) for k, v in trainer.callback_metrics.items()}

    # the monitored checkpoint callback (the other one keeps last.ckpt)
    checkpoint = next((c for c in trainer.checkpoint_callbacks if getattr(c, "monitor", None)), None)
    best_path = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
    if cfg.get("test"):
        results = trainer.test(model, datamodule=datamodule, ckpt_path=best_path or None, verbose=False)
        metrics.update({k: _as_float(v) for k, v in results[0].items()})
    if best_path and checkpoint.best_model_score is not None:
        metrics["best_val_loss"] = _as_float(checkpoint.best_model_score)
        log.info("best checkpoint: %s", best_path)
    elif "val/loss" in metrics:
        metrics["best_val_loss"] = metrics["val/loss"]
    metrics["fit_seconds"] = fit_seconds
    metrics["epochs"] = float(trainer.current_epoch)
    metrics["steps"] = float(trainer.global_step)  # optimizer steps: two a batch for the FactorVAE
    # training batches over the whole fit (restored on resume): the budget the field counts
    metrics["batches"] = float(trainer.fit_loop.epoch_loop.batch_progress.total.completed)
    for logger in loggers:
        if isinstance(logger, WandbLogger) and trainer.is_global_zero:
            logger.experiment.finish()  # flush it; the next job of a sweep in this process starts its own run
    log.info("metrics: %s", {k: round(v, 5) for k, v in sorted(metrics.items())})
    if trainer.is_global_zero and not trainer.fast_dev_run:
        records.write_record(cfg, "completed", metrics, precision=precision, resumed_from=resume_from)
    return metrics
