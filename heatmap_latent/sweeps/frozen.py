"""A sweep fixed when it starts: every job's composed config written to ``<sweep dir>/frozen/``.

Hydra composes a sweep's jobs from ``conf/`` as each one launches; a sweep that runs for hours then
trains its later jobs from whatever ``conf/`` holds by then. The frozen sweeper
(``hydra_plugins/heatmap_latent_sweeper/frozen_sweeper.py``) composes every job once, before the
first starts, and writes them here:

- ``frozen/sweep.json``: the sweep's id, when and by whom it was frozen, the code (package version,
  git commit), and per job its overrides, its config hash (``records.config_hash``) and its file;
- ``frozen/job_<n>.yaml``: job n's whole composed config (Hydra's part included).

Every launcher then composes a job by reading its file (:class:`FrozenConfigLoader`). Only the keys
that do not change what a job computes (``resume``, ``break_lock``) come from today's command line.

Two sweeps of the same jobs started into one directory at once are twins: the second joins the
first's frozen sweep (same id) while a process of the first is alive, and a job either of them
completed in this sweep is not trained again by the other (``records.finished_metrics``). A sweep
started again later, without ``resume=true``, freezes anew and trains every job again, by design.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.errors import UserError
from heatmap_latent.sweeps.config_hash import config_hash
from heatmap_latent.sweeps.lock import Holder, JobLock, process_name

log = logging.getLogger(__name__)

FROZEN = "frozen"
MANIFEST = "sweep.json"
# the environment variable through which a job knows the sweep it belongs to (hydra.job.env_set)
SWEEP_ID_ENV = "HEATMAP_LATENT_SWEEP_ID"
# what a job takes from today's command line rather than from its frozen config
LIVE_KEYS = ("resume", "break_lock")


@functools.cache
def code_version() -> dict[str, Any]:
    """The package's version and, from a git checkout, its commit and whether tracked files differ."""
    # the installed distribution's version: the package's root (heatmap_latent.__version__) imports the
    # layers above this one
    root = Path(__file__).resolve().parents[2]
    out: dict[str, Any] = {"version": metadata.version("heatmap-latent"), "commit": None, "dirty": None}

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        out["commit"] = git("rev-parse", "HEAD")
        out["dirty"] = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        pass  # not a git checkout (an installed wheel): the version says it
    return out


def job_key(overrides: Sequence[str]) -> str:
    """A job's overrides as the key of its frozen config (the sweeper passes them as it froze them)."""
    return "\n".join(overrides)


def task_hash(cfg: DictConfig) -> str:
    task = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    return config_hash(task)


class Manifest:
    """``frozen/sweep.json`` of one sweep directory."""

    def __init__(self, sweep_dir: Path, data: dict[str, Any]) -> None:
        self.sweep_dir, self.data = Path(sweep_dir), data

    @property
    def dir(self) -> Path:
        return self.sweep_dir / FROZEN

    @property
    def sweep_id(self) -> str:
        return self.data["sweep_id"]

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return self.data["jobs"]

    def overrides(self) -> list[list[str]]:
        return [list(job["overrides"]) for job in self.jobs]

    def files(self) -> dict[str, Path]:
        return {job_key(job["overrides"]): self.dir / job["config"] for job in self.jobs}

    @classmethod
    def read(cls, sweep_dir: Path) -> Manifest | None:
        path = Path(sweep_dir) / FROZEN / MANIFEST
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            if not isinstance(data.get("jobs"), list) or "sweep_id" not in data:
                raise ValueError("no sweep_id or jobs")
        except (OSError, ValueError) as err:
            why = f"{path} is not a frozen sweep's record ({err}); move it away to start the sweep anew"
            raise UserError(why) from err
        return cls(sweep_dir, data)

    # twins: the processes that run this frozen sweep now, one file each
    def live_path(self, holder: Holder) -> Path:
        return self.dir / f"live.{holder.host}.{holder.pid}.{holder.token}.json"

    def live_holders(self) -> list[Holder]:
        holders = []
        for path in self.dir.glob("live.*.json"):
            try:
                holder = Holder(**json.loads(path.read_text()))
            except (OSError, ValueError, TypeError):
                continue
            if holder.is_stale():
                path.unlink(missing_ok=True)
            else:
                holders.append(holder)
        return holders

    def register(self, holder: Holder) -> Path:
        path = self.live_path(holder)
        write_atomic(path, json.dumps(asdict(holder)))
        return path


