import math
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import plugin_data_pb2

from heatmap_latent.models import VAE
from heatmap_latent.training import train
from heatmap_latent.training.callbacks import base
from tests.conftest import ROOT

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("training")

MODELS = sorted(p.stem for p in (ROOT / "conf" / "model").glob("[!_]*.yaml"))
TERMS = {"tcvae": ("mi", "tc", "dim_kl"), "mmd_vae": ("mmd",), "capacity_vae": ("capacity",)}
TERMS["factor_vae"] = ("tc", "disc_loss", "disc_accuracy")


def test_every_model_class_has_a_config_that_builds_it(make_cfg):
    """The model list comes from the package and the configs, not from a list here: every
    LatentAutoencoder the package exports has a conf/model file whose _target_ builds it."""
    from hydra.utils import get_class

    import heatmap_latent.models as models

    exported = {
        obj for obj in vars(models).values() if isinstance(obj, type) and issubclass(obj, models.LatentAutoencoder)
    }
    exported.discard(models.LatentAutoencoder)
    configured = {get_class(make_cfg(f"model={m}").model._target_) for m in MODELS}
    assert configured == exported and len(MODELS) >= len(exported)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("data", ["gaussian", "student_t"])
def test_every_model_trains_on_every_dataset_and_its_loss_falls(make_cfg, model, data):
    """A few epochs on one fixed batch: the training loss ends below the untrained model's loss on it,
    and the run logs its test error, its KL (every model with a posterior) and its own loss terms."""
    cfg = make_cfg(f"model={model}", f"data={data}", "debug=overfit", "trainer.max_epochs=8", "logger=none")
    torch.manual_seed(cfg.seed)
    dm = instantiate(cfg.data)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))["image"]
    # beta-TCVAE reads its training split's size from the trainer's data module: given here
    sized = {"dataset_size": len(dm.train_idx)} if model == "tcvae" else {}
    with torch.no_grad():
        initial = instantiate(cfg.model, **sized).eval().loss_terms(batch)["loss"].item()
    metrics = train(cfg)
    assert 0 < metrics["train/loss"] < initial, (initial, metrics["train/loss"])
    assert math.isfinite(metrics["test/frobenius"])
    assert ("test/kl" in metrics) == (model != "ae")
    for term in TERMS.get(model, ()):  # each model logs its own loss terms
        assert math.isfinite(metrics[f"train/{term}"]) and math.isfinite(metrics[f"test/{term}"])


def event_tags(run_dir: Path) -> dict[str, list[str]]:
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc.Tags()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """Three real epochs of a VAE on student_t, latent callbacks every epoch."""
    from tests.conftest import compose_train

    run_dir = tmp_path_factory.mktemp("run")
    cfg = compose_train(run_dir, "data=student_t", "trainer.max_epochs=3", "log_latents_every_n_epochs=2")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base, "validation_codes", counted := Counted(base.validation_codes))
        metrics = train(cfg)
    return run_dir, metrics, counted.calls


class Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, trainer, pl_module, max_points):
        self.calls.append((trainer.global_step, max_points))
        return self.fn(trainer, pl_module, max_points)


def test_latent_callbacks_share_one_snapshot_per_step(trained_run):
    """Four latent callbacks log at two steps (epoch 2 and the end); the projections, histogram and
    grid share one 2000-point snapshot per step, the projector its 1000-point one."""
    calls = trained_run[2]
    steps = sorted({step for step, _ in calls})
    assert len(steps) == 2 and sorted(calls) == sorted((s, n) for s in steps for n in (2000, 1000))


def test_training_writes_every_tensorboard_tag(trained_run):
    run_dir, metrics, _ = trained_run
    tags = event_tags(run_dir)
    scalars = set(tags["scalars"])
    expected = {
        "train/loss",
        "val/loss",
        "train/recon",
        "val/recon",
        "train/kl",
        "val/kl",
        "val/kl_dim0",
        "val/kl_dim2",
        "lr-Adam",
        "val/frobenius",
        "hp/best_val_loss",
        "val/recon_error_p99",
    }
    assert expected <= scalars
    factors = ["rho", "var_x", "var_y", "var_x-var_y", "df"]
    assert {f"latent/projection/{f}" for f in factors} | {"val/reconstructions"} <= set(tags["images"])
    assert "val/recon_error" in tags["histograms"]
    # every-2-epochs schedule plus the end of training: projections at two steps
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0})
    acc.Reload()
    assert len(acc.Images("latent/projection/rho")) == 2
    # the embedding projector: config, metadata with the factors as columns, sprite of heatmaps
    projector = (run_dir / "tensorboard" / "projector_config.pbtxt").read_text()
    assert "metadata.tsv" in projector and "sprite.png" in projector
    meta = next((run_dir / "tensorboard").rglob("metadata.tsv")).read_text().splitlines()
    assert meta[0].split("\t") == ["var_x", "var_y", "rho", "df"]
    assert metrics["best_val_loss"] == pytest.approx(min(e.value for e in _scalars(run_dir, "val/loss")))


