"""What the benchmark measures. Each function returns seconds (medians of repeats) or figures."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from scipy import stats

from heatmap_latent.data.batches import image_loader
from heatmap_latent.data.factor_images import FactorImageDataModule
from heatmap_latent.data.heatmaps import Range, factor_grid, gaussian_heatmaps, student_t_df, student_t_heatmaps

SPEC_GRID = {"low": -3.0, "high": 3.0, "size": 36}
SPEC_VAR, SPEC_RHO = Range(0.1, 5.0, 0.2), Range(-0.95, 0.95, 0.1)


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- data generation ---------------------------------------------------------------------------
def scipy_loop(kind: str) -> np.ndarray:
    """The reference: one ``scipy.stats`` density per image, divided by its max."""
    f = factor_grid(SPEC_VAR, SPEC_RHO)
    df = student_t_df(f["var_x"], f["var_y"], seed=0)
    g = np.linspace(-3, 3, 36)
    pos = np.stack(np.meshgrid(g, g), axis=-1)
    out = np.empty((len(f["rho"]), 36, 36))
    for n in range(len(out)):
        c = f["rho"][n] * np.sqrt(f["var_x"][n] * f["var_y"][n])
        cov = [[f["var_x"][n], c], [c, f["var_y"][n]]]
        if kind == "gaussian":
            pdf = stats.multivariate_normal(mean=[0, 0], cov=cov).pdf(pos)
        else:
            pdf = stats.multivariate_t(loc=[0, 0], shape=cov, df=df[n]).pdf(pos)
        out[n] = pdf / pdf.max()
    return out


def project_datagen(kind: str) -> np.ndarray:
    f = factor_grid(SPEC_VAR, SPEC_RHO)
    if kind == "gaussian":
        return gaussian_heatmaps(**f, **SPEC_GRID)
    return student_t_heatmaps(**f, df=student_t_df(f["var_x"], f["var_y"], seed=0), **SPEC_GRID)


# --- training throughput -----------------------------------------------------------------------
class EpochTimer(pl.Callback):
    """Wall time of each training epoch (the training loop only)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.times.append(time.perf_counter() - self._start)


def lightning_epochs(model: pl.LightningModule, dm: FactorImageDataModule, epochs: int, precision: str) -> list[float]:
    """The project's Lightning path: the module's own step and logging; validation, checkpoints and
    progress bar off so only the training epoch is timed."""
    timer = EpochTimer()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        precision=precision,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[timer],
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=dm)
    return timer.times


def raw_epochs(model, dm: FactorImageDataModule, epochs: int, bf16: bool, channels_last: bool) -> list[float]:
    """A minimal PyTorch loop over the same model, in-memory batches and optimizer."""
    optimizer = model.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    batches = image_loader(dm.images, {}, torch.from_numpy(dm.train_idx), dm.batch_size, shuffle=True)
    model.train()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in batches:
            x = batch["image"]
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model.loss_terms(x)["loss"]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times


# --- encode, analysis, memory ------------------------------------------------------------------
def encode_seconds(model, images: torch.Tensor, batch_size: int, repeats: int) -> float:
    model.embed(images[:512], batch_size=batch_size)  # warm-up
    return median_time(lambda: model.embed(images, batch_size=batch_size), repeats)


def peak_rss_mb(overrides: list[str], root: Path) -> float:
    """Peak resident memory (MB) of a ``train.py`` run in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "train.py", *overrides], cwd=root, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(before, after) / 1024.0
