"""Every fault of the README's "What happens when things go wrong", tried for real."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import lightning.pytorch as pl
import pytest
import torch
from omegaconf import open_dict

from heatmap_latent.analysis import RunLoadError, load_run
from heatmap_latent.core.errors import NonFiniteLossError, UserError
from heatmap_latent.training import train
from tests.conftest import ROOT, TINY_DATA, run_analyze
from tests.faulty_models import NaNAfterAE
from tests.golden import GOLDEN_RUN


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def weights(path):
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


# --- resume and interruption -------------------------------------------------------------------
@pytest.mark.parametrize("model", ["vae", "capacity_vae", "factor_vae"])
def test_resume_gives_the_same_weights_as_training_straight(make_cfg, tmp_path, model):
    common = ["trainer.deterministic=true", "logger=none", "~callbacks.early_stopping", f"model={model}"]
    common += ["model.capacity_steps=20"] if model == "capacity_vae" else []
    straight = make_cfg(*common, "trainer.max_epochs=2")
    with open_dict(straight):
        straight.paths.output_dir = str(tmp_path / "straight")
    straight_metrics = train(straight)
    first = make_cfg(*common, "trainer.max_epochs=1")
    with open_dict(first):
        first.paths.output_dir = str(tmp_path / "resumed")
    train(first)
    resumed = make_cfg(*common, "trainer.max_epochs=2", "ckpt_path=last")
    with open_dict(resumed):
        resumed.paths.output_dir = str(tmp_path / "resumed")
    metrics = train(resumed)
    assert metrics["epochs"] == 2
    a, b = weights(tmp_path / "straight/checkpoints/last.ckpt"), weights(tmp_path / "resumed/checkpoints/last.ckpt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    if model == "capacity_vae":  # the schedule continued where it stopped: C at the straight run's step
        assert metrics["steps"] == straight_metrics["steps"] == 10  # 2 epochs x 5 batches of 16
        # train/capacity: the epoch's mean of C = 15 * step / 20 over steps 5..9
        assert metrics["train/capacity"] == straight_metrics["train/capacity"] == pytest.approx(15 * 7 / 20)
        assert metrics["val/capacity"] == 15.0  # validation scores the objective at full capacity


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_interruption_leaves_a_last_checkpoint_that_resumes_in_the_same_run(tmp_path, sig):
    run = tmp_path / "run"
    cmd = [
        sys.executable,
        "train.py",
        *TINY_DATA,
        "trainer.max_epochs=100000",
        "~callbacks.early_stopping",
        "logger=none",
        f"hydra.run.dir={run}",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = run / "checkpoints" / "last.ckpt"
    deadline = time.time() + 120
    while not last.exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # a few more epochs
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=120)
    finally:  # never leave a 100000-epoch run behind to slow down the rest of the suite
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    assert f"saved {last}; resume with: python train.py ckpt_path={last}" in err
    if sig == signal.SIGTERM:
        assert "train.py: error: stopped by SIGTERM at epoch" in err.strip().splitlines()[-1]
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    stopped_epoch = ckpt["epoch"]
    assert stopped_epoch >= 1
    resume = [
        sys.executable,
        "train.py",
        *TINY_DATA,
        f"trainer.max_epochs={stopped_epoch + 2}",
        "logger=none",
        f"ckpt_path={last}",
    ]
    done = subprocess.run(resume, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    log = done.stderr + done.stdout
    assert f"Restoring states from the checkpoint path at {last}" in log
    assert f"`Trainer.fit` stopped: `max_epochs={stopped_epoch + 2}` reached" in log
    resumed = torch.load(last, map_location="cpu", weights_only=True)
    assert resumed["epoch"] >= stopped_epoch and resumed["global_step"] >= ckpt["global_step"]
    # the batches of the whole fit, those before the interruption included (a VAE: one step a batch)
    metrics = json.loads((run / "job.json").read_text())["metrics"]
    assert metrics["batches"] == metrics["steps"] == resumed["global_step"] > ckpt["global_step"]
    assert not (ROOT / "logs" / "runs").exists() or not any(
        str(last) in p.read_text() for p in (ROOT / "logs" / "runs").glob("*/.hydra/overrides.yaml")
    )


class SigintAt(pl.Callback):
    """Sends this process a SIGINT (a Ctrl-C) in the middle of one training batch."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_before_backward(self, trainer, pl_module, loss) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def default_sigint():
    """SIGINT handled as in a fresh ``python train.py`` (an earlier test of this process may have left
    it ignored, as Lightning does after a KeyboardInterrupt), and put back afterwards."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_ctrl_c_stops_at_the_end_of_the_batch_and_saves_it(make_cfg, tmp_path, default_sigint):
    cfg = make_cfg("model=ae", "trainer.max_epochs=100", "logger=none")
    with pytest.raises(SystemExit) as exit_info:
        train(cfg, extra_callbacks=[SigintAt(step=9)])
    assert exit_info.value.code == 1
    saved = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["global_step"] == 10  # the batch that was running finished its step, and no other began
    with pytest.raises(KeyboardInterrupt):  # after fitting, a Ctrl-C interrupts at once again
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)


def test_nan_loss_stops_with_epoch_and_step_and_keeps_the_best_checkpoint(make_cfg, tmp_path):
    cfg = make_cfg("model=ae", "trainer.max_epochs=1", "logger=none")
    train(cfg)  # a clean first run writes the best checkpoint
    best = next(p for p in (tmp_path / "checkpoints").glob("epoch_*.ckpt"))
    before = digest(best)
    cfg = make_cfg("model=ae", "trainer.max_epochs=5", "logger=none", "callbacks.finite_loss.check_every_n_steps=2")
    with open_dict(cfg):
        cfg.model._target_ = "tests.faulty_models.NaNAfterAE"
        cfg.callbacks.model_checkpoint.filename = "nan_run_{epoch:03d}"
    with pytest.raises(NonFiniteLossError, match=r"NaN or inf at epoch 1, step 7"):
        train(cfg)
    assert digest(best) == before


# --- bad input ------------------------------------------------------------------------------------
# conf/data/, as Hydra lists them
DATA_OPTIONS = "dsprites, dsprites_file, gaussian, mpi3d, shapes3d, sprites, student_t"
BAD_OVERRIDES = [
    ("model.latnt_dim=4", "Could not override 'model.latnt_dim'; Key 'latnt_dim' not in 'VAESchema'"),
    (
        "data=imagenet",
        f"Could not find 'data/imagenet'; options: {DATA_OPTIONS}",
    ),
    (
        "model=transformer",
        "Could not find 'model/transformer'; options: ae, beta_vae, capacity_vae, factor_vae, mmd_vae, tcvae, vae",
    ),
    ("model.beta==2", "model.beta"),
    # the typed schemas (heatmap_latent/training/schema.py) refuse a wrong type when composing
    ("model.latent_dim=three", "model.latent_dim=three; Value 'three' of type 'str' could not be converted to Integer"),
    ("model=ae model.beta=2", "Key 'beta' not in 'AESchema'"),
    ("seed=abc", "seed=abc; Value 'abc' of type 'str' could not be converted to Integer"),
    ("test=maybe", "Value 'maybe' is not a valid bool"),
    ("log_latents_every_n_epochs=often", "log_latents_every_n_epochs=often; Value 'often'"),
]
BAD_VALUES = [
    ("model.optimizer.lr=-0.1", "model.optimizer.lr must be > 0.0, got -0.1"),
    ("model.latent_dim=0", "model.latent_dim must be >= 1, got 0"),
    ("data.grid.size=14", "cannot rebuild a 14x14 image (data.grid.size)"),
    ("data.batch_size=0", "data.batch_size must be >= 1, got 0"),
    ("data.rho.stop=1.5", "data.rho must lie inside (-1, 1)"),
    # disentanglement_lib's network halves the side four times: a 12-pixel image is gone by its last block
    ("model/net=dlib_conv", "shrink a 12x12 image to nothing at block 4 of 4 (kernel 4, stride 2, padding 1"),
]


@pytest.mark.parametrize("override, message", BAD_OVERRIDES)
def test_unknown_keys_and_options_fail_in_one_line_at_startup(capsys, override, message):
    from heatmap_latent.training.preflight import check_overrides

    with pytest.raises(SystemExit) as exit_info:
        check_overrides("train", [*TINY_DATA, *override.split()], "train.py")
    assert str(exit_info.value.code).startswith("train.py: error: ") and message in str(exit_info.value.code)
    assert "\n" not in str(exit_info.value.code)


@pytest.mark.parametrize("override, message", BAD_VALUES)
def test_bad_values_fail_in_one_line_before_training(make_cfg, tmp_path, override, message):
    with pytest.raises(UserError) as err:
        train(make_cfg(override))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "tensorboard").exists()


# train.py itself, a subprocess each (10 s of imports on a slow CPU): the in-process checks above are the quick set's
@pytest.mark.slow
@pytest.mark.parametrize("override, message", [BAD_OVERRIDES[0], BAD_VALUES[0]])
def test_train_py_exits_non_zero_with_the_one_line(tmp_path, override, message):
    run = tmp_path / "run"
    cmd = [sys.executable, "train.py", *TINY_DATA, override, f"hydra.run.dir={run}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("train.py: error: ") and message in last_line
    assert not (run / "checkpoints").exists()


@pytest.fixture
def run_copy(tmp_path):
    """A copy of a trained VAE run's config and checkpoints, to damage: the committed golden run (a real
    train.py run directory), so that these tests need no training of their own."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(GOLDEN_RUN, run)
    return run


