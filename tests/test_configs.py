"""Every option of every config group composes and instantiates."""

import os
import subprocess
import sys

import lightning.pytorch as pl
import pytest
import torch
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate

from heatmap_latent.data import GaussianHeatmapDataModule, StudentTHeatmapDataModule
from heatmap_latent.models import AE, VAE
from heatmap_latent.training import instantiate_named
from tests.conftest import CONF_DIR


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if not p.stem.startswith("_"))


def test_groups_hold_the_documented_options():
    assert options("model") == ["ae", "beta_vae", "capacity_vae", "factor_vae", "mmd_vae", "tcvae", "vae"]
    assert options("data") == ["dsprites", "dsprites_file", "gaussian", "mpi3d", "shapes3d", "sprites", "student_t"]
    assert options("model/net") == ["conv_pool", "dlib_conv"]
    assert {"default", "cpu", "gpu"} <= set(options("trainer"))
    assert {"tensorboard", "none"} <= set(options("logger"))
    assert {"fast_dev_run", "overfit"} <= set(options("debug"))


@pytest.mark.parametrize("name, cls", [("vae", VAE), ("ae", AE)])
def test_model_options(make_cfg, name, cls):
    model = instantiate(make_cfg(f"model={name}").model)
    assert type(model) is cls and model.hparams.latent_dim == 3
    opt = model.configure_optimizers()
    assert isinstance(opt["optimizer"], torch.optim.Adam)
    assert isinstance(opt["lr_scheduler"]["scheduler"], torch.optim.lr_scheduler.ReduceLROnPlateau)


@pytest.mark.parametrize(
    "name, cls", [("gaussian", GaussianHeatmapDataModule), ("student_t", StudentTHeatmapDataModule)]
)
def test_data_options(make_cfg, name, cls):
    dm = instantiate(make_cfg(f"data={name}").data)
    assert type(dm) is cls
    dm.setup()
    assert dm.images.shape == (100, 1, 12, 12)


def test_full_size_defaults_follow_the_spec(make_cfg):
    cfg = make_cfg(tiny=False)
    assert cfg.data.grid.size == cfg.model.image_size == 36
    assert (cfg.data.var.start, cfg.data.var.stop, cfg.data.var.step) == (0.1, 5.0, 0.2)
    assert (cfg.data.rho.start, cfg.data.rho.stop, cfg.data.rho.step) == (-0.95, 0.95, 0.1)
    assert cfg.data.train_fraction == 0.8 and cfg.trainer.accelerator == "auto"


@pytest.mark.parametrize("name", options("trainer"))
def test_trainer_options(make_cfg, name):
    cfg = make_cfg(f"trainer={name}")
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        pytest.skip("no GPU on this machine")
    if cfg.trainer.accelerator == "auto" and 0 < torch.cuda.device_count() < cfg.trainer.devices:
        pytest.skip(f"accelerator=auto picks the GPU here, and there are fewer than {cfg.trainer.devices}")
    assert isinstance(instantiate(cfg.trainer), pl.Trainer)


@pytest.mark.parametrize("name", options("callbacks"))
def test_callback_options(make_cfg, name):
    callbacks = instantiate_named(make_cfg(f"callbacks={name}").callbacks)
    assert all(isinstance(c, pl.Callback) for c in callbacks)
    assert (len(callbacks) > 0) == (name != "none")


def test_callbacks_are_named_nodes_that_can_be_dropped(make_cfg):
    cfg = make_cfg("~callbacks.embedding_projector", "~callbacks.recon_histogram")
    assert "embedding_projector" not in cfg.callbacks and "model_checkpoint" in cfg.callbacks


# mlflow's and wandb's clients take seconds to import: with the slow tests (tests/test_training.py logs through them)
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in ("mlflow", "wandb") else n for n in options("logger")]
)
def test_logger_options(make_cfg, name):
    loggers = instantiate_named(make_cfg(f"logger={name}").logger)
    assert len(loggers) == {"none": 0, "many": 2}.get(name, 1)


@pytest.mark.parametrize("name", options("experiment"))
def test_experiment_options(make_cfg, name):
    # disentanglement_lib's network needs a side that 16 divides: its experiment on the sprites
    cfg = (
        make_cfg(f"experiment={name}", "data=sprites", tiny=False) if name == "dlib" else make_cfg(f"experiment={name}")
    )
    instantiate(cfg.model)
    instantiate(cfg.trainer)
    instantiate_named(cfg.callbacks)


@pytest.mark.parametrize("name", options("debug"))
def test_debug_options(make_cfg, name):
    assert isinstance(instantiate(make_cfg(f"debug={name}").trainer), pl.Trainer)


