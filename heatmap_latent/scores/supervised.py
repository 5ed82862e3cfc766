"""The field's supervised disentanglement scores from codes of the whole factor grid.

Every image of the dataset is a point of the factor grid, so "a batch with factor k held fixed" is
exact here: pick a value of factor k (that of a uniformly drawn image) and draw the batch uniformly
from the images that have it. Settings (batch size, train and eval counts) come from
``analyze.yaml``'s ``scores``; the defaults are disentanglement_lib's.

- BetaVAE score (Higgins et al. 2017): a point is the mean |z1 - z2| over a batch of pairs that share
  factor k; a logistic regression predicts k from it; the score is its accuracy on new points.
- FactorVAE score (Kim & Mnih 2018): codes divided by their standard deviation over the data; a
  point is the dimension of least variance over a batch with factor k fixed, among the *active*
  dimensions; the majority-vote classifier (each dimension predicts its most frequent factor) is
  scored on new points. Collapsed dimensions are excluded as the paper does (active: code variance
  over the data > 0.01, Burda et al.'s rule); disentanglement_lib's default threshold (standard
  deviation >= 0) keeps every dimension, even a dead one.
- Modularity and explicitness (Ridgeway & Mozer 2018), as disentanglement_lib computes them:
  modularity from the mutual information of each code (20 equal-width bins) with each factor;
  explicitness the mean one-vs-rest ROC-AUC of a logistic regression per factor, train and test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score, roc_auc_score
from sklearn.preprocessing import label_binarize

from heatmap_latent.scores.disentanglement import _discretise


def factor_labels(factors: np.ndarray) -> np.ndarray:
    """``(N, K)`` integer labels of each factor's grid values."""
    return np.stack([np.unique(factors[:, k], return_inverse=True)[1] for k in range(factors.shape[1])], axis=1)


class FixedFactorSampler:
    """Draws images of the grid with one factor held fixed at a value."""

    def __init__(self, labels: np.ndarray, rng: np.random.Generator) -> None:
        self.labels, self.rng = labels, rng
        self.members = [
            [np.flatnonzero(labels[:, k] == v) for v in range(labels[:, k].max() + 1)] for k in range(labels.shape[1])
        ]

    def same_value(self, k: int, images: np.ndarray) -> np.ndarray:
        """For each of ``images``, a uniformly drawn image with the same value of factor ``k``."""
        out = np.empty_like(images)
        for v, group in enumerate(self.members[k]):
            where = self.labels[images, k] == v
            if where.any():
                out[where] = group[self.rng.integers(len(group), size=int(where.sum()))]
        return out

    def batch(self, k: int, size: int) -> np.ndarray:
        """``size`` images sharing factor ``k``'s value (that of a uniformly drawn image)."""
        value = self.labels[self.rng.integers(len(self.labels)), k]
        group = self.members[k][value]
        return group[self.rng.integers(len(group), size=size)]


def beta_vae_score(
    codes: np.ndarray, labels: np.ndarray, seed: int, batch_size: int = 64, num_train: int = 10000, num_eval: int = 5000
) -> dict[str, float]:
    sampler = FixedFactorSampler(labels, np.random.default_rng(seed))

    def points(n: int) -> tuple[np.ndarray, np.ndarray]:
        ks = sampler.rng.integers(labels.shape[1], size=n)
        features = np.empty((n, codes.shape[1]))
        for k in range(labels.shape[1]):
            rows = np.flatnonzero(ks == k)
            first = sampler.rng.integers(len(codes), size=(len(rows), batch_size))
            second = sampler.same_value(k, first.ravel()).reshape(first.shape)
            features[rows] = np.abs(codes[first] - codes[second]).mean(axis=1)
        return features, ks

    x_train, y_train = points(num_train)
    x_eval, y_eval = points(num_eval)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    return {"train_accuracy": float(model.score(x_train, y_train)), "eval_accuracy": float(model.score(x_eval, y_eval))}


def factor_vae_score(
    codes: np.ndarray,
    labels: np.ndarray,
    active: np.ndarray,
    seed: int,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
) -> dict[str, Any]:
    n_factors = labels.shape[1]
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "n_active": 0}
    sampler = FixedFactorSampler(labels, np.random.default_rng(seed))
    scale = codes.std(axis=0, ddof=1)
    normalised = codes[:, active] / scale[active]

    def votes(n: int) -> np.ndarray:
        out = np.zeros((n_factors, int(active.sum())), dtype=np.int64)
        ks = sampler.rng.integers(n_factors, size=n)
        for k in range(n_factors):
            count = int((ks == k).sum())
            batches = np.stack([sampler.batch(k, batch_size) for _ in range(count)]) if count else np.zeros((0, 1), int)
            if count:
                lowest = normalised[batches].var(axis=1, ddof=1).argmin(axis=1)
                np.add.at(out[k], lowest, 1)
        return out

    train, evaluation = votes(num_train), votes(num_eval)
    classifier = train.argmax(axis=0)  # each active dimension votes for its most frequent factor
    columns = np.arange(train.shape[1])
    return {
        "train_accuracy": float(train[classifier, columns].sum() / train.sum()),
        "eval_accuracy": float(evaluation[classifier, columns].sum() / evaluation.sum()),
        "n_active": int(active.sum()),
    }


def modularity(mutual_information: np.ndarray) -> float:
    """Ridgeway & Mozer's modularity from ``(codes, factors)`` mutual information."""
    squared = mutual_information**2
    top = squared.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (squared.sum(axis=1) - top) / (top * (squared.shape[1] - 1))
    score = np.where(top == 0, 0.0, 1.0 - delta)
    return float(score.mean())


def _explicitness(x_train, y_train, x_test, y_test) -> tuple[float, float]:
    classes = np.unique(y_train)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)

    def auc(x: np.ndarray, y: np.ndarray) -> float:
        proba = model.predict_proba(x)
        if len(classes) == 2:
            return float(roc_auc_score(y, proba[:, 1]))
        truth = label_binarize(y, classes=classes)
        keep = truth.sum(axis=0) > 0  # a class absent from this split has no ROC curve
        return float(roc_auc_score(truth[:, keep], proba[:, keep], average="macro"))

    return auc(x_train, y_train), auc(x_test, y_test)


def modularity_explicitness(
    train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray, test_labels: np.ndarray, bins: int = 20
) -> dict[str, float]:
    binned = [_discretise(train_codes[:, d], bins) for d in range(train_codes.shape[1])]
    mi = np.array([[mutual_info_score(train_labels[:, k], b) for k in range(train_labels.shape[1])] for b in binned])
    mean, std = train_codes.mean(0), train_codes.std(0) + 1e-12
    train_x, test_x = (train_codes - mean) / std, (test_codes - mean) / std
    pairs = [
        _explicitness(train_x, train_labels[:, k], test_x, test_labels[:, k]) for k in range(train_labels.shape[1])
    ]
    return {
        "modularity": modularity(mi),
        "explicitness_train": float(np.mean([p[0] for p in pairs])),
        "explicitness_test": float(np.mean([p[1] for p in pairs])),
    }
