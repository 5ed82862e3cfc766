"""Preflight: check the command line against the configs before Hydra runs a job or a sweep.

Every job a sweep is about to run is composed and checked (keys, types, ranges, ``_target_``s,
Lightning's own ``Trainer`` checks, the output directory) so that a bad value is one line and a
non-zero exit before the first job starts.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
from pathlib import Path

import lightning.pytorch as pl
import torch
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from hydra.types import RunMode
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from heatmap_latent.core.conf import compose_config, config_targets
from heatmap_latent.core.errors import UserError, one_line
from heatmap_latent.sweeps.frozen import Manifest
from heatmap_latent.sweeps.records import BASIC_SWEEPERS
from heatmap_latent.training.run import build, check_named
from heatmap_latent.training.trainer_args import check_trainer_args

log = logging.getLogger(__name__)

NO_CHECK_FLAGS = (
    "-h",
    "--help",
    "--hydra-help",
    "-c",
    "--cfg",
    "--info",
    "--version",
    "--shell-completion",
    "-cp",
    "--config-path",
    "-cn",
    "--config-name",
    "-cd",
    "--config-dir",
)


def _compose(config_name: str, overrides: list[str]) -> DictConfig:
    return compose_config(config_name, overrides, hydra_config=True)


def _import_error(target: str) -> str | None:
    """Why ``_target_`` names no importable object (``ModuleNotFoundError: No module named 'x'``), by
    Hydra's own lookup (its error log muted: the caller reports the problem in one line), or ``None``."""
    quiet = logging.getLogger("hydra.utils")
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        get_object(target)
        return None
    except Exception as err:
        cause = err.__cause__
        return f"{type(cause).__name__}: {cause}" if cause is not None else one_line(err)
    finally:
        quiet.level = level


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _writable_dir(path: Path) -> str | None:
    """Why ``path`` cannot be made and written, or ``None``."""
    probe = path.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def check_job(cfg: DictConfig, output_dir: Path) -> None:
    """Everything about one job's config that can be known before it runs; raises :class:`UserError`."""
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        hydra_cfg = cfg.pop("hydra", None)
    for group in ("callbacks", "logger"):
        check_named(cfg.get(group), group)
    for key, target in config_targets(cfg):
        if (why := _import_error(target)) is not None:
            raise UserError(f"{key}={target} cannot be imported: {why}")
    try:
        trainer_args = OmegaConf.to_container(cfg.trainer, resolve=True)
        check_trainer_args(trainer_args)
    except ValueError as err:
        raise UserError(str(err)) from err
    build(cfg.data)
    build(cfg.model)

    quiet = logging.getLogger("lightning.pytorch")
    level, quiet.level = quiet.level, logging.ERROR
    try:
        trainer_args.pop("_target_", None)
        pl.Trainer(**{**trainer_args, "logger": False, "enable_checkpointing": False, "callbacks": []})
    except Exception as err:  # Lightning's own checks of accelerator, devices, precision, strategy
        raise UserError(f"trainer: {one_line(err)}") from err
    finally:
        quiet.level = level
    if hydra_cfg is not None and (why := _writable_dir(output_dir)):
        raise UserError(f"cannot write the output directory {output_dir}: {why}")


def resumed_run_overrides(argv: list[str]) -> list[str]:
    """With ``ckpt_path=<run>/checkpoints/X.ckpt``: that run's saved overrides, then ``argv`` (which wins)."""
    ckpt = next((a.split("=", 1)[1] for a in argv if _key(a) == "ckpt_path" and "=" in a), None)
    if not ckpt or ckpt in ("last", "null"):
        return argv
    path = Path(ckpt).expanduser()
    if not path.is_file():
        raise UserError(f"ckpt_path={ckpt} does not exist")
    saved = path.parent.parent / ".hydra" / "overrides.yaml"
    if path.parent.name != "checkpoints" or not saved.is_file():
        return argv
    given = {_key(a) for a in argv}
    dropped = given | {"ckpt_path", "resume", "break_lock"}
    kept = [o for o in OmegaConf.load(saved) if _key(o) not in dropped]
    return [*kept, *argv]


def check_against_checkpoint(cfg: DictConfig, ckpt: str) -> None:
    """An override that contradicts the checkpoint's own hyperparameters is a one-line error."""
    try:
        hparams = torch.load(ckpt, map_location="cpu", weights_only=True).get("hyper_parameters", {})
    except Exception as err:
        raise UserError(f"ckpt_path={ckpt} is not a loadable checkpoint: {one_line(err)}") from err
    model = OmegaConf.to_container(cfg.model, resolve=True)
    for key, saved in hparams.items():
        if key in model and key not in ("optimizer", "scheduler") and model[key] != saved:
            raise UserError(
                f"model.{key}={model[key]} contradicts the checkpoint {ckpt}, trained with {key}={saved}; "
                "resume without that override"
            )


