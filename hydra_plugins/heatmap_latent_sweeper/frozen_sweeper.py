"""Hydra's basic sweeper, with every job's config frozen into the sweep directory before it starts
(``heatmap_latent/sweeps/frozen.py`` says what that holds and why). ``conf/train.yaml`` chooses it
(its ``hydra.sweeper._target_``); the job expansion, batches and launchers are the basic sweeper's."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from heatmap_latent.sweeps.frozen import FrozenConfigLoader, freeze
from heatmap_latent.sweeps.lock import Holder
from heatmap_latent.sweeps.slurm import launch_failed

log = logging.getLogger(__name__)


class FrozenSweeper(BasicSweeper):
    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.task_function = task_function

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.hydra_context is not None
        loader = self.hydra_context.config_loader
        parser = OverridesParser.create(config_loader=loader)
        parsed = parser.parse_overrides([*self._parse_config(), *arguments])
        jobs = [job for batch in self.split_arguments(parsed, None) for job in batch]
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")

        me = Holder.this_process()
        compose = lambda overrides: loader.load_sweep_config(self.config, list(overrides))  # noqa: E731
        manifest = freeze(sweep_dir, jobs, compose, bool(self.config.get("resume")), me)
        live = manifest.live_path(me)  # registered by freeze, under its lock
        frozen_context = HydraContext(
            config_loader=FrozenConfigLoader(loader, manifest.files()), callbacks=self.hydra_context.callbacks
        )
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=frozen_context, task_function=self.task_function, config=self.config
        )
        self.overrides = list(self.split_overrides_to_chunks(manifest.overrides(), self.max_batch_size))
        self.batch_index = 0
        returns = []
        initial_job_idx = 0
        try:
            while not self.is_done():
                batch = self.get_job_batch()
                try:
                    results = self.launcher.launch(batch, initial_job_idx=initial_job_idx)
                except Exception as err:  # the launcher's own failure: no job's outcome
                    sys.exit(f"train.py: error: {launch_failed(err, self.config.hydra.launcher)}")
                for r in results:
                    _ = r.return_value  # raises the job's exception, as the basic sweeper does
                initial_job_idx += len(batch)
                returns.append(results)
        finally:
            live.unlink(missing_ok=True)
        return returns
