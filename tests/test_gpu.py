"""The recipes on CUDA, unchanged: skipped where there is no GPU (CI), run on a lent GPU machine."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch

from heatmap_latent.models import VAE
from heatmap_latent.training import train
from tests.conftest import run_train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")

MODELS = ["ae", "vae", "beta_vae", "tcvae", "mmd_vae", "capacity_vae", "factor_vae"]


class Where(pl.Callback):
    """Records the device, dtype and memory format the model really trains with."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if batch_idx == 0:
            self.param_device = next(pl_module.parameters()).device
            self.batch_device = batch["image"].device
            self.pinned_loader = trainer.train_dataloader.pin_memory
            self.precision = trainer.precision
            first_conv = next(m for m in pl_module.modules() if isinstance(m, torch.nn.Conv2d))
            self.channels_last = first_conv.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("recipe", [[], ["recipe=fast"]], ids=["default", "fast"])
@pytest.mark.parametrize("model", MODELS)
def test_every_model_trains_on_the_gpu_with_each_recipe(make_cfg, model, recipe):
    where = Where()
    cfg = make_cfg(f"model={model}", *recipe, "trainer.max_epochs=2", "logger=none")
    metrics = train(cfg, extra_callbacks=[where])
    assert where.param_device.type == "cuda" and where.batch_device.type == "cuda"
    assert where.pinned_loader  # host batches are pinned, so the copy to the device can overlap
    # recipe=fast: bf16 where the GPU runs it natively (every GPU since Ampere), fp32 elsewhere
    native = torch.cuda.is_bf16_supported(including_emulation=False)
    assert where.precision == ("bf16-mixed" if recipe and native else "32-true")
    assert where.channels_last  # the backbone's default memory format
    assert torch.isfinite(torch.tensor(metrics["test/frobenius"]))
    assert metrics["epochs"] == 2


def test_a_gpu_checkpoint_loads_and_decodes_the_same_on_the_cpu(make_cfg, tmp_path):
    cfg = make_cfg("model=vae", "recipe=fast", "trainer.max_epochs=2", "logger=none")
    train(cfg)
    ckpt = next((tmp_path / "checkpoints").glob("epoch*.ckpt"))
    on_cpu = VAE.load_from_checkpoint(ckpt, map_location="cpu", weights_only=True)
    on_gpu = VAE.load_from_checkpoint(ckpt, map_location="cuda", weights_only=True)
    torch.backends.cudnn.allow_tf32 = False  # compare float32 with float32, not TF32 convolutions
    z = torch.randn(64, on_cpu.hparams.latent_dim)
    cpu = on_cpu.decode_batched(z)
    gpu = on_gpu.decode_batched(z.cuda()).cpu()
    torch.backends.cudnn.allow_tf32 = True
    assert torch.allclose(cpu, gpu, atol=1e-4)


def test_train_py_on_the_gpu_trainer_from_the_command_line(tmp_path):
    run_train("trainer=gpu", "recipe=fast", "trainer.max_epochs=1", "logger=none", f"hydra.run.dir={tmp_path}")
    assert (tmp_path / "job.json").is_file() and (tmp_path / "checkpoints" / "last.ckpt").is_file()
