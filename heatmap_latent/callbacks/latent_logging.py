"""Callbacks that show the latent space in TensorBoard while training runs."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

from heatmap_latent.callbacks.base import TensorBoardLatentCallback, ValSnapshot  # noqa: E402
from heatmap_latent.models.losses import frobenius_error  # noqa: E402


def colour_factors(factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The factors the study colours latent plots by: each factor and ``var_x - var_y``."""
    out = dict(factors)
    out["var_x-var_y"] = factors["var_x"] - factors["var_y"]
    return out


def coordinate_planes(latent_dim: int) -> list[tuple[int, int]]:
    """Pairs of latent axes to project on: (0, 1), (0, 2), (1, 2) for a 3-D code."""
    return list(itertools.combinations(range(min(latent_dim, 3)), 2))


def projection_figure(latents: np.ndarray, values: np.ndarray, name: str) -> plt.Figure:
    """Scatter of the latents on each coordinate plane, coloured by ``values``."""
    planes = coordinate_planes(latents.shape[1]) or [(0, 0)]
    fig, axes = plt.subplots(1, len(planes), figsize=(4.2 * len(planes), 3.8), squeeze=False)
    for ax, (i, j) in zip(axes[0], planes):
        points = ax.scatter(latents[:, i], latents[:, j], c=values, s=4, cmap="viridis")
        ax.set_xlabel(f"z{i}")
        ax.set_ylabel(f"z{j}")
    fig.colorbar(points, ax=axes[0].tolist(), label=name)
    fig.suptitle(f"latent projections coloured by {name}")
    return fig


class LatentProjections(TensorBoardLatentCallback):
    """Images ``latent/projection/<factor>``: the code on the coordinate planes, one per factor."""

    def log_to(self, writer: SummaryWriter, snapshot: ValSnapshot, step: int) -> None:
        latents = snapshot.latents.numpy()
        for name, values in colour_factors(snapshot.factors).items():
            writer.add_figure(f"latent/projection/{name}", projection_figure(latents, values, name), step)


class ReconstructionErrorHistogram(TensorBoardLatentCallback):
    """Histogram ``val/recon_error`` of per-image Frobenius errors, plus its p50/p99 as scalars."""

    def log_to(self, writer: SummaryWriter, snapshot: ValSnapshot, step: int) -> None:
        errors = frobenius_error(snapshot.recons, snapshot.images)
        writer.add_histogram("val/recon_error", errors, step)
        for q in (50, 99):
            writer.add_scalar(f"val/recon_error_p{q}", torch.quantile(errors, q / 100).item(), step)


class ReconstructionGrid(TensorBoardLatentCallback):
    """Image ``val/reconstructions``: originals (top row) above their reconstructions (bottom row)."""

    def __init__(self, n_images: int = 12, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n_images = n_images

    def log_to(self, writer: SummaryWriter, snapshot: ValSnapshot, step: int) -> None:
        n = min(self.n_images, len(snapshot.images))
        pick = torch.linspace(0, len(snapshot.images) - 1, n).round().long()
        rows = [torch.cat(list(t[pick, 0]), dim=1) for t in (snapshot.images, snapshot.recons)]  # (S, n*S)
        writer.add_image("val/reconstructions", torch.cat(rows, dim=0).clamp(0, 1), step, dataformats="HW")


class EmbeddingProjector(TensorBoardLatentCallback):
    """The projector tab: latent codes with their factors as metadata and heatmaps as labels."""

    def log_to(self, writer: SummaryWriter, snapshot: ValSnapshot, step: int) -> None:
        names = list(snapshot.factors)
        columns = np.stack([snapshot.factors[k] for k in names], axis=1)
        metadata = [[f"{v:.3g}" for v in row] for row in columns]
        writer.add_embedding(
            snapshot.latents,
            metadata=metadata,
            metadata_header=names,
            label_img=snapshot.images,
            global_step=step,
            tag="latent",
        )
