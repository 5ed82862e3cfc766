"""Load a trained run (its model and its own Hydra config) from a run directory or checkpoint."""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from heatmap_latent.core.conf import config_targets, configured_targets
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factor_images import FactorImageDataModule
from heatmap_latent.data.plugins import trusted_datasets
from heatmap_latent.models import LatentAutoencoder
from heatmap_latent.models.plugins import trusted_models
from heatmap_latent.sweeps.records import read_record

log = logging.getLogger(__name__)


class RunLoadError(UserError):
    """A run or checkpoint that cannot be analysed; the message names the file and the problem."""


@dataclass
class LoadedRun:
    name: str
    run_dir: Path
    checkpoint: Path
    cfg: DictConfig
    model: LatentAutoencoder
    datamodule: FactorImageDataModule
    choices: dict[str, str]  # the config groups chosen (model, data, ...) from .hydra/hydra.yaml
    overrides: tuple[str, ...]  # the command-line overrides of the run (.hydra/overrides.yaml)


def run_choices(run_dir: Path, cfg: DictConfig, model: LatentAutoencoder, data_name: str) -> dict[str, str]:
    """The run's config-group choices (``.hydra/hydra.yaml``), with ``model`` and ``data`` named by
    what the run is: the model's ``kind`` and the data module's declared ``name``, never the config
    file that chose them (a renamed ``conf/model/vae.yaml`` still trains a ``vae``)."""
    own = {"model": model.kind, "data": data_name}
    try:
        saved = OmegaConf.load(run_dir / ".hydra" / "hydra.yaml").hydra.runtime.choices
        chosen = {str(k): str(v) for k, v in saved.items() if v is not None}
    except (OmegaConfBaseException, OSError, AttributeError):
        return own
    return {**{k: v for k, v in chosen.items() if not k.startswith("hydra/")}, **own}


def run_overrides(run_dir: Path) -> tuple[str, ...]:
    try:
        return tuple(str(o) for o in OmegaConf.load(run_dir / ".hydra" / "overrides.yaml"))
    except (OmegaConfBaseException, OSError, TypeError):
        return ()


def best_from_state(last: Path) -> Path | None:
    """The best checkpoint that ``ModelCheckpoint`` recorded in its state inside ``last.ckpt``.

    Read from the callback's own ``best_model_path`` (right for any ``save_top_k``), looked up by
    file name in the same directory, so a moved run directory still resolves. ``None`` if there is
    no such record.
    """
    try:
        state = torch.load(last, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError):
        return None  # a damaged last.ckpt: load_model reports it when it is loaded
    for key, value in (state.get("callbacks") or {}).items():
        monitored = isinstance(value, dict) and value.get("monitor") is not None  # not the latest-checkpoint one
        if str(key).startswith("ModelCheckpoint") and monitored and value.get("best_model_path"):
            best = last.parent / Path(value["best_model_path"]).name
            if best.is_file():
                return best
    return None


def find_checkpoint(run_dir: Path, which: str = "best") -> Path:
    """``best``: the checkpoint ModelCheckpoint recorded as best (lowest val/loss); ``last``: last.ckpt."""
    ckpt_dir = run_dir / "checkpoints"
    if which not in ("best", "last"):
        raise RunLoadError(f"checkpoint must be 'best' or 'last', got {which!r}")
    last = ckpt_dir / "last.ckpt"
    if which == "best" and last.is_file() and (best := best_from_state(last)) is not None:
        return best
    if which == "best" and not last.is_file():
        others = sorted(p for p in ckpt_dir.glob("*.ckpt"))
        if len(others) == 1:
            return others[0]
    if last.is_file():
        return last
    raise RunLoadError(f"no checkpoint in {ckpt_dir}")


def resolve_run(path: str | Path, which: str = "best") -> tuple[Path, Path]:
    """``(run_dir, checkpoint)`` from a run directory or a checkpoint file inside one."""
    path = Path(path).expanduser()
    if not path.exists():
        raise RunLoadError(f"{path} does not exist")
    if path.is_file():
        run_dir = path.parent.parent if path.parent.name == "checkpoints" else path.parent
        return run_dir, path
    return path, find_checkpoint(path, which)


def load_config(run_dir: Path, trusted_data: Iterable[str] = (), trusted_model: Iterable[str] = ()) -> DictConfig:
    """The run's own config, refused in one line if it names anything not trusted (``check_targets``)."""
    cfg_path = run_dir / ".hydra" / "config.yaml"
    if not cfg_path.is_file():
        raise RunLoadError(f"{run_dir} has no .hydra/config.yaml: not a train.py run directory")
    try:
        cfg = OmegaConf.load(cfg_path)
    except (OmegaConfBaseException, ValueError, OSError) as err:
        raise RunLoadError(f"{cfg_path} is not a readable config: {err}") from err
    if not isinstance(cfg, DictConfig) or "model" not in cfg or "data" not in cfg:
        raise RunLoadError(f"{cfg_path} has no model and data sections")
    check_targets(cfg, cfg_path, trusted_data, trusted_model)
    return cfg


# beside conf/'s own: any optimizer or LR scheduler of torch, any callback or logger of Lightning
TRUSTED_PREFIXES = ("torch.optim.", "lightning.pytorch.callbacks.", "lightning.pytorch.loggers.")