def analyze_fails(run_arg, out, message, subprocess_run=False):
    """analyze.py on a damaged run: one clear line, and the earlier report in ``out`` untouched."""
    from omegaconf import OmegaConf

    from heatmap_latent.analyze import analyze

    out.mkdir(exist_ok=True)
    (out / "report.html").write_text("an earlier report")
    if subprocess_run:
        done = run_analyze(f"run={run_arg}", f"output_dir={out}")
        assert done.returncode != 0
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith("analyze.py: error: "), done.stderr[-2000:]
    else:
        cfg = OmegaConf.load(ROOT / "conf" / "analyze.yaml")
        cfg.run, cfg.output_dir = str(run_arg), str(out)
        with pytest.raises(RunLoadError) as err:
            analyze(cfg)
        line = str(err.value)
    assert message in line and "\n" not in line
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]  # nothing new, nothing lost
    assert (out / "report.html").read_text() == "an earlier report"


def checkpoint_of(run):
    return next(p for p in (run / "checkpoints").glob("epoch_*.ckpt"))


@pytest.mark.slow  # a subprocess; the truncated and wrong-kind checkpoints below run in-process
def test_analyze_corrupt_checkpoint(run_copy, tmp_path):
    ckpt = checkpoint_of(run_copy)
    ckpt.write_bytes(b"\x00garbage" * 1000)
    analyze_fails(ckpt, tmp_path / "out", "is not a loadable VAE checkpoint", subprocess_run=True)


