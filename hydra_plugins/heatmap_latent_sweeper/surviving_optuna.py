"""hydra-optuna-sweeper's sweeper, able to finish a search in which every trial failed."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

try:  # the optuna sweeper is an optional extra ([scale]); Hydra imports every plugin module at start-up
    from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper
except ImportError:  # pragma: no cover - without the extra there is nothing to extend
    OptunaSweeper = None


class SurvivingOptunaSweeper(OptunaSweeper or object):
    """The plugin (1.3) ends a sweep by reading ``study.best_trial``. That raises when no trial
    completed, so a search where every trial failed died with a traceback before the sweep summary
    was written. In that one case this sweeper returns normally instead: the ``SweepSummary``
    callback then writes summary.csv/md, names the failures and exits non-zero. Any other error is
    raised as before.
    """

    def sweep(self, arguments: list[str]) -> Any:
        try:
            return super().sweep(arguments)
        except ValueError:
            import optuna  # noqa: PLC0415 (optuna: an optional extra, present when this sweeper runs)

            impl = self.sweeper
            study = optuna.load_study(study_name=impl.study_name, storage=impl.storage)
            if any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
                raise
            log.error("every trial of the Optuna study %r failed: there are no best parameters", impl.study_name)
            return None
