"""Sweeps that survive: a record of every job's outcome, resume from it, and a sweep summary.

Every job writes ``job.json`` in its output directory, atomically, as the very last thing it does:
its status (``completed`` or ``failed``), its overrides, a hash of its config, and its returned
metrics or its one-line error. With ``resume=true`` a job whose record says it completed the same
config returns the recorded metrics without training (see :func:`finished_metrics`).

Hydra's basic sweeper stops a sweep at the first failed job it sees, and never reaches
``on_multirun_end``; so in a multirun :func:`run_job` records a failure and lets the sweep go on,
and :class:`SweepSummary` (a Hydra callback) writes ``summary.csv`` and ``summary.md`` over the job
records and exits non-zero if any job failed. Sweepers that handle failures themselves (Optuna,
which marks the trial failed) get the exception.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.errors import TrainingInterrupted, UserError, WriteError, one_line, report_user_errors
from heatmap_latent.sweeps.config_hash import config_hash
from heatmap_latent.sweeps.frozen import code_version, current_sweep_id
from heatmap_latent.sweeps.lock import LOCK, JobLock, JobLocked, process_name, read_holder
from heatmap_latent.sweeps.slurm import slurm_job

log = logging.getLogger(__name__)

RECORD = "job.json"
# the sweepers that stop at the first failed job (see run_job): Hydra's basic sweeper and the
# frozen one built on it (hydra_plugins/heatmap_latent_sweeper/frozen_sweeper.py), by their targets
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
FROZEN_SWEEPER = "hydra_plugins.heatmap_latent_sweeper.frozen_sweeper.FrozenSweeper"
BASIC_SWEEPERS = (BASIC_SWEEPER, FROZEN_SWEEPER)


class JobFailed(Exception):
    """A sweep job failed; raised for sweepers that record failed trials themselves."""


class JobPruned(Exception):
    """A search's pruner stopped the job (``callbacks.OptunaPruning``): recorded as ``pruned``."""


def _finite(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}


