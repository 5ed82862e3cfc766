"""Near-ties made exact, so that an order or a rank does not depend on one CPU's rounding.

The analysis computes codes in float64 (``analysis/encoded.py``): two CPUs' kernels (AVX2,
AVX-512, another BLAS) then agree to about 1e-16, far below the gaps between distinct codes. But a
saturated encoder maps many images to one code, and the same input at another position of a batch
can come out one unit in the last place apart; a sort, a bin edge or a tree split would decide
between such copies by rounding. Snapping each run of near-equal values to one value removes that
choice.
"""

from __future__ import annotations

import numpy as np

# copies of one float64 code differ by a few 1e-16 of its magnitude; distinct codes of a float32
# network lie at least ~1e-7 apart: values closer than this share of their column's largest
# magnitude are one value
TIE_RTOL = 1e-12


def snap_near_ties(values: np.ndarray, rtol: float = TIE_RTOL) -> np.ndarray:
    """Each column of ``values`` with every run of sorted neighbours closer than ``rtol`` times the
    column's largest magnitude replaced by the run's smallest value (single linkage); ``(N,)`` or
    ``(N, D)``, in the dtype of ``values`` (every value it returns is one of the column's own)."""
    x = np.array(values, copy=True)
    columns = x.reshape(len(x), -1)
    for d in range(columns.shape[1]):
        col = columns[:, d]
        tol = rtol * (float(np.max(np.abs(col))) if len(col) else 0.0)
        if tol == 0:
            continue
        order = np.argsort(col, kind="stable")
        ordered = col[order]
        starts = np.concatenate([[True], np.diff(ordered) > tol])
        run_start = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
        col[order] = ordered[run_start]
    return columns.reshape(x.shape)