def test_dlib_conv_is_disentanglement_libs_network_and_conv_pool_the_studys(make_cfg):
    """disentanglement_lib's conv_encoder / deconv_decoder (methods/shared/architectures.py) on 64x64
    images: 4x4 stride-2 convolutions 32-32-64-64 (64 -> 4), dense 256 to the posterior, mirrored."""
    cfg = make_cfg(
        "model=beta_vae", "model/net=dlib_conv", "model.latent_dim=10", "data=sprites", "data.image_size=64", tiny=False
    )
    model = instantiate(cfg.model)
    convs = [m for m in model.encoder.conv if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding) for c in convs] == [
        (1, 32, (4, 4), (2, 2), (1, 1)),
        (32, 32, (4, 4), (2, 2), (1, 1)),
        (32, 64, (4, 4), (2, 2), (1, 1)),
        (64, 64, (4, 4), (2, 2), (1, 1)),
    ]
    assert not any(isinstance(m, torch.nn.MaxPool2d) and m.kernel_size != 1 for m in model.encoder.conv)
    linears = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert linears == [(1024, 256), (256, 20), (10, 256), (256, 1024)]  # encoder, posterior, decoder
    deconvs = [m for m in model.decoder.deconv if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(d.in_channels, d.out_channels, d.kernel_size, d.stride, d.padding) for d in deconvs] == [
        (64, 64, (4, 4), (2, 2), (1, 1)),
        (64, 32, (4, 4), (2, 2), (1, 1)),
        (32, 32, (4, 4), (2, 2), (1, 1)),
        (32, 1, (4, 4), (2, 2), (1, 1)),
    ]
    x = torch.rand(2, 1, 64, 64)
    assert model.encoder.conv(x).shape == (2, 64, 4, 4) and model.decode(model.encode(x)).shape == (2, 1, 64, 64)
    # the default network is the study's, built exactly as before model/net existed
    study = instantiate(make_cfg("model=vae").model)
    assert [m.padding for m in study.encoder.conv if isinstance(m, torch.nn.Conv2d)] == [(1, 1), (1, 1)]
    assert [m.kernel_size for m in study.encoder.conv if isinstance(m, torch.nn.MaxPool2d)] == [2, 2]
    with pytest.raises(ValueError, match="must be odd unless model.padding is set"):
        VAE(kernel_size=4)


def test_any_hyperparameter_overrides_from_the_command_line(make_cfg):
    cfg = make_cfg("model.latent_dim=5", "model.optimizer.lr=3e-4", "model.beta=4", "data.batch_size=32")
    model = instantiate(cfg.model)
    assert model.hparams.latent_dim == 5 and model.hparams.beta == 4
    assert model.configure_optimizers()["optimizer"].param_groups[0]["lr"] == 3e-4


def test_misspelled_key_fails_at_composition(make_cfg):
    with pytest.raises(ConfigCompositionException, match="latnt_dim"):
        make_cfg("model.latnt_dim=4")


def test_study_experiment_declares_its_sweep_in_yaml():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=study"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    assert list(params) == ["seed", "model", "data"]  # the seed varies slowest: whole seeds first
    assert (params.seed, params.model, params.data) == (str(cfg.seed), "vae,ae", "gaussian,student_t")
    assert list(cfg.model.channels) == [32, 64]


def test_the_study_trains_with_the_fast_recipe_unless_told_otherwise(make_cfg):
    from heatmap_latent.core.precision import fastest_precision

    study = make_cfg("experiment=study", tiny=False)
    assert study.trainer.precision == fastest_precision("auto").precision and study.trainer.max_epochs == 40
    assert study.model.optimizer.lr == pytest.approx(2e-3) and "WarmupCosine" in study.model.scheduler._target_
    seed = make_cfg("experiment=study", "recipe=default", tiny=False)
    plain = make_cfg(tiny=False)
    assert seed.trainer.precision == plain.trainer.precision == "32-true"
    assert seed.model.scheduler == plain.model.scheduler and seed.model.optimizer.lr == pytest.approx(1e-3)
    assert list(seed.model.channels) == [32, 64]  # the study's architecture with the study's recipe


def test_family_experiment_sweeps_every_model_on_gaussian():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=family"], return_hydra_config=True)
        models = cfg.hydra.sweeper.params.model.split(",")
        assert sorted(models) == sorted(p.stem for p in (CONF_DIR / "model").glob("[!_]*.yaml"))
        assert cfg.hydra.sweeper.params.data == "gaussian" and list(cfg.model.channels) == [32, 64]
        for model in models:  # every job composes with the study's architecture
            job = compose("train", overrides=["experiment=family", f"model={model}"])
            assert list(job.model.hidden_dims) == [256, 64] and job.trainer.max_epochs == 40  # recipe=fast


