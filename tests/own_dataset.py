"""A dataset of the user's own, defined here and nowhere in the package: a vertical bar on a 16 x 16
image, its factors the left edge, the width and the top row. It is what docs/architecture.md's
"Adding a dataset" asks of a dataset: one Python file (this one) and one YAML (``own_conf/data/bars.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from itertools import product

import numpy as np

from heatmap_latent.data import Factor, FactorDeclaration, FactorImageDataModule, Kind

HEIGHT = 6  # rows a bar covers


class BarDataModule(FactorImageDataModule):
    """``data=bars``: a bright vertical bar (``width`` columns from ``left``, ``HEIGHT`` rows from ``top``)."""

    name = "bars"

    def __init__(self, image_size: int = 16, widths: tuple[int, ...] = (1, 2, 3, 4), **split) -> None:
        super().__init__(**split)
        self.image_size, self.widths = int(image_size), tuple(int(w) for w in widths)

    def factor_values(self) -> dict[str, np.ndarray]:
        rows = [
            (left, width, top)
            for width, left, top in product(self.widths, range(self.image_size), range(self.image_size - HEIGHT + 1))
            if left + width <= self.image_size
        ]
        left, width, top = (np.array(col, dtype=np.float64) for col in zip(*rows))
        return {"left": left, "width": width, "top": top}

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        n, s = len(factors["left"]), self.image_size
        cols, rows = np.arange(s)[None, :], np.arange(s)[None, :]
        left, width, top = (np.asarray(factors[k], dtype=np.float64)[:, None] for k in ("left", "width", "top"))
        in_cols = (cols >= left) & (cols < left + width)  # (N, S)
        in_rows = (rows >= top) & (rows < top + HEIGHT)
        return (in_rows[:, :, None] & in_cols[:, None, :]).astype(np.float32).reshape(n, 1, s, s)

    def invert(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The factors of each image ``(N, 1, S, S)``: the lit columns and rows (above half brightness)."""
        lit = np.asarray(images)[:, 0] > 0.5
        cols, rows = lit.any(axis=1), lit.any(axis=2)  # (N, S) each
        s = lit.shape[-1]
        first = lambda a: np.where(a.any(1), a.argmax(1), s).astype(np.float64)  # noqa: E731
        return {"left": first(cols), "width": cols.sum(1).astype(np.float64), "top": first(rows)}

    @cached_property
    def declaration(self) -> FactorDeclaration:
        s = self.image_size
        return FactorDeclaration(
            (
                Factor("left", tuple(float(v) for v in range(s)), Kind.ORDINAL),
                Factor("width", tuple(float(w) for w in self.widths), Kind.ORDINAL),
                Factor("top", tuple(float(v) for v in range(s - HEIGHT + 1)), Kind.ORDINAL),
            ),
            render=self.render,
            invert=self.invert,
        )
