"""The one atomic writer: whole files or nothing, unique temporary names, ordinary permissions."""

import os
import stat
import threading

import pytest

from heatmap_latent.core.atomic import FILE_MODE, atomic_path, write_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "job.json"
    write_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.json"]


def test_files_get_the_mode_an_open_would_give(tmp_path):
    path = write_atomic(tmp_path / "report.html", "<p>")
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE == 0o666 & ~_umask()
    os.chmod(path, 0o640)
    write_atomic(path, "<p>again")  # a replaced file keeps its own mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_two_writers_at_once_never_share_a_temporary(tmp_path):
    target = tmp_path / "summary.md"
    texts = [f"writer {i}\n" * 20000 for i in range(8)]
    threads = [threading.Thread(target=write_atomic, args=(target, t)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() in texts  # one whole text, not an interleaving
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