def _frozen_yaml(cfg: DictConfig, sweep_dir: Path, sweep_id: str) -> str:
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.hydra.sweep.dir = str(sweep_dir)  # its ${now:...} resolved: resume finds the same directories
        cfg.hydra.job.env_set[SWEEP_ID_ENV] = sweep_id
    return OmegaConf.to_yaml(cfg)


def _differences(given: list[list[str]], frozen: list[list[str]]) -> str:
    """One line: the overrides of the command line's jobs that no frozen job has, and the converse."""
    new = sorted({o for job in given for o in job} - {o for job in frozen for o in job})
    gone = sorted({o for job in frozen for o in job} - {o for job in given for o in job})
    parts = []
    if new:
        parts.append(f"the command line's {', '.join(new)} (not in the frozen sweep: ignored)")
    if gone:
        parts.append(f"the frozen sweep's {', '.join(gone)} (not on the command line: kept)")
    return "; ".join(parts)


def _strip_live(jobs: list[list[str]]) -> list[list[str]]:
    return [[o for o in job if o.split("=", 1)[0].lstrip("+~") not in LIVE_KEYS] for job in jobs]


def freeze(
    sweep_dir: Path,
    jobs: list[list[str]],
    compose: Callable[[list[str]], DictConfig],
    resume: bool,
    holder: Holder,
) -> Manifest:
    """The frozen sweep this process runs: the one in ``sweep_dir`` with ``resume`` or when a twin
    of the same jobs is alive there, else a new one composed now with ``compose(overrides)``. Registers
    ``holder`` as one of its live processes."""
    sweep_dir = Path(sweep_dir)
    gate = JobLock(sweep_dir / FROZEN).acquire_waiting(60)
    try:
        old = Manifest.read(sweep_dir)
        given = _strip_live(jobs)
        if old is not None and resume:
            diff = _differences(given, _strip_live(old.overrides()))
            log.info(
                "resume=true: the sweep as frozen at %s (%d jobs, %s)%s",
                old.data["frozen_at"],
                len(old.jobs),
                old.dir,
                f"; it differs from the command line: {diff}" if diff else "",
            )
            old.register(holder)
            return old
        configs = [compose(job) for job in jobs]
        hashes = [task_hash(c) for c in configs]
        if old is not None and [j["config_hash"] for j in old.jobs] == hashes and old.live_holders():
            log.info(
                "a twin of this sweep is running (%s, frozen at %s): joining it; "
                "a job it completes is not trained again",
                ", ".join(map(str, old.live_holders())),
                old.data["frozen_at"],
            )
            old.register(holder)
            return old
        sweep_id = uuid.uuid4().hex
        entries = []
        for num, (job, cfg, digest) in enumerate(zip(jobs, configs, hashes, strict=True)):
            name = f"job_{num}.yaml"
            write_atomic(sweep_dir / FROZEN / name, _frozen_yaml(cfg, sweep_dir.absolute(), sweep_id))
            entries.append({"num": num, "overrides": job, "config_hash": digest, "config": name})
        for stale in (sweep_dir / FROZEN).glob("job_*.yaml"):
            if stale.name not in {e["config"] for e in entries}:
                stale.unlink()
        data = {
            "sweep_id": sweep_id,
            "frozen_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "frozen_by": process_name(),
            "code": code_version(),
            "jobs": entries,
        }
        write_atomic(sweep_dir / FROZEN / MANIFEST, json.dumps(data, indent=2))
        manifest = Manifest(sweep_dir, data)
        log.info("froze %d jobs in %s: later edits of conf/ do not change this sweep", len(entries), manifest.dir)
        manifest.register(holder)
        return manifest
    finally:
        gate.release()


class _WrappedLoader:
    """Hydra's config loader with ``load_sweep_config`` answered by a subclass; everything else is
    Hydra's. It travels to joblib's and submitit's workers with the rest of Hydra's context (it pickles)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "inner":  # unpickling looks for dunders before inner is set
            raise AttributeError(name)
        return getattr(self.inner, name)

    @staticmethod
    def _take_live_keys(master_config: DictConfig, cfg: DictConfig) -> None:
        """Today's ``resume`` and ``break_lock`` in a frozen config (open for writing)."""
        for key in LIVE_KEYS:
            if key in master_config:
                cfg[key] = master_config[key]


