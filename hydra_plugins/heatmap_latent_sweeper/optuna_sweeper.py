"""``hparams_search=optuna``: a Hydra sweeper on Optuna's ask-and-tell API (Optuna 4 and later).

Each process asks the study for one trial, runs it as a sweep job (its ``job.json``, lock and
resume like any job) and tells the study its outcome, then asks for the next: processes started
with the same study (two terminals, N SLURM array tasks) share it with no batches. The study lives
in a journal file by default (``<sweep dir>/optuna.journal``; ``hydra.sweeper.storage`` takes another
path or an RDB URL). The search space is written in hydra-optuna-sweeper's syntax
(``tag(log, interval(1e-4, 1e-2))``, ``choice(32, 64)``, ``range(1, 5)``), which this replaces: it
pinned optuna<3 and SQLAlchemy<2. What a trial computes is fixed when the search starts: the base
config and the search space are frozen into ``<sweep dir>/frozen/`` (``sweeps/frozen.py``).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.errors import UserError
from heatmap_latent.sweeps.frozen import FrozenBaseLoader, freeze_search
from heatmap_latent.sweeps.lock import Holder, JobLock, process_name
from heatmap_latent.sweeps.optuna_study import TRIAL_ENV, open_storage, storage_spec
from heatmap_latent.sweeps.records import JobPruned
from heatmap_latent.sweeps.slurm import launch_failed

log = logging.getLogger(__name__)


def distribution(override: Override) -> Any:
    """The Optuna distribution of one sweep override (hydra-optuna-sweeper's rules)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: PLC0415

    value = override.value()
    if override.is_choice_sweep() or (override.is_range_sweep() and value.shuffle):
        given = value.list if override.is_choice_sweep() else list(override.sweep_iterator())
        strings = list(override.sweep_string_iterator())
        # numbers, booleans and null stay themselves; anything else (a list, a string) its override text
        return CategoricalDistribution(
            [v if isinstance(v, bool | int | float | type(None)) else s for v, s in zip(given, strings, strict=True)]
        )
    if override.is_range_sweep():
        if any(isinstance(x, float) for x in (value.start, value.stop, value.step)):
            return FloatDistribution(value.start, value.stop, step=value.step)
        # Hydra's range excludes its stop, Optuna's includes its high
        return IntDistribution(int(value.start), int(value.stop) - int(value.step), step=int(value.step))
    if override.is_interval_sweep():  # Hydra's interval is real-valued; integers are a range
        return FloatDistribution(value.start, value.end, log="log" in value.tags)
    raise UserError(f"{override.input_line}: the Optuna sweeper takes choice, range, interval and tag(log, interval)")


def threads_per_worker(n_workers: int) -> int | None:
    """How many threads each of ``n_workers`` processes on this machine gets: its CPUs shared out
    (at least 1 each), since torch starts as many threads as there are CPUs in every process and two
    trainings at once on 2 cores then run 6-12x slower. None for one worker or where the user set
    ``OMP_NUM_THREADS`` (theirs wins)."""
    if n_workers <= 1 or "OMP_NUM_THREADS" in os.environ:
        return None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cpus // n_workers)


class OptunaSweeper(Sweeper):
    def __init__(
        self,
        study_name: str = "heatmap_latent",
        direction: str | list[str] = "minimize",
        storage: str | None = None,
        n_trials: int = 20,
        max_trials: int | None = None,
        n_jobs: int = 1,
        sampler: Any = None,
        pruner: Any = None,
        params: dict[str, str] | None = None,
        max_failure_rate: float = 1.0,
    ) -> None:
        self.study_name, self.storage = study_name, storage
        self.directions = [direction] if isinstance(direction, str) else list(direction)
        self.n_trials, self.max_trials, self.n_jobs = int(n_trials), max_trials, int(n_jobs)
        self.sampler_cfg, self.pruner_cfg = sampler, pruner
        self.params = dict(params or {})
        self.max_failure_rate = float(max_failure_rate)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.hydra_context, self.task_function, self.config = hydra_context, task_function, config

    # --- the search space ------------------------------------------------------------------------
    def _space(self, arguments: list[str]) -> tuple[list[str], dict[str, Any]]:
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        by_key: dict[str, Override] = {}
        for override in parser.parse_overrides([*(f"{k}={v}" for k, v in self.params.items()), *arguments]):
            by_key[override.get_key_element()] = override  # the command line wins over the config
        fixed = [o.input_line for o in by_key.values() if not o.is_sweep_override()]
        space = {k: distribution(o) for k, o in by_key.items() if o.is_sweep_override()}
        return fixed, space

    def _sampler(self, seed_offset: int) -> Any:
        """The sampler, its seed moved on by the number of trials the study holds: a continued or a
        parallel search never replays another process's first random proposals."""
        if self.sampler_cfg is None:
            return None
        cfg = OmegaConf.create(OmegaConf.to_container(self.sampler_cfg, resolve=True))
        if cfg.get("seed") is not None:
            cfg.seed = int(cfg.seed) + seed_offset
        return instantiate(cfg)

    def _retry_abandoned(self, study: Any) -> None:
        """A trial left RUNNING by a process of this host that is gone (killed, a lost node) is marked
        failed and its parameters asked again, so the next trial runs them (its job resumes)."""
        import optuna  # noqa: PLC0415

        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            worker = str(t.user_attrs.get("worker", ""))
            host, _, pid = worker.rpartition(":")
            if host != socket.gethostname() or not pid.isdigit():
                continue
            if not Holder(host, int(pid), "", 0.0).is_stale():
                continue
            log.warning("trial %d was left running by %s, which is gone: it runs again", t.number, worker)
            # Optuna names a trial across processes by its storage id (what its own integrations pass on)
            optuna.trial.Trial(study, t._trial_id).set_user_attr("abandoned", True)
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})

    # --- one ask, under the sweep's lock ----------------------------------------------------------
    def _ask(self, study: Any, gate: JobLock, space: dict[str, Any]) -> Any | None:
        import optuna  # noqa: PLC0415

        gate.acquire_waiting(120, poll_s=0.05)
        try:
            # before every ask, not only at a worker's start: a worker of a job array that is killed
            # mid-trial leaves its trial to the workers still running
            self._retry_abandoned(study)
            trials = study.get_trials(deepcopy=False)
            counted = [
                t for t in trials if t.state != optuna.trial.TrialState.WAITING and not t.user_attrs.get("abandoned")
            ]
            if self.max_trials is not None and len(counted) >= int(self.max_trials):
                return None
            study.sampler = self._sampler(len(trials)) or study.sampler
            trial = study.ask(space)
            trial.set_user_attr("worker", process_name())
            return trial
        finally:
            gate.release()

    def _workers(self, sweep_dir: Path) -> list[subprocess.Popen]:
        """``n_jobs`` > 1: the other workers, this command line started again on the same study, each
        (this process too) on its share of the CPUs."""
        env = dict(os.environ)
        threads = threads_per_worker(self.n_jobs)
        if threads is not None:
            import torch  # noqa: PLC0415

            torch.set_num_threads(threads)
            env["OMP_NUM_THREADS"] = str(threads)  # read by torch when a worker starts
            log.info(
                "%d workers: %d thread(s) each (OMP_NUM_THREADS=%d; set it to choose)", self.n_jobs, threads, threads
            )
        procs = []
        for i in range(1, self.n_jobs):
            argv = [sys.executable, *sys.argv, f"hydra.sweep.dir={sweep_dir}", "hydra.sweeper.n_jobs=1"]
            out = open(sweep_dir / f"worker_{i}.log", "a")  # noqa: SIM115 (open while the worker runs)
            procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env))
            log.info("worker %d: pid %d, its log %s", i, procs[-1].pid, out.name)
        return procs

    def sweep(self, arguments: list[str]) -> Any:
        import optuna  # noqa: PLC0415

        sweep_dir = Path(self.config.hydra.sweep.dir).absolute()
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        fixed, space = self._space(arguments)
        loader = self.hydra_context.config_loader
        base = freeze_search(
            sweep_dir, fixed, {k: repr(d) for k, d in space.items()}, lambda o: loader.load_sweep_config(self.config, o)
        )
        launcher = Plugins.instance().instantiate_launcher(
            hydra_context=HydraContext(
                config_loader=FrozenBaseLoader(loader, base, list(space)), callbacks=self.hydra_context.callbacks
            ),
            task_function=self.task_function,
            config=self.config,
        )
        spec = storage_spec(self.storage, sweep_dir)
        pruner = instantiate(self.pruner_cfg) if self.pruner_cfg else None
        study = optuna.create_study(
            study_name=self.study_name,
            storage=open_storage(spec),
            directions=self.directions,
            pruner=pruner,
            load_if_exists=True,
        )
        log.info("Optuna study %r in %s (%d trials stored)", self.study_name, spec, len(study.trials))
        workers = self._workers(sweep_dir)
        gate = JobLock(sweep_dir / "frozen" / "ask")
        failures = 0
        for _ in range(self.n_trials):
            trial = self._ask(study, gate, space)
            if trial is None:
                log.info("the study holds max_trials=%s trials: this worker stops", self.max_trials)
                break
            overrides = [*fixed, *(f"{k}={v}" for k, v in trial.params.items())]
            overrides.append(f"++hydra.job.env_set.{TRIAL_ENV}={trial._trial_id}")
            log.info("trial %d: %s", trial.number, " ".join(overrides[len(fixed) : -1]))
            try:
                (result,) = launcher.launch([overrides], initial_job_idx=trial.number)
            except Exception as err:  # the launcher's own failure: no trial's outcome
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                sys.exit(f"train.py: error: {launch_failed(err, self.config.hydra.launcher)}")
            try:
                values = result.return_value
            except JobPruned:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                continue
            except Exception as err:
                log.warning("trial %d failed: %s", trial.number, err)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                failures += 1
                if failures > self.max_failure_rate * self.n_trials:
                    log.error("%d trials failed: more than max_failure_rate=%s allows", failures, self.max_failure_rate)
                    break
                continue
            values = values if isinstance(values, list | tuple) else [values]
            if any(v is None or not math.isfinite(float(v)) for v in values) or len(values) != len(self.directions):
                log.warning(
                    "trial %d returned %s for %d objectives: marked failed", trial.number, values, len(self.directions)
                )
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                failures += 1
                continue
            study.tell(trial, [float(v) for v in values])
        for proc in workers:
            if proc.wait() != 0:
                log.error("worker pid %d ended with exit status %d (its log: worker_*.log)", proc.pid, proc.returncode)
        self._write_results(study, sweep_dir)
        return None

    def _write_results(self, study: Any, sweep_dir: Path) -> None:
        """``optimization_results.yaml``: the best parameters and value (the Pareto front for several
        objectives) over every trial of the study; none where no trial completed."""
        try:
            best = study.best_trials
        except ValueError:
            best = []
        if not best:
            log.error("no trial of the Optuna study %r completed: there are no best parameters", self.study_name)
            return
        if len(self.directions) == 1:
            result = {"name": "optuna", "best_params": best[0].params, "best_value": best[0].value}
        else:
            result = {"name": "optuna", "solutions": [{"params": t.params, "values": t.values} for t in best]}
        write_atomic(sweep_dir / "optimization_results.yaml", OmegaConf.to_yaml(OmegaConf.create(result)))
        log.info("best: %s", result)
