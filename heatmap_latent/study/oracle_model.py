"""An oracle of the Gaussian heatmaps: a model whose code is the factors and whose decoder is the exact
renderer, with a known defect planted or none, so that every instrument of the analysis can be run
on a latent space whose answer is known (``study/oracles.py`` writes its run directories).

The code of an image is its factors (``var_x``, ``var_y``, ``rho``, fitted exactly by the heatmaps'
inverse, ``data/heatmap_fit.py``) standardised over the data, then the defect's map, then a rotation
drawn from the run's seed (so two seeds differ as two trainings do, by a linear map only). The
decoder inverts each step and renders the exact heatmap. Defects (``DEFECTS``):

- ``none``: the plain oracle. Its decoder keeps the factors inside the data's range (``factor_low``,
  ``factor_high``), so that every decode is an exact heatmap the data could hold.
- ``cut``: the codes on either side of a var_x plane (between two grid values) pushed ``cut_width``
  standard deviations apart: an empty slab of the code space, decoded as the plane itself.
- ``outliers``: ``n_outliers`` images (chosen by the seed) put at ``outlier_radius`` standard
  deviations from the centre, in their own direction; everything else is the plain oracle.
- ``warp``: a curved sheet, ``s_rho + warp_bend * (s_var_x^2 - 1)``: smooth, invertible, no gap.
- ``blur``: the plain codes, decoded through a Gaussian blur of ``blur_sigma`` pixels.

It trains nothing: ``configure_optimizers`` is never called, and ``training_step`` refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn

from heatmap_latent.data.heatmap_fit import fit_factors
from heatmap_latent.models import LatentAutoencoder

DEFECTS = ("none", "cut", "outliers", "warp", "blur")


class OracleRenderer(nn.Module):
    """Codes -> the exact Gaussian heatmaps of the oracle's factors (optionally blurred)."""

    def __init__(self, oracle: Oracle) -> None:
        super().__init__()
        self.oracle = [oracle]  # a list: not a submodule (no cycle in the module tree)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.oracle[0].render_codes(z)


