"""Procedural sprites (pure numpy): a square, an ellipse or a heart on black, dSprites' generating
process, drawn exactly and read back.

An image is ``S x S`` pixels over the unit square (pixel ``j``'s centre at ``(j + 0.5) / S``; ``x``
along columns, ``y`` along rows, downwards). A sprite of ``scale`` s has the half-size
``HALF_SIZE * s``; its centre (the centroid of its area) sits at ``MARGIN + (1 - 2 MARGIN) * pos``
for ``pos_x``, ``pos_y`` in [0, 1], so that every sprite at every orientation stays inside the image;
``orientation`` turns it by that angle from the x axis towards the y axis (clockwise on screen). Each
pixel is the share of its ``k x k`` supersamples inside the shape (a multiple of 1 / k², exact in
float32); the sample coordinates are rounded to 1e-9 before the inside test, so a machine's last-bit
rounding of a sine cannot move a sample across an edge: same factors, same pixels, everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import numpy as np

SHAPES = ("square", "ellipse", "heart")
MARGIN = 0.2  # of the image side, on each border: room for the largest sprite at any orientation
HALF_SIZE = 0.12  # a scale-1 square's half side, as a share of the image side
ELLIPSE_AXES = (1.25, 0.625)  # semi-axes, in half-sizes
HEART_ZOOM = 1.1  # the heart curve (x² + y² - 1)³ = x² y³ is drawn at 1 / HEART_ZOOM half-sizes per unit
HEART_CENTROID = 0.2935  # the heart's area centroid on the curve's y axis (its origin is not the centroid)
HEART_AREA = 3.6620  # the curve's area (both measured on a 16,000² raster)
# each shape's area in squared half-sizes, and its rotational symmetry (an n-fold shape turned by
# 2 pi / n is the same image)
AREA = {"square": 4.0, "ellipse": np.pi * ELLIPSE_AXES[0] * ELLIPSE_AXES[1], "heart": HEART_AREA / HEART_ZOOM**2}
SYMMETRY = {"square": 4, "ellipse": 2, "heart": 1}
# the hues of ``colour=true``: fully bright (the largest channel is 1), so an image's largest channel
# is the shape's coverage whatever its hue
PALETTE = np.array([[1.0, 1.0, 1.0], [1.0, 0.25, 0.25], [0.25, 1.0, 0.25], [0.3, 0.45, 1.0]], dtype=np.float32)
BLOCK = 256  # images drawn at once: a block's supersamples stay a few MB
REACH = 1.45  # the farthest any shape reaches from its centre, in half-sizes (the square's corner: sqrt 2)


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether points ``(u, v)`` of the sprite's own frame (in half-sizes) lie in shape ``shape``."""
    name = SHAPES[shape]
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 1.0
    if name == "ellipse":
        return (u / ELLIPSE_AXES[0]) ** 2 + (v / ELLIPSE_AXES[1]) ** 2 <= 1.0
    p, q = HEART_ZOOM * u, HEART_CENTROID - HEART_ZOOM * v  # the curve's y points up the sprite's -v
    return (p * p + q * q - 1.0) ** 3 - p * p * q**3 <= 0.0


def centre(pos: np.ndarray) -> np.ndarray:
    """Where a position factor in [0, 1] puts the sprite's centroid, in image units."""
    return MARGIN + (1.0 - 2.0 * MARGIN) * np.asarray(pos, dtype=np.float64)


