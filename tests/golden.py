"""The golden analysis of ``tests/fixtures/golden_run``: its metrics and a thumbnail of every figure.

``golden_run`` is a tiny VAE run (12x12 grid, 3 epochs, seed 3) written by the code before the
package was restructured; its ``.hydra/config.yaml`` and checkpoint hyperparameters were rewritten
to today's names once (docs/architecture.md, "Old run directories"). Regenerate the golden
files only on purpose, when a change of the numbers is intended::

    python analyze.py run=tests/fixtures/golden_run output_dir=/tmp/golden
    python -m tests.golden /tmp/golden
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN_RUN = FIXTURES / "golden_run"
GOLDEN = FIXTURES / "golden"
# what differs between two analyses of the same checkpoint: where it lies and how long it took, and
# the verdict digest (study/digest.py), which moves with any verdict code
VOLATILE = ("timing", "run_dir", "checkpoint", "digest")


def _volatile(key: str) -> bool:
    return any(part in VOLATILE for part in key.split("."))


def comparable(metrics: dict) -> dict:
    """metrics.json without paths and timings."""
    if isinstance(metrics, dict):
        return {k: comparable(v) for k, v in metrics.items() if not _volatile(k)}
    if isinstance(metrics, list):
        return [comparable(v) for v in metrics]
    return metrics


def thumbnail(png: Path, size: int = 24) -> dict:
    """A PNG's shape and its grey levels averaged into ``size`` x ``size`` cells."""
    from matplotlib.image import imread  # noqa: PLC0415 (tests may import locally)

    image = imread(png)[..., :3].mean(-1)
    rows = np.array_split(np.arange(image.shape[0]), size)
    cols = np.array_split(np.arange(image.shape[1]), size)
    cells = [[float(image[np.ix_(r, c)].mean()) for c in cols] for r in rows]
    return {"shape": list(image.shape), "cells": np.round(cells, 4).tolist()}


def summarise(out_dir: Path) -> tuple[dict, dict]:
    metrics = comparable(json.loads((out_dir / "metrics.json").read_text()))
    figures = {p.name: thumbnail(p) for p in sorted((out_dir / "figures").glob("*.png"))}
    return metrics, figures


def assert_close(actual, expected, where: str = "") -> None:
    """Equal structure and strings; numbers equal to a relative 1e-5 (different BLAS builds)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected), f"{where}: keys differ"
        for key in expected:
            assert_close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: lengths differ"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert np.isclose(actual, expected, rtol=1e-5, atol=1e-7), f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


if __name__ == "__main__":
    metrics, figures = summarise(Path(sys.argv[1]))
    GOLDEN.mkdir(exist_ok=True)
    (GOLDEN / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n")
    (GOLDEN / "figures.json").write_text(json.dumps(figures, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}: {len(figures)} figures")