class FrozenConfigLoader(_WrappedLoader):
    """Hydra's config loader, except that a frozen job's config is read from its file: launchers
    compose each job with ``config_loader.load_sweep_config``."""

    def __init__(self, inner: Any, files: dict[str, Path]) -> None:
        super().__init__(inner)
        self.files = {k: str(v) for k, v in files.items()}

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        path = self.files.get(job_key(sweep_overrides))
        if path is None:
            return self.inner.load_sweep_config(master_config, sweep_overrides)
        loaded = OmegaConf.load(path)
        # Hydra's node typed as Hydra composes it (the master's), holding the frozen job's values
        typed = master_config.hydra.copy()
        OmegaConf.set_struct(typed, False)
        cfg = OmegaConf.create({"hydra": OmegaConf.merge(typed, loaded.hydra)})
        with open_dict(cfg):
            for key in loaded:
                if key != "hydra":
                    cfg[key] = loaded[key]
            self._take_live_keys(master_config, cfg)
        OmegaConf.set_struct(cfg, True)
        OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
        return cfg


def freeze_search(
    sweep_dir: Path, fixed: list[str], space: dict[str, str], compose: Callable[[list[str]], DictConfig]
) -> Path:
    """An Optuna search's frozen part, whose trials are not known at its start: the base config
    (``frozen/base.yaml``, composed from the fixed overrides) and the search space
    (``frozen/search.json``). A search continued or joined with the same overrides and space keeps
    the base frozen first; another one freezes anew, saying so. Returns the base's path."""
    sweep_dir = Path(sweep_dir)
    record, base = sweep_dir / FROZEN / "search.json", sweep_dir / FROZEN / "base.yaml"
    gate = JobLock(sweep_dir / FROZEN).acquire_waiting(60)
    try:
        old = json.loads(record.read_text()) if record.is_file() else None
        if old is not None and base.is_file() and old.get("fixed") == fixed and old.get("space") == space:
            log.info("the search's base config and space as frozen at %s (%s)", old["frozen_at"], base)
            return base
        if old is not None:
            now = {*fixed, *(f"{k}={v}" for k, v in space.items())}
            then = {*old.get("fixed", []), *(f"{k}={v}" for k, v in old.get("space", {}).items())}
            log.warning(
                "this search differs from the one frozen at %s (now %s; then %s): freezing it anew",
                old.get("frozen_at"),
                ", ".join(sorted(now - then)) or "nothing more",
                ", ".join(sorted(then - now)) or "nothing more",
            )
        cfg = compose(fixed)
        write_atomic(base, OmegaConf.to_yaml(cfg))
        data = {
            "frozen_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "frozen_by": process_name(),
            "code": code_version(),
            "fixed": fixed,
            "space": space,
            "config_hash": task_hash(cfg),
        }
        write_atomic(record, json.dumps(data, indent=2))
        log.info("froze the search's base config and space in %s: later edits of conf/ do not change it", record.parent)
        return base
    finally:
        gate.release()


class FrozenBaseLoader(_WrappedLoader):
    """For an Optuna search: a trial's config is the frozen base with the trial's values set in it.
    Hydra composes the trial as usual (its own part: directories, overrides, environment), then
    every other key is the frozen base's, plus the trial's parameters. A search over a config group
    (``model: choice(vae, ae)``), whose choice is a whole subtree, composes such trials from ``conf/``."""

    def __init__(self, inner: Any, base: Path, space_keys: list[str]) -> None:
        super().__init__(inner)
        self.base, self.space_keys = str(base), list(space_keys)

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        from hydra.core.override_parser.overrides_parser import OverridesParser  # noqa: PLC0415

        cfg = self.inner.load_sweep_config(master_config, sweep_overrides)
        task = OmegaConf.load(self.base)
        with open_dict(task):
            task.pop("hydra", None)
        if any("/" in k or OmegaConf.is_dict(OmegaConf.select(task, k, default=None)) for k in self.space_keys):
            return cfg
        with open_dict(task):
            for override in OverridesParser.create().parse_overrides(list(sweep_overrides)):
                key = override.get_key_element().lstrip("+~")
                if key in self.space_keys:
                    OmegaConf.update(task, key, override.value(), merge=False)
            self._take_live_keys(master_config, task)
        with open_dict(cfg):
            for key in [k for k in cfg if k != "hydra"]:
                del cfg[key]
            for key in task:
                cfg[key] = task[key]
        OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
        return cfg


def current_sweep_id() -> str | None:
    """The frozen sweep this job runs in (set by Hydra from the job's ``hydra.job.env_set``)."""
    return os.environ.get(SWEEP_ID_ENV) or None
