"""What a simple model can read off the latent code: factor regressions and the df classifier."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from heatmap_latent.analysis.instruments import instrument
from heatmap_latent.analysis.step import not_applicable


def recoverability(
    train_z: np.ndarray,
    train_f: dict[str, np.ndarray],
    test_z: np.ndarray,
    test_f: dict[str, np.ndarray],
    k: int = 10,
) -> dict[str, dict[str, float]]:
    """Held-out R^2 of a linear and a k-NN regressor from latent to each factor."""
    out = {}
    for name in train_f:
        linear = LinearRegression().fit(train_z, train_f[name])
        knn = make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=k)).fit(train_z, train_f[name])
        out[name] = {
            "linear_r2": float(linear.score(test_z, test_f[name])),
            "knn_r2": float(knn.score(test_z, test_f[name])),
        }
    return out


def _knn_search(train_z: np.ndarray, train_y: np.ndarray, ks: tuple[int, ...], folds: int, seed: int) -> GridSearchCV:
    """A standardised k-NN classifier, k chosen by stratified cross-validation on the train split."""
    search = GridSearchCV(
        make_pipeline(StandardScaler(), KNeighborsClassifier()),
        {"kneighborsclassifier__n_neighbors": list(ks)},
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        scoring="accuracy",
    )
    return search.fit(train_z, train_y)


KS = (1, 3, 5, 9, 15, 25, 41)


def knn_classifier(
    train_z: np.ndarray,
    train_y: np.ndarray,
    test_z: np.ndarray,
    test_y: np.ndarray,
    ks: tuple[int, ...] = KS,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, float]:
    """k-NN classifier of a label (e.g. df) from the code; k by cross-validation on the train split."""
    search = _knn_search(train_z, train_y, ks, folds, seed)
    pred = search.predict(test_z)
    return {
        "k": int(search.best_params_["kneighborsclassifier__n_neighbors"]),
        "cv_accuracy": float(search.best_score_),
        "accuracy": float(accuracy_score(test_y, pred)),
        "f1_macro": float(f1_score(test_y, pred, average="macro")),
        "majority_baseline": float(np.max(np.unique(test_y, return_counts=True)[1]) / len(test_y)),
    }


def knn_against_reference(
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray, np.ndarray],
    confident: float | None = None,
    ks: tuple[int, ...] = KS,
    seed: int = 0,
) -> dict[str, object]:
    """A label read from the code against the same label read from a reference (e.g. the other
    factors, which may imply much of it): ``train`` and ``test`` are ``(codes, reference, labels)``.
    The code's k-NN classifier (``knn_classifier``'s figures), the reference's (``factors``), and
    both on the *ambiguous* test images, where the reference classifier's vote for its answer is
    below ``confident``: only there must a code read the label itself."""
    confident = instrument("confident", confident)
    (train_z, train_r, train_y), (test_z, test_r, test_y) = train, test
    code = _knn_search(train_z, train_y, ks, 5, seed)
    reference = _knn_search(train_r, train_y, ks, 5, seed)
    code_pred, ref_pred = code.predict(test_z), reference.predict(test_r)
    vote = reference.predict_proba(test_r).max(axis=1)
    band = vote < confident
    out: dict[str, object] = {
        "k": int(code.best_params_["kneighborsclassifier__n_neighbors"]),
        "cv_accuracy": float(code.best_score_),
        "accuracy": float(accuracy_score(test_y, code_pred)),
        "f1_macro": float(f1_score(test_y, code_pred, average="macro")),
        "majority_baseline": float(np.max(np.unique(test_y, return_counts=True)[1]) / len(test_y)),
        "factors": {
            "k": int(reference.best_params_["kneighborsclassifier__n_neighbors"]),
            "accuracy": float(accuracy_score(test_y, ref_pred)),
            "f1_macro": float(f1_score(test_y, ref_pred, average="macro")),
        },
    }
    ambiguous: dict[str, object] = {"confident": confident, "n": int(band.sum()), "share": float(band.mean())}
    for key, pred in (("accuracy", code_pred), ("factors_accuracy", ref_pred)):
        none = not_applicable(f"the reference decides every test image (vote >= {confident})")
        ambiguous[key] = float(accuracy_score(test_y[band], pred[band])) if band.any() else none
    out["ambiguous"] = ambiguous
    return out