class Oracle(LatentAutoencoder):
    """The exact encoder and decoder of the Gaussian heatmaps, with one known defect (module docstring)."""

    KIND = "oracle"

    def __init__(
        self,
        defect: str = "none",
        image_size: int = 36,
        low: float = -3.0,
        high: float = 3.0,
        factor_mean: Sequence[float] = (0.0, 0.0, 0.0),
        factor_std: Sequence[float] = (1.0, 1.0, 1.0),
        factor_low: Sequence[float] = (0.1, 0.1, -0.95),
        factor_high: Sequence[float] = (4.9, 4.9, 0.85),
        rotation_seed: int = 0,
        cut_at: float = 0.0,
        cut_width: float = 1.5,
        outliers: Sequence[Sequence[float]] = (),
        outlier_radius: float = 8.0,
        warp_bend: float = 0.5,
        blur_sigma: float = 1.0,
        latent_dim: int = 3,
        image_channels: int = 1,
        channels_last: bool = False,
    ) -> None:
        hparams = {k: v for k, v in locals().items() if k != "self"}
        # not the backbone's constructor: an oracle has no network, only these buffers
        pl.LightningModule.__init__(self)
        if defect not in DEFECTS:
            raise ValueError(f"model.defect must be one of {', '.join(DEFECTS)}, got {defect!r}")
        if latent_dim != 3 or image_channels != 1:
            raise ValueError("an oracle's code is the 3 Gaussian factors of a grey image")
        # by name: Lightning finds a constructor's arguments only through a super().__init__() chain
        self.save_hyperparameters(hparams, logger=False)
        self.best_val_loss = 0.0
        q, r = np.linalg.qr(np.random.default_rng(rotation_seed).normal(size=(3, 3)))
        rotation = q * np.sign(np.diag(r))  # a uniformly drawn orthogonal matrix
        self.register_buffer("rotation", torch.as_tensor(rotation))
        self.register_buffer("mean", torch.as_tensor(np.asarray(factor_mean, dtype=np.float64)))
        self.register_buffer("std", torch.as_tensor(np.asarray(factor_std, dtype=np.float64)))
        self.register_buffer("low", torch.as_tensor(np.asarray(factor_low, dtype=np.float64)))
        self.register_buffer("high", torch.as_tensor(np.asarray(factor_high, dtype=np.float64)))
        self.register_buffer("outlier_factors", torch.as_tensor(np.asarray(outliers, dtype=np.float64).reshape(-1, 3)))
        g = torch.linspace(low, high, image_size, dtype=torch.float64)
        y, x = torch.meshgrid(g, g, indexing="ij")  # as data/heatmaps.py's pixel_grid: x along columns
        self.register_buffer("features", torch.stack([x.ravel() ** 2, x.ravel() * y.ravel(), y.ravel() ** 2]))
        radius = max(1, int(np.ceil(3 * blur_sigma)))
        taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float64) / blur_sigma) ** 2)
        self.register_buffer("blur_taps", taps / taps.sum())
        self.decoder = OracleRenderer(self)

    @property
    def kind(self) -> str:
        return "oracle" if self.hparams.defect == "none" else f"oracle_{self.hparams.defect}"

    # --- the defect's map and its inverse, on standardised factors s (N, 3) -------------------------
    def _planted(self, s: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
        hp = self.hparams
        if hp.defect == "cut":
            s = s.clone()
            s[:, 0] = s[:, 0] + 0.5 * hp.cut_width * torch.sign(s[:, 0] - hp.cut_at)
        elif hp.defect == "warp":
            s = s.clone()
            s[:, 2] = s[:, 2] + hp.warp_bend * (s[:, 0] ** 2 - 1.0)
        elif hp.defect == "outliers" and len(self.outlier_factors):
            far = (torch.cdist(factors, self.outlier_factors.to(factors)) < 1e-3).any(dim=1)
            norm = s.norm(dim=1, keepdim=True).clamp_min(1e-12)
            s = torch.where(far[:, None], s / norm * hp.outlier_radius, s)
        return s

    def _unplanted(self, s: torch.Tensor) -> torch.Tensor:
        hp = self.hparams
        if hp.defect == "cut":
            s = s.clone()
            side = s[:, 0] - hp.cut_at
            inside = side.abs() <= 0.5 * hp.cut_width  # the empty slab decodes as the cut plane itself
            s[:, 0] = torch.where(
                inside, torch.full_like(side, hp.cut_at), s[:, 0] - 0.5 * hp.cut_width * torch.sign(side)
            )
        elif hp.defect == "warp":
            s = s.clone()
            s[:, 2] = s[:, 2] - hp.warp_bend * (s[:, 0] ** 2 - 1.0)
        return s

    # --- the model's API ------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of each image: its exactly fitted factors, standardised, the defect, rotated."""
        images = x.detach().reshape(len(x), x.shape[-2], x.shape[-1]).double().cpu().numpy()
        fitted = fit_factors(images, self.hparams.low, self.hparams.high)
        factors = torch.as_tensor(np.stack([fitted[k] for k in ("var_x", "var_y", "rho")], axis=1)).to(self.mean)
        s = self._planted((factors - self.mean) / self.std, factors)
        return (s @ self.rotation.T).to(device=x.device, dtype=x.dtype)

    def factors_of(self, z: torch.Tensor) -> torch.Tensor:
        """The factors ``(N, 3)`` a code decodes to, kept inside the data's range: every decode is an
        exact heatmap the data could hold, so any realism above 0 is the instrument's error."""
        s = self._unplanted(z.double() @ self.rotation.to(torch.float64))
        return torch.maximum(torch.minimum(s * self.std + self.mean, self.high), self.low)

    def render_codes(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, 1, S, S)`` in [0, 1]: the exact heatmaps of the decoded factors (blurred for ``blur``)."""
        f = self.factors_of(z)
        var_x, var_y, rho = f.unbind(1)
        cov = rho * torch.sqrt(var_x * var_y)
        det = var_x * var_y - cov**2
        coeffs = -0.5 * torch.stack([var_y, -2.0 * cov, var_x], 1) / det[:, None]  # as gaussian_heatmaps
        log_density = coeffs @ self.features.to(coeffs)
        image = torch.exp(log_density - log_density.max(dim=1, keepdim=True).values)
        side = self.hparams.image_size
        image = image.reshape(len(z), 1, side, side)
        if self.hparams.defect == "blur":
            taps = self.blur_taps.to(image)
            pad = len(taps) // 2
            image = nn.functional.conv2d(image, taps.view(1, 1, 1, -1), padding=(0, pad))
            image = nn.functional.conv2d(image, taps.view(1, 1, -1, 1), padding=(pad, 0))
        return image.to(z.dtype)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.render_codes(z)

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        decoded = self.reconstruct(x)  # once: the fit in encode() is the costly part
        recon = ((decoded - x) ** 2).flatten(1).sum(1).mean()
        return {"loss": recon, "recon": recon, "logits": torch.logit(decoded.clamp(1e-6, 1 - 1e-6))}

    def training_step(self, batch: dict, batch_idx: int) -> Any:
        raise TypeError("an oracle is written, not trained: python -m heatmap_latent.study.oracles DIR")

    def configure_optimizers(self) -> Any:
        raise TypeError("an oracle is written, not trained: python -m heatmap_latent.study.oracles DIR")
