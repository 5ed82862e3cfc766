"""The SLURM job a process runs in, as SLURM's environment says: its id and how often it was requeued.

A job that SLURM requeues (``scontrol requeue``, a preemption with ``PreemptMode=REQUEUE``) is
signalled SIGTERM, killed ``KillWait`` seconds later, and started again with the same id and
``SLURM_RESTART_COUNT`` one higher. The interrupt checkpoint (``InterruptCheckpoint``) writes
``last.ckpt`` on the SIGTERM; the restarted job continues from it (``training/run.py``), takes over
the job directory's lock its earlier start left (``lock.py``) and says so in its record.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class SlurmJob:
    job_id: str  # "<array job>_<task>" for a task of an array, else SLURM_JOB_ID
    restarts: int  # SLURM_RESTART_COUNT: 0 on the first start

    def as_record(self) -> dict[str, object]:
        return {"job_id": self.job_id, "restarts": self.restarts}


def slurm_job() -> SlurmJob | None:
    """The SLURM job of this process, or None outside SLURM."""
    env = os.environ
    if not env.get("SLURM_JOB_ID"):
        return None
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    job_id = f"{array}_{task}" if array and task else env["SLURM_JOB_ID"]
    try:
        restarts = int(env.get("SLURM_RESTART_COUNT", "0") or 0)
    except ValueError:
        restarts = 0
    return SlurmJob(job_id, restarts)


def launch_failed(err: BaseException, launcher: Mapping[str, Any]) -> str:
    """One line for a launcher that could not run the sweep's jobs (sbatch refused them, a job died
    without a result); a GPU asked of a cluster that has none says what to set instead."""
    message = "; ".join(line.strip() for line in str(err).splitlines() if line.strip()) or type(err).__name__
    line = f"the launcher could not run the jobs: {message}"
    gpus = launcher.get("gpus_per_node")
    if gpus and ("gres" in message.lower() or "node configuration is not available" in message.lower()):
        line += (
            f" (hydra.launcher.gpus_per_node={gpus} asks every job for a GPU: on a cluster without GPUs "
            "use hydra/launcher=slurm_local or hydra.launcher.gpus_per_node=0)"
        )
    return line
