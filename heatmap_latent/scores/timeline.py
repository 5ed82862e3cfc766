"""The cheap scores of a latent space, computed while a run trains: at each snapshot, on the
snapshot's codes and factors (``training/callbacks/snapshots.py``), written with the snapshot and
logged as ``latent_scores/<name>`` scalars. The same functions as the analysis's; counts smaller
than its (disentanglement_lib's) defaults, so that a snapshot's scores cost a few percent of its
epoch (docs/performance.md).
"""

from __future__ import annotations

import numpy as np

from heatmap_latent.scores.disentanglement import mig, sap
from heatmap_latent.scores.supervised import beta_vae_score, factor_labels, factor_vae_score

ACTIVE_VARIANCE = 0.01  # Burda et al. (2016): a unit is active when Var_x(E_q[z_d | x]) exceeds this
NAMES = ("mig", "sap", "beta_vae", "factor_vae", "active_units")
# per snapshot: batches of 64, a tenth of the analysis's 10,000 train / 5,000 eval points
COUNTS = {"batch_size": 64, "num_train": 1000, "num_eval": 500}


def active_units(latents: np.ndarray, threshold: float = ACTIVE_VARIANCE) -> np.ndarray:
    """Which latent dimensions are active: the variance of the code over the data exceeds ``threshold``."""
    return latents.var(axis=0) > threshold


def latent_scores(codes: np.ndarray, factors: dict[str, np.ndarray], seed: int = 0) -> dict[str, float]:
    """MIG, SAP, the BetaVAE and FactorVAE scores (eval accuracies) and the active units of ``codes``
    (n, D) against ``factors`` (name -> (n,) values of a factor grid)."""
    codes = np.asarray(codes, dtype=np.float64)
    f_all = np.stack([np.asarray(factors[k], dtype=np.float64) for k in factors], axis=1)
    labels = factor_labels(f_all)
    active = active_units(codes)
    return {
        "mig": float(mig(codes, f_all)),
        "sap": float(sap(codes, f_all)),
        "beta_vae": float(beta_vae_score(codes, labels, seed, **COUNTS)["eval_accuracy"]),
        "factor_vae": float(factor_vae_score(codes, labels, active, seed, **COUNTS)["eval_accuracy"]),
        "active_units": float(active.sum()),
    }
