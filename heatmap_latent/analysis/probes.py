"""What a simple model can read off the latent code: factor regressions and the df classifier."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


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


def knn_classifier(
    train_z: np.ndarray,
    train_y: np.ndarray,
    test_z: np.ndarray,
    test_y: np.ndarray,
    ks: tuple[int, ...] = (1, 3, 5, 9, 15, 25, 41),
    folds: int = 5,
    seed: int = 0,
) -> dict[str, float]:
    """k-NN classifier of a label (e.g. df) from the code; k by cross-validation on the train split."""
    search = GridSearchCV(
        make_pipeline(StandardScaler(), KNeighborsClassifier()),
        {"kneighborsclassifier__n_neighbors": list(ks)},
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        scoring="accuracy",
    )
    search.fit(train_z, train_y)
    pred = search.predict(test_z)
    return {
        "k": int(search.best_params_["kneighborsclassifier__n_neighbors"]),
        "cv_accuracy": float(search.best_score_),
        "accuracy": float(accuracy_score(test_y, pred)),
        "f1_macro": float(f1_score(test_y, pred, average="macro")),
        "majority_baseline": float(np.max(np.unique(test_y, return_counts=True)[1]) / len(test_y)),
    }
