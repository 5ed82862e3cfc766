"""The one atomic writer: a file appears whole under its name, or not at all.

The standard library has no atomic file write (the ``atomicwrites`` package is archived), so this
is the one place that does it: write a uniquely named temporary file in the target's directory
(two writers never share one), flush it to disk, then ``os.replace`` it over the target, which
POSIX makes atomic within a filesystem. A failure removes the temporary file and leaves any earlier
version of the target untouched; an ``OSError`` (a full disk, a read-only directory) becomes a
one-line :class:`WriteError` that names the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from heatmap_latent.core.errors import WriteError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp makes its file private (0600); the file takes the mode a plain open() would have given it
FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to (by any library); on success it becomes ``path``."""
    path = Path(path)
    tmp_path: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        with open(tmp_path, "rb+") as f:  # what the writer wrote reaches the disk before the rename
            os.fsync(f.fileno())
        os.chmod(tmp_path, path.stat().st_mode & 0o777 if path.exists() else FILE_MODE)
        os.replace(tmp_path, path)
    except OSError as err:
        reason = os.strerror(err.errno).lower() if err.errno else str(err)
        raise WriteError(f"{reason} writing {path}", str(path)) from err
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    return Path(path)