def coverage(
    shape: np.ndarray,
    scale: np.ndarray,
    orientation: np.ndarray,
    pos_x: np.ndarray,
    pos_y: np.ndarray,
    size: int,
    supersample: int = 4,
) -> np.ndarray:
    """The share of each pixel inside each sprite: float32 ``(N, size, size)``, block by block."""
    shape = np.asarray(shape).astype(np.int64)
    if np.any((shape < 0) | (shape >= len(SHAPES))):
        raise ValueError(f"shape must be one of 0 .. {len(SHAPES) - 1} ({', '.join(SHAPES)}), got {np.unique(shape)}")
    scale, theta, cx, cy = (np.asarray(a, dtype=np.float64) for a in (scale, orientation, centre(pos_x), centre(pos_y)))
    if np.any(scale <= 0):
        raise ValueError("sprite scales must be positive")
    k = int(supersample)
    offsets = (np.arange(k) + 0.5) / k - 0.5
    out = np.zeros((len(shape), size, size), dtype=np.float32)
    cos, sin = np.round(np.cos(theta), 12), np.round(np.sin(theta), 12)
    for start in range(0, len(shape), BLOCK):
        rows = slice(start, start + BLOCK)
        n = len(shape[rows])
        # only a window around each sprite is sampled: the pixels outside it are 0 (a sprite reaches
        # at most REACH half-sizes from its centre); a pixel's samples are the same numbers in any window
        side = min(size, int(np.ceil(2 * REACH * HALF_SIZE * scale[rows].max() * size)) + 2)
        first = np.clip(np.floor((cx[rows] - REACH * HALF_SIZE * scale[rows]) * size), 0, size - side).astype(np.int64)
        top = np.clip(np.floor((cy[rows] - REACH * HALF_SIZE * scale[rows]) * size), 0, size - side).astype(np.int64)
        cols = first[:, None] + np.arange(side)[None, :]  # (n, W) pixel indices
        lines = top[:, None] + np.arange(side)[None, :]
        xs = ((cols[:, :, None] + 0.5 + offsets) / size).reshape(n, 1, side * k)
        ys = ((lines[:, :, None] + 0.5 + offsets) / size).reshape(n, side * k, 1)
        h = (HALF_SIZE * scale[rows])[:, None, None]
        dx, dy = xs - cx[rows, None, None], ys - cy[rows, None, None]
        c, s = cos[rows, None, None], sin[rows, None, None]
        u = np.round((c * dx + s * dy) / h, 9)
        v = np.round((c * dy - s * dx) / h, 9)
        hit = np.zeros(u.shape, dtype=bool)
        for kind in np.unique(shape[rows]):
            mine = shape[rows] == kind
            hit[mine] = _inside(int(kind), u[mine], v[mine])
        share = hit.reshape(n, side, k, side, k).sum(axis=(2, 4)).astype(np.float32) / np.float32(k * k)
        block = out[rows]
        block[np.arange(n)[:, None, None], lines[:, :, None], cols[:, None, :]] = share
    return out


def sprites(factors: Mapping[str, np.ndarray], size: int, supersample: int = 4, colour: bool = False) -> np.ndarray:
    """The images ``(N, C, size, size)`` of ``factors`` (shape, scale, orientation, pos_x, pos_y, and
    hue if ``colour``): one channel of coverage, or three of coverage times the hue's colour."""
    f = factors
    cover = coverage(f["shape"], f["scale"], f["orientation"], f["pos_x"], f["pos_y"], size, supersample)
    if not colour:
        return cover[:, None]
    hue = np.asarray(f["hue"]).astype(np.int64)
    if np.any((hue < 0) | (hue >= len(PALETTE))):
        raise ValueError(f"hue must be one of 0 .. {len(PALETTE) - 1}, got {np.unique(hue)}")
    return cover[:, None] * PALETTE[hue][:, :, None, None]