def test_analyze_truncated_checkpoint(run_copy, tmp_path):
    ckpt = checkpoint_of(run_copy)
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2])
    analyze_fails(ckpt, tmp_path / "out", "is not a loadable VAE checkpoint")


def test_analyze_wrong_kind_of_checkpoint(run_copy, tmp_path):
    torch.save({"weights": torch.zeros(3)}, checkpoint_of(run_copy))
    analyze_fails(run_copy, tmp_path / "out", "is not a loadable VAE checkpoint")


@pytest.mark.slow  # trains the tiny runs
def test_analyze_checkpoint_of_another_model(run_copy, tiny_runs, tmp_path):
    ae_ckpt = checkpoint_of(tiny_runs / "1")
    checkpoint_of(run_copy).write_bytes(ae_ckpt.read_bytes())  # an AE's weights under a VAE config
    analyze_fails(run_copy, tmp_path / "out", "is not a loadable VAE checkpoint")


def test_analyze_run_without_config(run_copy, tmp_path):
    import shutil

    shutil.rmtree(run_copy / ".hydra")
    analyze_fails(run_copy, tmp_path / "out", "has no .hydra/config.yaml")


def test_analyze_missing_checkpoint(run_copy, tmp_path):
    analyze_fails(run_copy / "checkpoints" / "nope.ckpt", tmp_path / "out", "does not exist")


def test_unsafe_pickles_in_a_checkpoint_are_refused(run_copy):
    ckpt = checkpoint_of(run_copy)
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    state["payload"] = NaNAfterAE  # an arbitrary Python object: loading it would run code
    torch.save(state, ckpt)
    with pytest.raises(RunLoadError, match="is not a loadable VAE checkpoint"):
        load_run(ckpt)


@pytest.mark.slow  # two full reports
def test_a_crash_while_writing_leaves_the_previous_report(tmp_path, tiny_runs):
    from dataclasses import replace

    from heatmap_latent.analysis.grouping import group_runs
    from heatmap_latent.analysis.pipeline import analyze_run
    from heatmap_latent.report.report import write_report
    from heatmap_latent.study.steps import STEPS

    analysis = analyze_run(load_run(tiny_runs / "1"), STEPS)
    groups = group_runs([analysis.identity], {analysis.name: analysis.metrics})
    out = tmp_path / "out"
    write_report([analysis], groups, [], {"first": 1}, out, "first", steps=STEPS)
    before = {p.name: digest(p) for p in (out / "report.html", out / "metrics.json")}

    def broken():
        raise RuntimeError("rendering this figure fails midway through the report")

    analysis.figures = [replace(f, build=broken) if f.name == "path_circle" else f for f in analysis.figures]
    with pytest.raises(RuntimeError, match="midway"):
        write_report([analysis], groups, [], {"second": 2}, out, "second", steps=STEPS)
    assert {p.name: digest(p) for p in (out / "report.html", out / "metrics.json")} == before
    assert not list(out.glob(".staging-*"))


