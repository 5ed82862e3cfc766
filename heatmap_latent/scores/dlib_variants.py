"""disentanglement_lib's own variants of DCI and SAP, beside this project's (``disentanglement.py``),
for runs to be set beside the field's published numbers (``analyze.py scores.dci.estimator=
gradient_boosting scores.sap.variant=discrete``; docs/sprites.md).

Theirs (``evaluation/metrics/dci.py``, ``sap_score.py``) treat every factor as classes: DCI fits one
``GradientBoostingClassifier`` per factor (sklearn's defaults) on the codes, its importances the
matrix, informativeness the test accuracy; SAP fits, for every code dimension and factor, a
``LinearSVC(C=0.01, class_weight="balanced")`` on that one dimension and scores its test accuracy,
the mean over factors of the gap between the two best dimensions. Both on ``num_train`` and
``num_test`` points drawn from the analysis's splits (theirs: 10,000 and 5,000).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from heatmap_latent.scores.disentanglement import importance_scores


def _draw(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(n, size=min(size, n), replace=False)


def dci_gradient_boosting(
    train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], num_train: int, num_test: int, seed: int
) -> dict[str, float]:
    """DCI as disentanglement_lib computes it: ``train`` and ``test`` are ``(codes, labels)``."""
    rng = np.random.default_rng(seed)
    tr, te = _draw(len(train[0]), num_train, rng), _draw(len(test[0]), num_test, rng)
    (z, y), (z_test, y_test) = (train[0][tr], train[1][tr]), (test[0][te], test[1][te])
    importance = np.zeros((z.shape[1], y.shape[1]))
    train_acc, test_acc = [], []
    for k in range(y.shape[1]):
        model = GradientBoostingClassifier(random_state=seed).fit(z, y[:, k])
        importance[:, k] = np.abs(model.feature_importances_)
        train_acc.append(model.score(z, y[:, k]))
        test_acc.append(model.score(z_test, y_test[:, k]))
    return {
        **importance_scores(importance),
        "informativeness_train": float(np.mean(train_acc)),
        "informativeness": float(np.mean(test_acc)),
    }


def sap_discrete(
    train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], num_train: int, num_test: int, seed: int
) -> float:
    """SAP as disentanglement_lib computes it for discrete factors (``continuous_factors=False``)."""
    rng = np.random.default_rng(seed)
    tr, te = _draw(len(train[0]), num_train, rng), _draw(len(test[0]), num_test, rng)
    (z, y), (z_test, y_test) = (train[0][tr], train[1][tr]), (test[0][te], test[1][te])
    score = np.zeros((z.shape[1], y.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # theirs runs LinearSVC at its defaults too
        for d in range(z.shape[1]):
            for k in range(y.shape[1]):
                if len(np.unique(y[:, k])) < 2:
                    continue
                svm = LinearSVC(C=0.01, class_weight="balanced").fit(z[:, [d]], y[:, k])
                score[d, k] = np.mean(svm.predict(z_test[:, [d]]) == y_test[:, k])
    top = np.sort(score, axis=0)[::-1]
    second = top[1] if len(top) > 1 else np.zeros(score.shape[1])
    return float(np.mean(top[0] - second))