def test_fast_recipe_sets_precision_batch_and_schedule_over_any_experiment(make_cfg):
    from heatmap_latent.core.precision import fastest_precision
    from heatmap_latent.models.schedules import warmup_cosine_factor

    cfg = make_cfg("experiment=study", "recipe=fast", tiny=False)
    assert cfg.trainer.precision == fastest_precision("auto").precision and cfg.model.channels_last
    assert cfg.data.batch_size == 64 and cfg.model.optimizer.lr == pytest.approx(2e-3)
    assert cfg.trainer.max_epochs == 40 and list(cfg.model.channels) == [32, 64]  # the study's architecture
    model = instantiate(cfg.model)
    opt = model.configure_optimizers()
    scheduler = opt["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(40):
        lrs.append(opt["optimizer"].param_groups[0]["lr"])
        opt["optimizer"].step()
        scheduler.step()
    assert lrs[0] == pytest.approx(2e-3 / 2) and lrs[1] == pytest.approx(2e-3)  # warm-up, then the peak
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:])) and lrs[-1] < 0.05 * 2e-3  # cosine decay
    assert warmup_cosine_factor(40, 2, 40, 0.02) == pytest.approx(0.02)


@pytest.mark.parametrize("trainer", ["gpu", "ddp", "cpu", "fast"])
def test_the_fast_recipe_takes_the_fastest_native_precision_of_any_trainers_device(make_cfg, trainer):
    from heatmap_latent.core.precision import fastest_precision

    cfg = make_cfg(f"trainer={trainer}", "recipe=fast")
    accelerator = {"gpu": "gpu", "ddp": "auto", "cpu": "cpu", "fast": "auto"}[trainer]
    assert cfg.trainer.accelerator == accelerator and cfg.trainer.max_epochs == 40
    assert cfg.trainer.precision == fastest_precision(accelerator).precision
    # an explicit precision always wins over the rule
    forced = make_cfg(f"trainer={trainer}", "recipe=fast", "trainer.precision=bf16-mixed")
    assert forced.trainer.precision == "bf16-mixed"
    assert make_cfg(f"trainer={trainer}", "recipe=fast", "trainer.precision=32-true").trainer.precision == "32-true"


@pytest.mark.parametrize(
    ("device", "native", "expected"),
    [("cpu", True, "bf16-mixed"), ("cpu", False, "32-true"), ("cuda", True, "bf16-mixed"), ("cuda", False, "32-true")],
)
def test_the_precision_rule_is_bf16_only_where_the_device_runs_it_natively(device, native, expected):
    from heatmap_latent.core.precision import choose

    assert choose(device, native) == expected
    assert choose("mps", True) == "32-true"  # no rule for other devices: fp32


@pytest.mark.parametrize(
    ("avx512_bf16", "amx", "label", "native"),
    [(False, False, "AVX2", False), (True, False, "AVX512-BF16", True), (True, True, "AMX", True)],
)
def test_the_cpu_capability_decides_native_bf16(avx512_bf16, amx, label, native):
    from heatmap_latent.core.precision import CpuCapability

    cpu = CpuCapability("some CPU", "AVX2" if not avx512_bf16 else "AVX512", avx512_bf16, amx)
    assert cpu.label == label and cpu.native_bf16 is native and label in cpu.describe()


def test_this_cpus_capability_is_what_torch_reports():
    import torch

    from heatmap_latent.core.precision import cpu_capability, fastest_precision

    cpu = cpu_capability()
    assert cpu.isa == torch.backends.cpu.get_cpu_capability()
    hardware = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert cpu.native_bf16 == (hardware and not cpu.capped)
    assert fastest_precision("cpu").precision == ("bf16-mixed" if cpu.native_bf16 else "32-true")


@pytest.mark.parametrize(
    ("isa", "onednn", "native"),
    [
        ("AVX512", None, True),
        ("AVX2", None, False),  # ATEN_CPU_CAPABILITY=avx2: torch's kernels emulate bf16
        ("AVX512", "AVX2", False),  # ONEDNN_MAX_CPU_ISA=AVX2: oneDNN's do
        ("AVX512", "AVX512_CORE", False),
        ("AVX512", "AVX512_CORE_BF16", True),
        ("AVX512", "ALL", True),
    ],
)
def test_an_instruction_set_cap_means_no_native_bf16(isa, onednn, native):
    from heatmap_latent.core.precision import CpuCapability

    cpu = CpuCapability("AMD EPYC", isa, True, False, onednn)
    assert cpu.native_bf16 is native and cpu.capped is (not native)
    assert cpu.label == ("AVX512-BF16" if native else f"{isa} (capped)")
    assert CpuCapability("old CPU", "AVX2", False, False, "AVX2").capped is False  # nothing to hide


def test_the_fast_recipe_composes_fp32_under_an_avx2_cap():
    """In a process started under the cap (as .ci/run's second pass), whatever the hardware."""
    env = dict(os.environ, ATEN_CPU_CAPABILITY="avx2", ONEDNN_MAX_CPU_ISA="AVX2")
    code = (
        "from heatmap_latent.core.precision import fastest_precision, cpu_capability;"
        "c = fastest_precision('cpu'); print(c.precision, '|', c.reason, '|', cpu_capability().isa)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    precision, reason, isa = (part.strip() for part in out.split("|"))
    assert (precision, isa) == ("32-true", "AVX2") and reason.startswith("no native bf16")