# --- reproducibility -----------------------------------------------------------------------------
def test_same_seed_same_split_and_metrics_in_deterministic_mode(make_cfg, tmp_path):
    args = ["trainer.deterministic=true", "trainer.max_epochs=2", "logger=none", "callbacks=none", "seed=3"]
    first, second = train(make_cfg(*args)), train(make_cfg(*args))
    assert first["val/loss"] == second["val/loss"] and first["test/frobenius"] == second["test/frobenius"]
    third = train(make_cfg(*args[:-1], "seed=4"))
    assert third["val/loss"] != first["val/loss"]


# --- every job checked before the first one runs ---------------------------------------------------
PREFLIGHT_ERRORS = [
    (
        ["-m", "data=gaussain,student_t"],
        f"In 'train': Could not find 'data/gaussain'; options: {DATA_OPTIONS}",
    ),
    (["trainer.max_epochs=[1]"], "trainer.max_epochs must be int or null, got [1]"),
    (["-m", "trainer.max_epochs=2,[1]"], "trainer.max_epochs must be int or null, got [1]"),
    (["trainer.max_epochs=-5"], "trainer.max_epochs must be >= -1, got -5"),
    (["trainer.devices=two"], "trainer: "),
    (["trainer.precision=17"], "trainer.precision must be one of 64, 32, 16"),
    (["+trainer.bogus=1"], "trainer.bogus is not an argument of lightning's Trainer"),
    (["model.optimizer._target_=torch.optim.Nope"], "model.optimizer._target_=torch.optim.Nope cannot be imported"),
    (["-m", "model.optimizer.lr=1e-3,-1"], "model.optimizer.lr must be > 0.0, got -1"),
    (["-m", "experiment=study", "model.latent_dim=0"], "model.latent_dim must be >= 1, got 0"),
    (["hydra.run.dir=/etc/hostname/run"], "cannot write the output directory /etc/hostname/run: /etc/hostname is not"),
]


@pytest.mark.parametrize("argv, message", PREFLIGHT_ERRORS, ids=[" ".join(a) for a, _ in PREFLIGHT_ERRORS])
def test_preflight_reports_every_bad_value_in_one_line(argv, message):
    from heatmap_latent.training.preflight import preflight

    with pytest.raises(SystemExit) as exit_info:
        preflight("train", [*TINY_DATA, *argv], "train.py")
    line = str(exit_info.value.code)
    assert line.startswith("train.py: error: ") and message in line and "\n" not in line


def test_preflight_passes_good_sweeps_through_unchanged():
    from heatmap_latent.training.preflight import preflight

    argv = ["-m", *TINY_DATA, "model=vae,ae", "experiment=study"]
    assert preflight("train", argv, "train.py") == argv


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv, message",
    [(["-m", "data=gaussain,student_t"], "Could not find 'data/gaussain'"), (["trainer.max_epochs=[1]"], "[1]")],
)
def test_train_py_sweep_typo_and_trainer_argument_are_one_line_before_any_job(tmp_path, argv, message):
    sweep = tmp_path / "sweep"
    lead = [a for a in argv if a == "-m"]
    cmd = [sys.executable, "train.py", *lead, *TINY_DATA, *[a for a in argv if a != "-m"]]
    cmd += [f"hydra.sweep.dir={sweep}", f"hydra.run.dir={sweep}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [done.stderr.strip().splitlines()[-1]]  # one line, nothing else
    assert done.stderr.startswith("train.py: error: ") and message in done.stderr
    assert not sweep.exists()  # no job ran


@pytest.mark.slow
def test_resuming_a_checkpoint_uses_that_runs_own_config(tmp_path):
    run = tmp_path / "run"
    base = [sys.executable, "train.py", *TINY_DATA]
    first = [*base, "model=ae", "model.latent_dim=5", "trainer.max_epochs=1", "logger=none", f"hydra.run.dir={run}"]
    assert subprocess.run(first, cwd=ROOT, capture_output=True, timeout=300).returncode == 0
    last = run / "checkpoints" / "last.ckpt"
    done = subprocess.run(
        [*base, f"ckpt_path={last}", "trainer.max_epochs=2"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    state = torch.load(last, map_location="cpu", weights_only=True)
    assert state["epoch"] == 1 and state["hyper_parameters"]["latent_dim"] == 5  # the 2nd epoch (0-based) ran
    assert "heatmap_latent.models.AE" in (run / ".hydra" / "config.yaml").read_text()
    bad = subprocess.run([*base, f"ckpt_path={last}", "model.latent_dim=4"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode != 0
    line = bad.stderr.strip().splitlines()[-1]
    assert line.startswith("train.py: error: model.latent_dim=4 contradicts the checkpoint") and "latent_dim=5" in line