def _scalars(run_dir, tag):
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    return acc.Scalars(tag)


def hparams_summaries(run_dir: Path) -> dict[str, bytes]:
    """The hparams plugin's summaries (tag -> plugin content) from the raw event files."""
    found = {}
    for path in (run_dir / "tensorboard").glob("events.out.tfevents.*"):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "hparams":
                    found[value.tag] = value.metadata.plugin_data.content
    return found


def test_hparams_tab_holds_the_run_config_and_best_val_loss(trained_run):
    run_dir, _, _ = trained_run
    summaries = hparams_summaries(run_dir)
    start = plugin_data_pb2.HParamsPluginData.FromString(summaries["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["model.latent_dim"].number_value == 3 and hparams["seed"].number_value == 42
    assert hparams["data"].string_value == "StudentT" and hparams["model"].string_value == "VAE"
    assert hparams["model.channels"].string_value == "[16, 32]"
    assert len(hparams) <= 12 and not any("_target_" in k or "callbacks" in k for k in hparams)  # no clutter
    experiment = plugin_data_pb2.HParamsPluginData.FromString(summaries["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in experiment.metric_infos] == ["hp/best_val_loss"]
    best = [e.value for e in _scalars(run_dir, "hp/best_val_loss")]
    assert best[-1] == pytest.approx(min(e.value for e in _scalars(run_dir, "val/loss")))


def test_checkpoints_load_from_path_alone(trained_run):
    run_dir, metrics, _ = trained_run
    ckpts = {p.name for p in (run_dir / "checkpoints").glob("*.ckpt")}
    assert "last.ckpt" in ckpts and len(ckpts) == 2
    model = VAE.load_from_checkpoint(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert model.hparams.latent_dim == 3 and model.hparams.image_size == 12
    assert model.encode(torch.rand(2, 1, 12, 12)).shape == (2, 3)


def test_early_stopping_ends_training(make_cfg):
    cfg = make_cfg(
        "model=ae",
        "trainer.max_epochs=200",
        "callbacks.early_stopping.patience=1",
        "callbacks.early_stopping.min_delta=1e9",
        "~callbacks.embedding_projector",
    )
    metrics = train(cfg)
    assert metrics["epochs"] < 5


def test_callbacks_without_tensorboard_warn_once(make_cfg):
    cfg = make_cfg("logger=none", "trainer.max_epochs=2", "log_latents_every_n_epochs=1")
    with pytest.warns(UserWarning, match="needs a TensorBoard logger") as record:
        metrics = train(cfg)
    assert metrics["val/loss"] > 0
    messages = [str(w.message) for w in record]
    assert sum("LatentProjections needs an image logger (tensorboard, mlflow, wandb)" in m for m in messages) == 1
    assert sum("EmbeddingProjector needs a TensorBoard logger" in m for m in messages) == 1


IMAGE_TAGS = {"latent/projection/rho", "latent/projection/var_x-var_y", "val/reconstructions"}


@pytest.mark.slow  # the optional loggers' clients take seconds to start
def test_mlflow_logger_records_scalars_hparams_and_images(make_cfg, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    train(make_cfg("logger=mlflow", "trainer.max_epochs=2", "log_latents_every_n_epochs=1"))
    client = mlflow.tracking.MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name("heatmap-latent").experiment_id])
    assert len(client.get_metric_history(run.info.run_id, "val/loss")) == 2  # one value per epoch
    assert run.data.params["model.latent_dim"] == "3" and "seed" in run.data.params
    images = {p.name for p in (tmp_path / "mlartifacts").rglob("images/*.png")}
    for tag in IMAGE_TAGS:  # the latent callbacks' images, at each logged step
        assert any(name.startswith(tag.replace("/", ".") + "+step+") for name in images), tag


@pytest.mark.slow
def test_wandb_logger_offline_records_scalars_hparams_and_images(make_cfg, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    train(make_cfg("logger=wandb", "trainer.max_epochs=2", "log_latents_every_n_epochs=1"))
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    images = {str(p.relative_to(run_dir / "files" / "media" / "images")) for p in run_dir.rglob("*.png")}
    for tag in IMAGE_TAGS:
        assert any(name.startswith(tag + "_") for name in images), tag
    (records,) = run_dir.glob("run-*.wandb")  # the offline run's record log: scalars and config
    data = records.read_bytes()
    assert b"val/loss" in data and b"train/loss" in data and b"latent_dim" in data


class BatchRecorder(pl.Callback):
    """Records a digest of every training batch, by epoch."""

    def __init__(self) -> None:
        self.batches: dict[int, list[bytes]] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.batches.setdefault(trainer.current_epoch, []).append(batch["image"].numpy().tobytes())


def test_overfit_trains_on_one_fixed_batch(make_cfg):
    cfg = make_cfg("debug=overfit", "model=ae", "trainer.max_epochs=60", "logger=none", "callbacks=none")
    torch.manual_seed(cfg.seed)
    initial_model = instantiate(cfg.model)
    dm = instantiate(cfg.data)
    dm.setup()
    first_batch = next(iter(dm.train_dataloader()))["image"]
    initial = initial_model.loss_terms(first_batch)["loss"].item()
    recorder = BatchRecorder()
    metrics = train(cfg, extra_callbacks=[recorder])
    assert metrics["steps"] == 60
    assert sorted(recorder.batches) == list(range(60)) and all(len(b) == 1 for b in recorder.batches.values())
    assert len({b[0] for b in recorder.batches.values()}) == 1  # the same batch every epoch
    assert metrics["train/loss"] < 0.6 * initial


def test_limit_train_batches_is_lightnings(make_cfg):
    recorder = BatchRecorder()
    train(
        make_cfg("trainer.max_epochs=2", "+trainer.limit_train_batches=2", "logger=none", "callbacks=none"),
        extra_callbacks=[recorder],
    )
    assert [len(recorder.batches[e]) for e in (0, 1)] == [2, 2]
    assert recorder.batches[0] != recorder.batches[1]  # still shuffled every epoch


@pytest.mark.parametrize("logger", ["csv", "many"])
def test_csv_logger_writes_every_epoch(make_cfg, tmp_path, logger):
    import csv

    metrics = train(make_cfg(f"logger={logger}", "trainer.max_epochs=2", "~callbacks.embedding_projector"))
    with open(tmp_path / "csv" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    val = [float(r["val/loss"]) for r in rows if r.get("val/loss")]
    assert len(val) == 2 and val[-1] == pytest.approx(metrics["val/loss"], rel=1e-5)
    with open(tmp_path / "csv" / "hparams.yaml") as f:
        assert "model.latent_dim: 3" in f.read()
    assert (tmp_path / "tensorboard").is_dir() == (logger == "many")


def test_hparams_name_the_swept_keys():
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig

    from heatmap_latent.training import run_hparams
    from tests.conftest import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["model.kernel_size=5", "model=ae"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    try:
        hp = run_hparams(cfg)
    finally:
        HydraConfig.instance().cfg = None
    assert hp["model.kernel_size"] == 5 and hp["model"] == "AE" and "model.beta" not in hp


def test_by_default_training_validates_on_a_held_out_split_and_tests_once(make_cfg):
    cfg = make_cfg("data.val_fraction=0.1", "logger=none", "trainer.max_epochs=1", tiny=True)
    seen = {}

    class Splits(pl.Callback):
        def on_fit_start(self, trainer, pl_module):
            dm = trainer.datamodule
            seen.update(train=set(dm.train_idx.tolist()), val=set(dm.val_idx.tolist()), test=set(dm.test_idx.tolist()))

    metrics = train(cfg, extra_callbacks=[Splits()])
    assert seen["val"] and not seen["val"] & seen["test"] and not seen["val"] & seen["train"]
    assert metrics["val/frobenius"] != metrics["test/frobenius"]  # validation is not the test split


@pytest.mark.parametrize("explicit", [None, "32-true"], ids=["by-capability", "explicit"])
def test_the_precision_and_who_chose_it_are_logged_in_one_line_and_recorded(make_cfg, caplog, explicit):
    import json
    import logging

    from heatmap_latent.core.precision import fastest_precision

    chosen = [f"trainer.precision={explicit}"] if explicit else []
    cfg = make_cfg("recipe=fast", *chosen, "logger=none", "callbacks=none", "~callbacks.early_stopping")
    with open_dict(cfg):
        cfg.trainer.max_epochs = 1
    with caplog.at_level(logging.INFO, logger="heatmap_latent.training.run"):
        train(cfg)
    rule = fastest_precision("auto")
    record = json.loads((Path(cfg.paths.output_dir) / "job.json").read_text())["precision"]
    assert record == {
        "precision": explicit or rule.precision,
        "chosen_by": "trainer.precision" if explicit else "fastest_precision",
        "device": "cpu",
        "hardware": rule.hardware,
        "native_bf16": rule.native_bf16,
    }
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("precision ")]
    assert len(lines) == 1 and lines[0].startswith(f"precision {record['precision']} (")
    assert (rule.hardware in lines[0]) != bool(explicit)  # the rule names the hardware it read