def _project_class(target: str, base: type, trusted: Iterable[str] = ()) -> type | None:
    """The class ``target`` names if it is one of the project's ``base`` classes, imported only when
    it lies inside the package or is ``trusted``."""
    if not target.startswith("heatmap_latent.") and target not in set(trusted):
        return None
    try:
        cls = get_class(target)
    except Exception:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, base) else None


def check_targets(
    cfg: DictConfig, cfg_path: Path, trusted_data: Iterable[str] = (), trusted_model: Iterable[str] = ()
) -> None:
    """Refuse a run config that names anything this project does not configure, before anything is
    imported or built from it: the model must be one of its models or a trusted model
    (``models/plugins.py``: an entry point, or ``trusted_model``), the data one of its data modules
    or a trusted dataset (``data/plugins.py``: an entry point, or ``trusted_data``) (with nothing
    nested to instantiate), every other ``_target_`` one that ``conf/`` names (or an
    optimizer, scheduler, callback or logger of torch and Lightning). Hydra's own blocklist differs
    between versions; this check does not depend on it."""
    trusted = configured_targets()
    datasets = trusted_datasets(trusted_data)
    models = trusted_models(trusted_model)
    for key, target in config_targets(cfg):
        if key == "model._target_":
            ok = _project_class(target, LatentAutoencoder, models) is not None
        elif key == "data._target_":
            ok = _project_class(target, FactorImageDataModule, datasets) is not None
        elif key.startswith("data."):
            ok = False  # a data module takes plain values only
        else:
            ok = target in trusted or target.startswith(TRUSTED_PREFIXES)
        if not ok:
            hint = ""
            if key == "data._target_" and target not in datasets:
                hint = (
                    " (a dataset of your own: trust it by the heatmap_latent.datasets entry-point group "
                    "or trust_datasets)"
                )
            if key == "model._target_" and target not in models:
                hint = " (a model of your own: trust it by the heatmap_latent.models entry-point group or trust_models)"
            raise RunLoadError(
                f"{cfg_path}: {key}={target} is not a class this project configures; not loading the run{hint}"
            )
    for key in ("model._target_", "data._target_"):
        if OmegaConf.select(cfg, key, default=None) is None:
            raise RunLoadError(f"{cfg_path}: {key} is missing")


def load_model(
    checkpoint: Path, cfg: DictConfig, map_location: str = "cpu", trusted_model: Iterable[str] = ()
) -> LatentAutoencoder:
    """The run's model class loads its own checkpoint with ``weights_only=True``."""
    cls = _project_class(str(cfg.model._target_), LatentAutoencoder, trusted_models(trusted_model))
    if cls is None:
        raise RunLoadError(f"{cfg.model._target_} is not a heatmap-latent model")
    try:
        model = cls.load_from_checkpoint(checkpoint, map_location=map_location, weights_only=True)
    # OSError: a truncated archive can fail in a seek (Errno 22), depending on where it was cut
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, KeyError, TypeError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RunLoadError(f"{checkpoint} is not a loadable {cls.__name__} checkpoint: {first}") from err
    return model.eval()


def load_run(
    path: str | Path,
    which: str = "best",
    map_location: str = "cpu",
    trusted_data: Iterable[str] = (),
    trusted_model: Iterable[str] = (),
) -> LoadedRun:
    """A run directory (or a checkpoint inside one) loaded: its config checked (``trusted_data``,
    ``trusted_model``: data modules and models from outside the package that the user trusts), its
    model, its data module set up."""
    run_dir, checkpoint = resolve_run(path, which)
    cfg = load_config(run_dir, trusted_data, trusted_model)
    model = load_model(checkpoint, cfg, map_location, trusted_model)
    try:
        datamodule = instantiate(cfg.data)
        datamodule.setup()
    except (InstantiationException, OmegaConfBaseException, ValueError, TypeError) as err:
        cause = err.__cause__ or err
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise RunLoadError(f"{run_dir / '.hydra' / 'config.yaml'}: data: {first}") from err
    if torch.Size(datamodule.images.shape[-2:]) != torch.Size([model.hparams.image_size] * 2):
        raise RunLoadError(
            f"{checkpoint} expects {model.hparams.image_size}px images, the run's data has "
            f"{tuple(datamodule.images.shape[-2:])}"
        )
    choices = run_choices(run_dir, cfg, model, datamodule.name)
    name = f"{choices['model']}-{choices['data']} ({run_dir.name})"
    return LoadedRun(name, run_dir, checkpoint, cfg, model, datamodule, choices, run_overrides(run_dir))


def expand_runs(entries: Sequence[str]) -> list[Path]:
    """Run directories or checkpoints as given; a sweep directory expands to its completed jobs.

    A job of a sweep whose ``job.json`` does not say ``completed`` (failed, interrupted, or still
    training) is left out with a warning: its checkpoint is not a converged model.
    """
    runs: list[Path] = []
    for entry in entries:
        path = Path(str(entry)).expanduser()
        if path.is_dir() and not (path / ".hydra").is_dir():
            jobs = sorted((p for p in path.iterdir() if (p / ".hydra").is_dir()), key=lambda p: (len(p.name), p.name))
            done = [j for j in jobs if (read_record(j) or {}).get("status") == "completed"]
            if len(done) < len(jobs):
                left = ", ".join(j.name for j in jobs if j not in done)
                log.warning("%s: leaving out jobs %s (not completed; finish them with resume=true)", path, left)
            if jobs:
                runs.extend(done)
                continue
        runs.append(path)
    if not runs:
        raise RunLoadError(f"no completed run in {', '.join(map(str, entries))}")
    return runs
