"""One process at a time per job directory: a lock file naming its holder.

``run_job`` takes the lock before the job's work starts and releases it when the job ends, so two
sweeps started into one directory (a resume launched while the first is still alive, a second
terminal, a requeued cluster job) never train one job at the same time: the second skips a locked
job with a warning naming the holder, and a single run stops with one line.

What it relies on, and so what works on a shared filesystem: creating a file with ``O_CREAT |
O_EXCL`` fails if it exists (atomic on local filesystems and on NFSv3 and later), and ``rename`` is
atomic. No ``flock`` or ``fcntl`` lock, which NFS does not reliably give. A lock whose holder ran on
this host and is no longer alive is stale and taken over; a lock from another host cannot be checked
from here, so it is reported, and ``break_lock=true`` takes it over.

Before the lock is taken, Hydra has written the job's ``.hydra/*.yaml`` and opened its log: the
YAML files are the same for every process launching the same job of the same sweep (same overrides,
same directory), and the log is opened for appending, so what the second process writes there
cannot change the job that holds the lock.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from heatmap_latent.core.errors import UserError
from heatmap_latent.sweeps.slurm import slurm_job

LOCK = "job.lock"
_HELD: set[str] = set()  # the tokens of the locks this process holds


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    token: str
    since: float
    slurm_job: str | None = None  # the SLURM job it ran in, and that job's restart count
    slurm_restarts: int = 0

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"

    @classmethod
    def this_process(cls) -> Holder:
        """A new holder for this process (its own token)."""
        job = slurm_job()
        return cls(
            socket.gethostname(),
            os.getpid(),
            uuid.uuid4().hex,
            time.time(),
            job.job_id if job else None,
            job.restarts if job else 0,
        )

    def is_stale(self) -> bool:
        """This host's holder that is no longer alive (or a lock this process left behind), or an
        earlier start of this process's SLURM job (SLURM has killed it before starting this one)."""
        job = slurm_job()
        if job is not None and self.slurm_job == job.job_id and self.slurm_restarts < job.restarts:
            return True
        if self.host != socket.gethostname():
            return False
        if self.pid == os.getpid():
            return self.token not in _HELD
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False


class JobLocked(UserError):
    """Another process holds the job directory's lock."""

    def __init__(self, job_dir: Path, holder: Holder) -> None:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.since))
        super().__init__(
            f"{job_dir} is being trained by {holder} (since {since}, lock {Path(job_dir) / LOCK}); "
            "wait for it, or take the lock with break_lock=true if that process is gone"
        )
        self.job_dir, self.holder = Path(job_dir), holder


def _read(path: Path) -> Holder | None:
    try:
        return Holder(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def process_name() -> str:
    """``host:pid`` of this process, as job records and Optuna trials name who ran them."""
    return f"{socket.gethostname()}:{os.getpid()}"


def read_holder(job_dir: Path) -> Holder | None:
    """The holder named in ``job_dir``'s lock file, or ``None`` if there is no readable lock."""
    return _read(Path(job_dir) / LOCK)


class JobLock:
    """``with JobLock(job_dir):`` holds ``job_dir/job.lock`` for the block; raises :class:`JobLocked`."""

    def __init__(self, job_dir: str | os.PathLike, force: bool = False) -> None:
        self.job_dir, self.force = Path(job_dir), force
        self.path = self.job_dir / LOCK
        self.me = Holder.this_process()

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(self.me), f)
            f.flush()
            os.fsync(f.fileno())
        _HELD.add(self.me.token)
        return True

    def _take_over(self, holder: Holder) -> None:
        """Move the stale lock aside by an atomic rename; if what moved is not that lock (another
        process took it over first), put it back and report its holder."""
        aside = self.path.with_name(f"{LOCK}.{self.me.token}.stale")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # someone else moved it: try to create ours
        moved = _read(aside)
        if moved is not None and moved.token != holder.token:
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            raise JobLocked(self.job_dir, moved)
        aside.unlink(missing_ok=True)

    def acquire(self) -> JobLock:
        self.job_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(50):
            if self._create():
                return self
            holder = read_holder(self.job_dir)
            if holder is None:  # created but not written yet, or left empty by a crash
                try:
                    age = time.time() - self.path.stat().st_mtime
                except FileNotFoundError:
                    continue
                if age < 10:
                    time.sleep(0.1)
                    continue
                holder = Holder("?", -1, "", 0.0)
                self._take_over(holder)
                continue
            if self.force or holder.is_stale():
                self._take_over(holder)
                continue
            raise JobLocked(self.job_dir, holder)
        raise JobLocked(self.job_dir, read_holder(self.job_dir) or Holder("?", -1, "", 0.0))

    def acquire_waiting(self, timeout_s: float, poll_s: float = 0.1) -> JobLock:
        """:meth:`acquire`, waiting up to ``timeout_s`` for a live holder to let go (a short gate)."""
        deadline = time.time() + timeout_s
        while True:
            try:
                return self.acquire()
            except JobLocked:
                if time.time() > deadline:
                    raise
                time.sleep(poll_s)

    def release(self) -> None:
        holder = read_holder(self.job_dir)
        if holder is not None and holder.token == self.me.token:
            self.path.unlink(missing_ok=True)
        _HELD.discard(self.me.token)

    def __enter__(self) -> JobLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
