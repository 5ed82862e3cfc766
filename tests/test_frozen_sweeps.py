"""A sweep fixed when it starts (sweeps/frozen.py): frozen job configs, twin sweeps, code errors."""

import json
import pickle
import shutil
import signal
import subprocess
import sys
import time

import pytest
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from heatmap_latent.core.errors import UserError
from heatmap_latent.sweeps.frozen import FrozenConfigLoader, Manifest, _differences
from heatmap_latent.sweeps.records import read_record
from heatmap_latent.training.run import instantiation_error
from tests.conftest import ROOT, TINY_DATA

QUIET = ["trainer.max_epochs=1", "logger=none", "~callbacks.embedding_projector"]


def sweep_cmd(*args, root=ROOT):
    return [sys.executable, str(root / "train.py"), "-m", *TINY_DATA, *args]


# --- fast: the pieces -------------------------------------------------------------------------------
def test_an_unimportable_target_names_its_cause_in_one_line():
    with pytest.raises(InstantiationException) as caught:
        instantiate({"_target_": "gone_module.Callback"})
    assert instantiation_error(caught.value) == (
        "Error loading 'gone_module.Callback': ModuleNotFoundError: No module named 'gone_module'"
    )


def test_the_frozen_loader_travels_to_worker_processes(tmp_path):
    loader = pickle.loads(pickle.dumps(FrozenConfigLoader(_Inner(), {"a=1": tmp_path / "job_0.yaml"})))
    assert loader.files == {"a=1": str(tmp_path / "job_0.yaml")}
    assert loader.load_sweep_config(None, ["b=2"]) == ("composed", ["b=2"])  # not frozen: Hydra's loader
    assert loader.search_path_name == "inner's"  # everything else: Hydra's loader


class _Inner:
    search_path_name = "inner's"

    def load_sweep_config(self, master, overrides):
        return ("composed", overrides)


def test_resume_says_in_one_line_how_the_command_line_differs():
    line = _differences([["seed=1"], ["seed=4"]], [["seed=1"], ["seed=2"]])
    assert line == (
        "the command line's seed=4 (not in the frozen sweep: ignored); "
        "the frozen sweep's seed=2 (not on the command line: kept)"
    )
    assert _differences([["seed=1"]], [["seed=1"]]) == ""


def test_a_corrupt_frozen_record_is_one_clear_error(tmp_path):
    (tmp_path / "frozen").mkdir()
    (tmp_path / "frozen" / "sweep.json").write_text("{not json")
    with pytest.raises(UserError, match="sweep.json is not a frozen sweep's record"):
        Manifest.read(tmp_path)


# --- real sweeps -------------------------------------------------------------------------------------
def _copy_checkout(dest):
    """The checkout's train.py and conf/ (the package comes from the installed one): a tree to edit."""
    dest.mkdir()
    shutil.copy(ROOT / "train.py", dest / "train.py")
    shutil.copytree(ROOT / "conf", dest / "conf")
    return dest


@pytest.mark.slow
def test_twin_sweeps_train_every_job_exactly_once(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["seed=1,2,3", "trainer.max_epochs=6", "~callbacks.early_stopping", "logger=none"]
    cmd = sweep_cmd(*args, f"hydra.sweep.dir={sweep}")
    # started at once, as from two terminals: one freezes the sweep, the other joins it
    first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    second = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out_a, out_b = first.communicate(timeout=600)[0], second.communicate(timeout=600)[0]
    assert first.returncode == 0 and second.returncode == 0, (out_a + out_b)[-3000:]
    assert sorted(["froze 3 jobs" in out for out in (out_a, out_b)]) == [False, True]
    assert "a twin of this sweep is running" in out_a + out_b and "joining it" in out_a + out_b
    records = [read_record(sweep / j) for j in "012"]
    assert all(r["status"] == "completed" for r in records)
    assert len({r["sweep_id"] for r in records}) == 1
    for job in "012":
        ckpts = sorted(p.name for p in (sweep / job / "checkpoints").glob("*.ckpt"))
        assert len(ckpts) == 2 and "last.ckpt" in ckpts, ckpts  # one best checkpoint of one training
        assert not any("-v" in name for name in ckpts), ckpts  # no epoch_00N-v1.ckpt of a second training
        assert (sweep / job / "train.log").read_text().count("metrics: {") == 1
    trainers = {r["trained_by"] for r in records}
    assert len(trainers) == 2  # both processes trained: each job by one of them
    # each process names the jobs it found completed, or skipped while the other trained them
    for out in (out_a, out_b):
        assert "found completed by another process" in out or "is being trained by" in out


@pytest.mark.slow
def test_a_sweep_keeps_its_config_when_conf_changes_and_resume_finishes_it_once_the_code_is_back(tmp_path):
    checkout = _copy_checkout(tmp_path / "checkout")
    (checkout / "my_callbacks.py").write_text(
        "import lightning.pytorch as pl\n\nclass Marker(pl.Callback):\n    pass\n"
    )
    sweep = tmp_path / "sweep"
    args = ["seed=1,2,3", "trainer.max_epochs=12", "~callbacks.early_stopping", "logger=none"]
    args += ["+callbacks.marker._target_=my_callbacks.Marker", f"hydra.sweep.dir={sweep}"]
    proc = subprocess.Popen(
        sweep_cmd(*args, root=checkout), cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 300
    while not (sweep / "0" / "checkpoints" / "last.ckpt").exists() and time.time() < deadline:
        time.sleep(0.05)
    # the researcher edits conf/ while the sweep runs: a callback this code does not have
    default = checkout / "conf" / "callbacks" / "default.yaml"
    new_entry = "\nbrand_new:\n  _target_: heatmap_latent.training.callbacks.NotWrittenYet\n"
    default.write_text(default.read_text() + new_entry)
    while not (sweep / "1" / "checkpoints" / "last.ckpt").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode != 0 and "resume=true" in err.strip().splitlines()[-1]
    assert read_record(sweep / "0")["status"] == "completed"  # trained with the frozen config, the edit unseen

    # the code the sweep started with is gone: resume says why in one line and trains nothing
    (checkout / "my_callbacks.py").rename(checkout / "my_callbacks.py.away")
    gone = subprocess.run(
        sweep_cmd(*args, "resume=true", root=checkout), cwd=checkout, capture_output=True, text=True, timeout=300
    )
    assert gone.returncode != 0
    assert gone.stderr.strip().splitlines()[-1] == (
        "train.py: error: callbacks.marker._target_=my_callbacks.Marker cannot be imported: "
        "ModuleNotFoundError: No module named 'my_callbacks'"
    )
    assert read_record(sweep / "1") is None

    # the code is back: resume finishes the frozen sweep, conf/'s new callback still unseen
    (checkout / "my_callbacks.py.away").rename(checkout / "my_callbacks.py")
    done = subprocess.run(
        sweep_cmd(*args, "resume=true", "seed=1,2,3,4", root=checkout),
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert "resume=true: the sweep as frozen at" in log
    assert "the command line's seed=4 (not in the frozen sweep: ignored)" in log
    assert [read_record(sweep / j)["status"] for j in "012"] == ["completed"] * 3
    assert not (sweep / "3").exists()
    for job in "012":
        config = (sweep / job / ".hydra" / "config.yaml").read_text()
        assert "my_callbacks.Marker" in config and "brand_new" not in config
    manifest = json.loads((sweep / "frozen" / "sweep.json").read_text())
    assert len(manifest["jobs"]) == 3 and manifest["code"]["version"]
    assert read_record(sweep / "2")["code"] == manifest["code"]