def _job_override_lists(cfg: DictConfig, argv: list[str]) -> list[list[str]]:
    """Each job's overrides as the sweeper will launch them (the basic sweeper's expansion);
    other sweepers choose values as they go, so their base config stands for all jobs."""
    parser = OverridesParser.create()
    if cfg.hydra.sweeper.get("_target_") not in BASIC_SWEEPERS:
        return [[o.input_line for o in parser.parse_overrides(argv) if not o.is_sweep_override()]]
    params = [f"{k}={v}" for k, v in (cfg.hydra.sweeper.get("params") or {}).items()]
    return sweep_jobs(parser.parse_overrides([*params, *argv]))


def _frozen_jobs(cfg: DictConfig) -> list[DictConfig] | None:
    """With ``resume=true``, the frozen configs of the sweep in ``hydra.sweep.dir`` (``frozen.py``):
    resume runs those, whatever ``conf/`` holds now; ``None`` where there are none."""
    if not cfg.get("resume") or cfg.hydra.sweeper.get("_target_") not in BASIC_SWEEPERS:
        return None
    manifest = Manifest.read(Path(cfg.hydra.sweep.dir))
    if manifest is None:
        return None
    jobs = []
    for path in manifest.files().values():
        try:
            jobs.append(OmegaConf.load(path))
        except (OSError, OmegaConfBaseException) as err:
            raise UserError(f"{path}: a frozen job's config cannot be read ({one_line(err)})") from err
    return jobs


def sweep_jobs(overrides: list[Override]) -> list[list[str]]:
    """The basic sweeper's jobs: the product of every key's values, a later override of a key
    replacing an earlier one. Hydra keeps this expansion private (``BasicSweeper.split_arguments``),
    so it is rebuilt here from the public override parser."""
    by_key: dict[str, list[str]] = {}
    for override in overrides:
        key = override.get_key_element()
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                raise UserError(f"{override.input_line}: the basic sweeper sweeps lists of values only")
            by_key[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            by_key[key] = [f"{key}={override.get_value_element_as_str()}"]
    return [list(job) for job in itertools.product(*by_key.values())]


def preflight(config_name: str, argv: list[str], prog: str) -> list[str]:
    """Compose every job Hydra is about to run and check it; exit with one line on the first problem.

    Returns the overrides to run with: ``argv``, led by the resumed run's own overrides when
    ``ckpt_path`` names a checkpoint of a run. Help and config-printing invocations are left to Hydra.
    """
    flags = [a for a in argv if a.startswith("-")]
    multirun = any(a in ("-m", "--multirun") for a in flags)
    if any(a in NO_CHECK_FLAGS or a.split("=")[0] in NO_CHECK_FLAGS for a in flags if a not in ("-m", "--multirun")):
        return argv
    overrides = [a for a in argv if not a.startswith("-")]
    try:
        if not multirun and config_name == "train":
            overrides = resumed_run_overrides(overrides)
        parser = OverridesParser.create()
        base = [o.input_line for o in parser.parse_overrides(overrides) if not o.is_sweep_override()]
        cfg = _compose(config_name, base)
        if config_name != "train":
            return [*(a for a in argv if a.startswith("-")), *overrides]
        multirun = multirun or cfg.hydra.mode == RunMode.MULTIRUN
        frozen = _frozen_jobs(cfg) if multirun else None
        jobs = frozen or (_job_override_lists(cfg, overrides) if multirun else [overrides])
        for job in jobs:
            if isinstance(job, DictConfig):  # resuming a frozen sweep: its own configs are checked
                job_cfg = job
            else:
                job_cfg = cfg if job == base else _compose(config_name, job)  # a single run: composed above
            out = Path(job_cfg.hydra.sweep.dir if multirun else job_cfg.hydra.run.dir)
            check_job(job_cfg, out)
            if job_cfg.get("ckpt_path") not in (None, "last"):
                check_against_checkpoint(job_cfg, job_cfg.ckpt_path)
    except (HydraException, OmegaConfBaseException, ValueError, UserError) as err:
        sys.exit(f"{prog}: error: {one_line(err)}")
    flags_kept = [a for a in argv if a.startswith("-")]
    return [*flags_kept, *overrides]


def check_overrides(config_name: str, argv: list[str], prog: str) -> list[str]:
    """Compose the config as Hydra will; exit with one line if an override is unknown or malformed.
    Returns the overrides to run with."""
    return preflight(config_name, argv, prog)
