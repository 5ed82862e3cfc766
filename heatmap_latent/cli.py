"""Entry-point helpers: check the command line against the configs before Hydra runs the job,
and report user errors as one line with a non-zero exit."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra._internal.utils import _locate
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from heatmap_latent.errors import UserError

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
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


def one_line(err: BaseException | str) -> str:
    """Hydra's multi-line messages as one line, e.g. "Could not find 'model/foo'; options: ae, vae"."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("Set the environment variable HYDRA_FULL_ERROR", "To append"))]
    if "Config search path:" in lines:
        lines = lines[: lines.index("Config search path:")]
    if any(ln.startswith("Available options") for ln in lines):
        k = next(i for i, ln in enumerate(lines) if ln.startswith("Available options"))
        options = [opt for opt in lines[k + 1 :] if not opt.startswith("_")]
        lines = [*lines[:k], f"options: {', '.join(options)}"]
    cause = getattr(err, "__cause__", None)
    if lines and lines[0].startswith(("Could not override", "Error merging override")) and cause is not None:
        lines = [lines[0].rstrip("."), str(cause).splitlines()[0]]
    return "; ".join(lines)


def _compose(config_name: str, overrides: list[str]) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name, overrides=list(overrides), return_hydra_config=True)


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


def _targets(node: Any, where: str = "") -> list[tuple[str, str]]:
    """Every ``(key, _target_)`` in a config tree."""
    found = []
    if isinstance(node, DictConfig):
        for key in node:
            if key == "_target_":
                found.append((f"{where}_target_", str(node[key])))
            elif OmegaConf.is_config(node._get_node(key)):
                found += _targets(node[key], f"{where}{key}.")
    elif isinstance(node, ListConfig):
        for i, item in enumerate(node):
            found += _targets(item, f"{where}{i}.")
    return found


def check_job(cfg: DictConfig, output_dir: Path) -> None:
    """Everything about one job's config that can be known before it runs; raises :class:`UserError`."""
    from heatmap_latent.trainer_args import check_trainer_args
    from heatmap_latent.training import build

    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
        hydra_cfg = cfg.pop("hydra", None)
    for key, target in _targets(cfg):
        try:
            _locate(target)
        except ImportError:
            raise UserError(f"{key}={target} cannot be imported") from None
    try:
        trainer_args = OmegaConf.to_container(cfg.trainer, resolve=True)
        check_trainer_args(trainer_args)
    except ValueError as err:
        raise UserError(str(err)) from err
    build(cfg.data)
    build(cfg.model)
    import lightning.pytorch as pl

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
    kept = [o for o in OmegaConf.load(saved) if _key(o) not in given | {"ckpt_path", "resume"}]
    return [*kept, *argv]


def check_against_checkpoint(cfg: DictConfig, ckpt: str) -> None:
    """An override that contradicts the checkpoint's own hyperparameters is a one-line error."""
    import torch

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
    if cfg.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return [[o.input_line for o in parser.parse_overrides(argv) if not o.is_sweep_override()]]
    params = [f"{k}={v}" for k, v in (cfg.hydra.sweeper.get("params") or {}).items()]
    batches = BasicSweeper.split_arguments(parser.parse_overrides([*params, *argv]), None)
    return [list(job) for batch in batches for job in batch]


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
            return argv
        multirun = multirun or cfg.hydra.mode == RunMode.MULTIRUN
        jobs = _job_override_lists(cfg, overrides) if multirun else [overrides]
        for job in jobs:
            job_cfg = _compose(config_name, job)
            out = Path(job_cfg.hydra.sweep.dir if multirun else job_cfg.hydra.run.dir)
            check_job(job_cfg, out)
            if job_cfg.get("ckpt_path") not in (None, "last"):
                check_against_checkpoint(job_cfg, job_cfg.ckpt_path)
    except (HydraException, OmegaConfBaseException, ValueError, UserError) as err:
        sys.exit(f"{prog}: error: {one_line(err)}")
    flags_kept = [a for a in argv if a.startswith("-")]
    return [*flags_kept, *overrides]


def check_overrides(config_name: str, argv: list[str], prog: str) -> None:
    """Compose the config as Hydra will; exit with one line if an override is unknown or malformed."""
    preflight(config_name, argv, prog)


def report_user_errors(prog: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a :class:`UserError` becomes ``prog: error: ...`` on stderr and exit status 2."""
    try:
        return fn()
    except UserError as err:
        sys.exit(f"{prog}: error: {one_line(err)}")
