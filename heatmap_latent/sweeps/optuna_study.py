"""An Optuna search's study, as both its sweeper and its trials' training open it.

The sweeper (``hydra_plugins/heatmap_latent_sweeper/optuna_sweeper.py``) asks the study for trials
and tells it their outcome; a trial's training reports its validation loss to the same study each
epoch (``callbacks.OptunaPruning``), from whatever process the launcher ran it in. Both open the
storage from ``hydra.sweeper.storage`` and learn the trial's number from the environment variable
below, which the sweeper sets through the job's ``hydra.job.env_set``. Optuna is an optional extra
(``[scale]``), imported here only when a search runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TRIAL_ENV = "HEATMAP_LATENT_OPTUNA_TRIAL"
JOURNAL = "optuna.journal"


def storage_spec(storage: str | None, sweep_dir: str | os.PathLike) -> str:
    """``storage`` as given (an RDB URL such as ``sqlite:///x.db`` or ``postgresql://...``, or the
    path of a journal file), or the journal file ``<sweep dir>/optuna.journal`` when it is ``None``."""
    if storage in (None, ""):
        return str(Path(sweep_dir).absolute() / JOURNAL)
    return str(storage)


def is_url(spec: str) -> bool:
    return "://" in spec


def open_storage(spec: str) -> Any:
    """Optuna's storage for ``spec``: a ``JournalStorage`` on a file (made for several processes
    and network file systems: appends under Optuna's own file lock) or an ``RDBStorage``."""
    import optuna  # noqa: PLC0415 (an optional extra)
    from optuna.storages.journal import JournalFileBackend  # noqa: PLC0415

    if is_url(spec):
        return optuna.storages.RDBStorage(spec)
    Path(spec).parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(spec))


def current_trial(study_name: str, storage: str | None, sweep_dir: str, pruner: Any = None) -> Any | None:
    """The Optuna trial this job runs, when an Optuna search launched it; else ``None``."""
    trial_id = os.environ.get(TRIAL_ENV)
    if not trial_id:
        return None
    import optuna  # noqa: PLC0415

    study = optuna.load_study(
        study_name=study_name, storage=open_storage(storage_spec(storage, sweep_dir)), pruner=pruner
    )
    # Optuna names a trial across processes by its storage id (what its own integrations pass on)
    return optuna.trial.Trial(study, int(trial_id))
