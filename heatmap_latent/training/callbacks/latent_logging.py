"""Callbacks that show the latent space in TensorBoard while training runs."""

from __future__ import annotations

import numpy as np
import torch

from heatmap_latent.core.pixels import displayed, rgb8
from heatmap_latent.core.plotting import ProjectionCanvas
from heatmap_latent.core.subsample import evenly_spaced
from heatmap_latent.core.traversals import traversal_grid, traversal_points
from heatmap_latent.models.losses import frobenius_error
from heatmap_latent.training.callbacks.base import LatentCallback, LatentLog, ValidationCodes


class LatentProjections(LatentCallback):
    """Images ``latent/projection/<factor>``: the code on the coordinate planes, one per factor,
    all drawn on one reused :class:`ProjectionCanvas`."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._canvas: ProjectionCanvas | None = None

    def log_to(self, log: LatentLog, codes: ValidationCodes, step: int) -> None:
        latents = codes.latents.numpy()
        if self._canvas is None or self._canvas.latent_dim != latents.shape[1]:
            self._canvas = ProjectionCanvas(latents.shape[1])
        for name, values in codes.colour_by().items():
            log.image(f"latent/projection/{name}", self._canvas.render(latents, values, name), step)


class ReconstructionErrorHistogram(LatentCallback):
    """Histogram ``val/recon_error`` of per-image Frobenius errors, plus its p50/p99 as scalars."""

    needs = "tensorboard"

    def log_to(self, log: LatentLog, codes: ValidationCodes, step: int) -> None:
        writer = log.writer
        errors = frobenius_error(codes.recons, codes.images)
        writer.add_histogram("val/recon_error", errors, step)
        for q in (50, 99):
            writer.add_scalar(f"val/recon_error_p{q}", torch.quantile(errors, q / 100).item(), step)


class ReconstructionGrid(LatentCallback):
    """Image ``val/reconstructions``: originals (top row) above their reconstructions (bottom row)."""

    def __init__(self, n_images: int = 12, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n_images = n_images

    def log_to(self, log: LatentLog, codes: ValidationCodes, step: int) -> None:
        pick = torch.from_numpy(evenly_spaced(len(codes.images), self.n_images))
        rows = [np.concatenate(list(displayed(t[pick])), axis=1) for t in (codes.images, codes.recons)]  # (S, n*S)
        log.image("val/reconstructions", rgb8(np.concatenate(rows, axis=0)), step)


class EmbeddingProjector(LatentCallback):
    """The projector tab: latent codes with their factors as metadata and heatmaps as labels."""

    needs = "tensorboard"

    def log_to(self, log: LatentLog, codes: ValidationCodes, step: int) -> None:
        writer = log.writer
        names = list(codes.factors)
        columns = np.stack([codes.factors[k] for k in names], axis=1)
        metadata = [[f"{v:.3g}" for v in row] for row in columns]
        writer.add_embedding(
            codes.latents,
            metadata=metadata,
            metadata_header=names,
            label_img=codes.images,
            global_step=step,
            tag="latent",
        )


class LatentTraversals(LatentCallback):
    """Image ``latent/traversals``: per-dimension traversals of the mean code of the validation
    images, each dimension over +-3 std of its codes (one row per dimension)."""

    def __init__(self, n_steps: int = 9, span: float = 3.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.n_steps, self.span = n_steps, span

    def log_to(self, log: LatentLog, codes: ValidationCodes, step: int) -> None:
        latents = codes.latents.numpy()
        points, _ = traversal_points(latents, n_steps=self.n_steps, span=self.span)
        dim = latents.shape[1]
        images = displayed(codes.decode(torch.from_numpy(points.reshape(-1, dim)).float()))
        grid = traversal_grid(images.reshape(dim, self.n_steps, *images.shape[1:]))
        log.image("latent/traversals", rgb8(grid), step)