def _overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def write_record(
    cfg: DictConfig,
    status: str,
    metrics: dict[str, float] | None = None,
    error: str = "",
    precision: dict[str, Any] | None = None,
    resumed_from: str | None = None,
) -> Path:
    """``job.json``; ``precision`` (what the job trained in, and why) where the job got that far,
    ``resumed_from`` (the checkpoint it continued from) where it did not start afresh. It also names
    the frozen sweep the job ran in (``frozen.py``), the process, the code and any SLURM job."""
    record = {
        "status": status,
        "overrides": _overrides(),
        "config_hash": config_hash(cfg),
        "metrics": _finite(metrics or {}),
        "error": error,
        "sweep_id": current_sweep_id(),
        "trained_by": process_name(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "code": code_version(),
    }
    if precision is not None:
        record["precision"] = precision
    if resumed_from is not None:
        record["resumed_from"] = str(resumed_from)
    if (job := slurm_job()) is not None:
        record["slurm"] = job.as_record()
    path = Path(cfg.paths.output_dir) / RECORD
    write_atomic(path, json.dumps(record, indent=2))
    return path


def read_record(job_dir: Path) -> dict[str, Any] | None:
    """The job record in ``job_dir``, or ``None`` if there is none or it cannot be read."""
    try:
        record = json.loads((Path(job_dir) / RECORD).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and "status" in record else None


def finished_metrics(cfg: DictConfig) -> tuple[dict[str, float], str] | None:
    """The recorded metrics and why they stand, if this job already completed with this very config
    and either ``resume=true`` or the completion was in this same frozen sweep (by a twin sweep
    started into the same directory: ``frozen.py``); else ``None``."""
    record = read_record(Path(cfg.paths.output_dir))
    if not (record and record["status"] == "completed" and record.get("config_hash") == config_hash(cfg)):
        return None
    if cfg.get("resume"):
        why = "resume=true: already completed this config"
    elif (sweep := current_sweep_id()) is not None and record.get("sweep_id") == sweep:
        why = f"completed in this sweep by {record.get('trained_by', 'another process')} at {record.get('finished_at')}"
    else:
        return None
    return {k: (math.nan if v is None else float(v)) for k, v in record["metrics"].items()}, why


def _is_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def one_line_error(err: BaseException) -> str:
    text = one_line(err) if isinstance(err, UserError) else f"{type(err).__name__}: {one_line(err)}"
    return text or type(err).__name__


def run_job(prog: str, cfg: DictConfig, fn: Callable[[DictConfig], dict[str, float]]) -> dict[str, float]:
    """Run one job of ``prog``: ``fn(cfg)``, holding the job directory's lock (``lock.py``).

    A single run reports a user error as ``prog: error: ...`` and exits non-zero. In a multirun a
    failing job is recorded in its directory and the sweep goes on (see the module docstring), a job
    another process is training is skipped with a warning, and an interruption (SIGTERM, Ctrl-C)
    stops the whole sweep, which ``resume=true`` then finishes.
    """
    # the job's processes other than rank zero (DDP's, which re-run the script) work under its lock
    lock = JobLock(cfg.paths.output_dir, force=bool(cfg.get("break_lock"))) if _rank() == 0 else None
    if not _is_multirun():
        return report_user_errors(prog, lambda: _locked(lock, fn, cfg))
    try:
        return _locked(lock, fn, cfg)
    except JobLocked as err:
        log.warning("skipping this job: %s", one_line(err))
        if HydraConfig.get().sweeper.get("_target_") in BASIC_SWEEPERS:
            return {}
        raise JobFailed(one_line(err)) from err
    except JobPruned as err:
        log.info("%s", err)
        write_record(cfg, "pruned", error=str(err))
        raise
    except TrainingInterrupted as err:
        sys.exit(f"{prog}: error: {one_line_error(err)}; re-run the sweep with resume=true to finish it")
    except Exception as err:
        line = one_line_error(err)
        log.error("job failed: %s", line, exc_info=not isinstance(err, UserError))
        try:
            write_record(cfg, "failed", error=line)
        except WriteError as write_err:  # a full disk: the log still says what happened
            log.error("could not record the failure: %s", one_line(write_err))
        if HydraConfig.get().sweeper.get("_target_") in BASIC_SWEEPERS:
            return {}
        raise JobFailed(line) from err


def _locked(lock: JobLock | None, fn: Callable[[DictConfig], dict[str, float]], cfg: DictConfig) -> dict[str, float]:
    if lock is None:
        return fn(cfg)
    with lock:
        return fn(cfg)


def _rank() -> int:
    """This process's global rank, as Lightning reads it from the launcher's environment."""
    return int(getattr(rank_zero_only, "rank", 0) or 0)


def sweep_rows(sweep_dir: Path, metric: str | None) -> list[dict[str, str]]:
    """One row per job directory of a sweep: job, overrides, status, metric, error."""
    rows = []
    jobs = [p for p in Path(sweep_dir).iterdir() if (p / ".hydra").is_dir()]
    for job in sorted(jobs, key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name)):
        record = read_record(job)
        holder = read_holder(job)
        if record is None or (holder is not None and not holder.is_stale()):
            overrides = (
                OmegaConf.load(job / ".hydra" / "overrides.yaml") if (job / ".hydra/overrides.yaml").is_file() else []
            )
            record = {"status": "unfinished", "overrides": list(overrides), "metrics": {}, "error": ""}
            if holder is not None and not holder.is_stale():  # another process is training it now
                record.update(status="running elsewhere", error=f"held by {holder} ({job / LOCK})")
        value = record["metrics"].get(metric) if metric else None
        rows.append(
            {
                "job": job.name,
                "overrides": " ".join(record["overrides"]),
                "status": record["status"],
                metric or "metric": "" if value is None else f"{value:.6g}",
                "error": record["error"],
            }
        )
    return rows


def write_summary(sweep_dir: Path, metric: str | None) -> list[dict[str, str]]:
    """``summary.csv`` and ``summary.md`` in ``sweep_dir``; returns the rows."""
    rows = sweep_rows(sweep_dir, metric)
    if not rows:
        return rows
    header = list(rows[0])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(Path(sweep_dir) / "summary.csv", buf.getvalue())
    cell = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(r[h]) for h in header) + " |" for r in rows]
    write_atomic(Path(sweep_dir) / "summary.md", "\n".join(lines) + "\n")
    return rows


class SweepSummary(Callback):
    """Hydra callback: after a multirun, write the sweep summary; exit non-zero if a job failed."""

    def __init__(self, prog: str = "train.py") -> None:
        self.prog = prog

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        rows = write_summary(sweep_dir, config.get("optimized_metric"))
        failed = [r for r in rows if r["status"] == "failed"]
        log.info("sweep summary: %s", sweep_dir / "summary.md")
        others = {}
        for row in rows:
            record = read_record(sweep_dir / row["job"]) or {}
            if row["status"] == "completed" and record.get("trained_by", process_name()) != process_name():
                others.setdefault(record["trained_by"], []).append(row["job"])
        for holder, jobs in others.items():
            log.info("found completed by another process (%s): job %s", holder, ", ".join(jobs))
        if failed:
            first = failed[0]
            sys.exit(
                f"{self.prog}: error: {len(failed)} of {len(rows)} jobs failed (job {first['job']}: {first['error']}); "
                f"see {sweep_dir / 'summary.md'}"
            )