def _nearest(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Each of ``values`` replaced by the nearest of ``grid``."""
    grid = np.asarray(grid, dtype=np.float64)
    return grid[np.abs(np.asarray(values)[:, None] - grid[None, :]).argmin(axis=1)]


def _harmonic(cover: np.ndarray, cx: np.ndarray, cy: np.ndarray, n: int) -> np.ndarray:
    """``sum(m z^n)`` around each image's centroid (``z = dx + i dy``): the moment whose phase turns
    ``n`` times as fast as the sprite (second order for the ellipse, fourth for the square)."""
    size = cover.shape[-1]
    g = (np.arange(size) + 0.5) / size
    z = (g[None, None, :] - cx[:, None, None]) + 1j * (g[None, :, None] - cy[:, None, None])
    return (cover * z**n).sum(axis=(1, 2))


@cache  # one 128 x 128 drawing per shape and order, not one per read
def _reference_phase(shape: int, n: int) -> float:
    """The n-th harmonic's phase of a large, centred, unrotated sprite: subtracted to read its turn."""
    big = coverage(np.array([shape]), np.array([1.0]), np.array([0.0]), np.array([0.5]), np.array([0.5]), 128, 4)
    return float(np.angle(_harmonic(big, np.array([0.5]), np.array([0.5]), n))[0])


def read_sprites(
    images: np.ndarray,
    grid: Mapping[str, np.ndarray],
    size: int,
    supersample: int = 4,
    colour: bool = False,
    candidates: int = 4,
) -> dict[str, np.ndarray]:
    """The factors on ``grid`` (each factor's values) of each image ``(N, C, S, S)``: position by the
    centroid, hue by the mean colour, then for each shape its scale by the area and its orientation by
    the phase of a circular moment (second order for the ellipse, fourth for the square, modulo the
    shape's symmetry; every grid orientation for the heart), and the shape by template matching: the
    sprites so read (the ``candidates`` grid orientations nearest each shape's estimate) are drawn and
    the closest to the image wins (least absolute difference of coverage). An exact sprite is read back
    exactly, its orientation as the smallest grid value that draws the same image; any other image as
    the grid sprite that matches it best."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"sprites are read from (N, C, S, S) images, got shape {images.shape}")
    cover = images.max(axis=1).astype(np.float64)  # (N, S, S): the bright palette keeps coverage in max
    n = len(cover)
    g = (np.arange(size) + 0.5) / size
    mass = cover.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    cx = np.where(mass > 0, (cover.sum(axis=1) * g).sum(axis=1) / safe, 0.5)
    cy = np.where(mass > 0, (cover.sum(axis=2) * g).sum(axis=1) / safe, 0.5)
    to_pos = lambda c: (c - MARGIN) / (1.0 - 2.0 * MARGIN)  # noqa: E731
    out = {"pos_x": _nearest(to_pos(cx), grid["pos_x"]), "pos_y": _nearest(to_pos(cy), grid["pos_y"])}
    if colour:
        mean_colour = images.reshape(n, images.shape[1], -1).sum(-1) / safe[:, None]
        out["hue"] = np.asarray(grid["hue"], dtype=np.float64)[
            np.linalg.norm(mean_colour[:, None, :] - PALETTE[None, :, :], axis=-1).argmin(1)
        ]
    orientations = np.asarray(grid["orientation"], dtype=np.float64)
    shapes_on_grid = np.asarray(grid["shape"]).astype(np.int64)
    best_error = np.full(n, np.inf)
    best = {k: np.zeros(n) for k in ("shape", "scale", "orientation")}
    for shape in shapes_on_grid:
        fold = SYMMETRY[SHAPES[shape]]
        scale = _nearest(np.sqrt(mass / AREA[SHAPES[shape]]) / (HALF_SIZE * size), grid["scale"])
        if fold == 1:  # the heart is too round for a moment to tell its turn at these sizes: try every one
            shortlist = np.broadcast_to(np.arange(len(orientations)), (n, len(orientations)))
        else:
            phase = np.angle(_harmonic(cover, cx, cy, fold)) - _reference_phase(int(shape), fold)
            period = 2 * np.pi / fold
            turn = (phase / fold) % period  # the estimate modulo the shape's symmetry
            gap = np.abs((orientations[None, :] - turn[:, None] + period / 2) % period - period / 2)  # (N, O)
            shortlist = np.argsort(gap, axis=1, kind="stable")[:, : min(candidates, len(orientations))]
        for rank in shortlist.T:
            drawn = coverage(
                np.full(n, shape), scale, orientations[rank], out["pos_x"], out["pos_y"], size, supersample
            )
            error = np.abs(drawn - cover).sum(axis=(1, 2))
            # the smaller orientation wins a tie: the image of a symmetric shape is drawn by several
            better = (error < best_error - 1e-9) | (
                (np.abs(error - best_error) <= 1e-9)
                & (orientations[rank] < best["orientation"])
                & (best["shape"] == shape)
            )
            best_error = np.where(better, error, best_error)
            for key, value in (("shape", float(shape)), ("scale", scale), ("orientation", orientations[rank])):
                best[key] = np.where(better, value, best[key])
    out.update(best)
    return {k: out[k] for k in ("shape", "scale", "orientation", "pos_x", "pos_y", *(("hue",) if colour else ()))}
