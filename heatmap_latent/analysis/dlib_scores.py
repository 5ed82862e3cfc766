"""disentanglement_lib's variants of DCI and SAP as an analysis step of their own (``analyze.py
scores.dlib.enabled=true``): gradient boosting and test accuracy on the factors' classes for DCI, a
linear SVM per code dimension for SAP (``scores/dlib_variants.py``), beside the Disentanglement
step's own DCI (random forests, held-out R^2) and SAP (linear R^2), which are not comparable with
theirs. A step of its own, so that turning it on changes nothing the study's claims read."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.analysis.step import Step, StepResult, SummaryRow
from heatmap_latent.scores.dlib_variants import dci_gradient_boosting, sap_discrete
from heatmap_latent.scores.supervised import factor_labels


def dlib_scores(encoded: EncodedRun) -> StepResult:
    settings = dict((encoded.scores or {}).get("dlib") or {})
    num_train, num_test = int(settings["num_train"]), int(settings["num_test"])
    names = list(encoded.declaration.names)
    labels = factor_labels(np.stack([encoded.factors[k] for k in names], axis=1))
    tr, te = encoded.train_idx, encoded.test_idx
    train, test = (encoded.latents[tr], labels[tr]), (encoded.latents[te], labels[te])
    out: dict[str, Any] = {"factors": names, "num_train": min(num_train, len(tr)), "num_test": min(num_test, len(te))}
    start = time.perf_counter()
    out["dci"] = dci_gradient_boosting(train, test, num_train, num_test, encoded.seed)
    middle = time.perf_counter()
    out["sap"] = sap_discrete(train, test, num_train, num_test, encoded.seed)
    out["timing"] = {"dci": middle - start, "sap": time.perf_counter() - middle}
    return StepResult(out)


DLIB_SCORES = Step(
    "dlib_scores",
    "Disentanglement, disentanglement_lib's DCI and SAP (classes of each factor)",
    dlib_scores,
    tuple(
        SummaryRow(k, label)
        for k, label in (
            ("dci.disentanglement", "DCI disentanglement (gradient boosting)"),
            ("dci.completeness", "DCI completeness (gradient boosting)"),
            ("dci.informativeness", "DCI informativeness (test accuracy)"),
            ("sap", "SAP (linear SVM per dimension, test accuracy)"),
        )
    ),
)
