"""The study's analysis steps, in report order. Each is a function of an :class:`EncodedRun`."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import spearmanr

from heatmap_latent.analysis import geometry as geo
from heatmap_latent.analysis.disentanglement import dci, mig, sap
from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.analysis.figures import error_histogram, examples_figure, latent_3d, trajectory_figure
from heatmap_latent.analysis.probes import knn_classifier, recoverability
from heatmap_latent.analysis.reconstruction import error_summary
from heatmap_latent.analysis.step import Figure, Step, StepResult, SummaryRow, not_applicable
from heatmap_latent.analysis.study_paths import study_paths
from heatmap_latent.plotting import colour_factors, projection_figure
from heatmap_latent.subsample import evenly_spaced

CONTINUOUS = ("var_x", "var_y", "rho")


def _abs_spearman(a: np.ndarray, b: np.ndarray) -> float:
    """|Spearman| of two sequences; 0 where either is constant (no monotone trend)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(abs(spearmanr(a, b).statistic))


def reconstruction(e: EncodedRun) -> StepResult:
    images, recons, errors = e.test_reconstruction
    summary = error_summary(errors)
    return StepResult(
        summary,
        [
            Figure(
                "error_hist",
                "Per-image Frobenius error on the test split; dashed: mean, dotted: p99.",
                "reconstruction",
                lambda: error_histogram({e.name: errors}, {e.name: summary}),
                overview=True,
            ),
            Figure(
                "examples",
                "Best and worst test reconstructions: originals above reconstructions (title: Frobenius error).",
                "reconstruction",
                lambda: examples_figure(images, recons, errors),
                overview=True,
            ),
        ],
    )


def projections(e: EncodedRun) -> StepResult:
    figures = [
        Figure(
            f"projection_{name}",
            f"Every image's code on the coordinate planes, coloured by {name}.",
            "latent",
            lambda values=values, name=name: projection_figure(e.latents, values, name),
            overview=name == "rho",
        )
        for name, values in colour_factors(e.factors).items()
    ]
    metrics = {
        "latent_dim": int(e.latents.shape[1]),
        "axis_std": e.latents.std(0).tolist(),
        "axis_range": np.ptp(e.latents, axis=0).tolist(),
    }
    return StepResult(metrics, figures)


def factor_recoverability(e: EncodedRun) -> StepResult:
    tr, te = e.train_idx, e.test_idx
    out = recoverability(
        e.latents[tr],
        {k: e.factors[k][tr] for k in CONTINUOUS},
        e.latents[te],
        {k: e.factors[k][te] for k in CONTINUOUS},
    )
    for name in CONTINUOUS:
        per_axis = [_abs_spearman(e.latents[te, d], e.factors[name][te]) for d in range(e.latents.shape[1])]
        out[name]["best_axis"] = int(np.argmax(per_axis))
        out[name]["best_axis_spearman"] = float(max(per_axis))
    return StepResult(out)


def disentanglement(e: EncodedRun) -> StepResult:
    f_all = np.stack([e.factors[k] for k in CONTINUOUS], axis=1)
    tr, te = e.train_idx, e.test_idx
    return StepResult(
        {
            "mig": mig(e.latents, f_all),
            "sap": sap(e.latents, f_all),
            "dci": dci(e.latents[tr], f_all[tr], e.latents[te], f_all[te], seed=e.seed),
        }
    )


def density(e: EncodedRun) -> StepResult:
    return StepResult(dict(e.density[0]))


def _decoded_path(e: EncodedRun, path: geo.Path) -> dict[str, Any]:
    """Decode every point of a path: the strip's images, nearest codes, realism and monotonicity."""
    decoded = e.decode(path.points)
    real, fitted = e.realism(decoded)
    steps = np.arange(len(path.points))
    strip = evenly_spaced(len(path.points), e.n_strip)
    dist, near = e.tree.query(path.points[strip])
    near_f = [{k: float(e.factors[k][i]) for k in e.factors} for i in near]
    monotone = {k: _abs_spearman(steps, fitted[k]) for k in CONTINUOUS}
    return {
        "metrics": {
            "description": path.description,
            "plane": list(path.plane),
            "points": path.points[strip].tolist(),
            "nearest_factors": near_f,
            "nearest_distance": dist.tolist(),
            "realism": real[strip].tolist(),
            "realism_mean": float(real.mean()),
            "max_gap": float(e.tree.query(path.points)[0].max()),
            "monotone": monotone,  # |Spearman| of step vs the factor fitted to each decoded image
            "monotone_variance": max(monotone["var_x"], monotone["var_y"]),
            "fitted_rho_std": float(np.std(fitted["rho"])),
        },
        "strip": (decoded[strip], near_f, real[strip]),
    }


def trajectories(e: EncodedRun) -> StepResult:
    paths, info = study_paths(e.latents, e.factors, e.n_path)
    out: dict[str, Any] = {"rho_axis": info["rho_axis"]}
    figures: list[Figure] = []
    for p in paths:
        done = _decoded_path(e, p)
        out[p.name] = done["metrics"]
        figures.append(
            Figure(
                f"path_{p.name}",
                f"{p.description}. Below each decoded image: realism (distance to the closest exact heatmap) "
                "and the factors of the nearest data point.",
                "trajectories",
                lambda s=done["strip"], q=p: trajectory_figure(e.latents, e.factors["rho"], "rho", q, *s),
                overview=p.name in ("isovariance_spline", "empty_between_tails"),
                wide=True,
            )
        )
    for name in ("bounding_plane_0", "bounding_plane_1"):
        if name not in out:
            out[name] = not_applicable("hull-plane paths are drawn for 3-D latent spaces only")
    if e.latents.shape[1] == 3:
        anchors, perturbed = geo.near_hull_perturbations(e.latents, 5, 4, 0.15, e.seed)
    else:
        rng = np.random.default_rng(e.seed)
        anchors, perturbed = e.latents[rng.choice(len(e.latents), 5)], e.latents[rng.choice(len(e.latents), 20)]
    decoded = e.decode(perturbed)
    real = e.realism(decoded)[0]
    shown = perturbed[: e.n_strip]
    dist, near = e.tree.query(shown)
    near_f = [{k: float(e.factors[k][i]) for k in e.factors} for i in near]
    out["perturbations"] = {
        "anchors": anchors.tolist(),
        "realism_mean": float(real.mean()),
        "nearest_distance": dist.tolist(),
    }
    pert = geo.Path("perturbations", shown, (0, 1), "random perturbations of points near the hull", connected=False)
    figures.append(
        Figure(
            "path_perturbations",
            "Gaussian perturbations (0.15 std) of the 5 codes closest to the hull (x).",
            "trajectories",
            lambda: trajectory_figure(
                e.latents, e.factors["rho"], "rho", pert, decoded[: e.n_strip], near_f, real[: e.n_strip], anchors
            ),
            wide=True,
        )
    )
    figures.append(
        Figure(
            "latent_3d",
            "Interactive: drag to rotate; the menu picks the colouring factor; the lines are the decoded paths.",
            "trajectories",
            lambda: latent_3d(e.latents, e.factors, paths, f"{e.name}: latent space and decoded paths"),
            overview=True,
            wide=True,
        )
    )
    return StepResult(out, figures)


def realism(e: EncodedRun) -> StepResult:
    rng = np.random.default_rng(e.seed)
    out: dict[str, Any] = {"reconstructions": error_summary(e.realism(e.test_reconstruction[1])[0])}
    empty = e.density[1]
    if len(empty):
        pick = empty[rng.choice(len(empty), min(500, len(empty)), replace=False)]
        out["empty_regions"] = error_summary(e.realism(e.decode(pick))[0])
    else:
        out["empty_regions"] = not_applicable("no probe of the bounding box is far from every code")
    if hasattr(e.run.model, "posterior"):
        prior = rng.normal(size=(1000, e.latents.shape[1]))
        out["prior_source"] = "N(0, I)"
    else:
        prior = rng.multivariate_normal(e.latents.mean(0), np.cov(e.latents.T), size=1000)
        out["prior_source"] = "Gaussian fitted to the codes (the AE has no prior)"
    out["prior_samples"] = error_summary(e.realism(e.decode(prior))[0])
    return StepResult(out)


def df_classifier(e: EncodedRun) -> StepResult:
    tr, te = e.train_idx, e.test_idx
    return StepResult(
        knn_classifier(e.latents[tr], e.factors["df"][tr], e.latents[te], e.factors["df"][te], seed=e.seed)
    )


def _rows(*pairs: tuple[str, str]) -> tuple[SummaryRow, ...]:
    return tuple(SummaryRow(key, label) for key, label in pairs)


STEPS: tuple[Step, ...] = (
    Step(
        "reconstruction",
        "Reconstruction error (test split)",
        reconstruction,
        _rows(
            ("mean", "mean Frobenius error"),
            ("median", "median"),
            ("p99", "p99"),
            ("tail_ratio", "p99 / median"),
            ("tail_share", "share > 3x median"),
        ),
    ),
    Step("latent", "Latent space", projections, _rows(("latent_dim", "latent dimensions"))),
    Step(
        "recoverability",
        "Factor recoverability (held-out R^2, best single axis)",
        factor_recoverability,
        _rows(
            *((f"{k}.linear_r2", f"R^2 {k} (linear)") for k in CONTINUOUS),
            *((f"{k}.knn_r2", f"R^2 {k} (k-NN)") for k in CONTINUOUS),
            *((f"{k}.best_axis_spearman", f"best axis |Spearman| {k}") for k in CONTINUOUS),
        ),
    ),
    Step(
        "disentanglement",
        "Disentanglement",
        disentanglement,
        _rows(
            ("mig", "MIG"),
            ("sap", "SAP"),
            ("dci.disentanglement", "DCI disentanglement"),
            ("dci.completeness", "DCI completeness"),
            ("dci.informativeness", "DCI informativeness (R^2)"),
        ),
    ),
    Step(
        "density",
        "Latent density (standardised codes)",
        density,
        _rows(
            ("nn_median", "NN distance, median"), ("nn_p95", "NN distance, p95"), ("empty_share", "share of box empty")
        ),
    ),
    Step(
        "trajectories",
        "Decoded trajectories",
        trajectories,
        _rows(
            ("isovariance_spline.monotone.rho", "isovariance spline: |Spearman| step vs fitted rho"),
            ("bounding_plane_0.monotone_variance", "hull plane 0: |Spearman| step vs fitted variance"),
            ("bounding_plane_0.fitted_rho_std", "hull plane 0: std of fitted rho"),
            ("bounding_plane_1.monotone_variance", "hull plane 1: |Spearman| step vs fitted variance"),
            ("bounding_plane_1.fitted_rho_std", "hull plane 1: std of fitted rho"),
            ("empty_between_tails.realism_mean", "path between tails: realism"),
            ("empty_between_tails.max_gap", "path between tails: largest gap to a code"),
        ),
    ),
    Step(
        "realism",
        "Decoded realism (distance to the closest exact heatmap; 0 = a perfect ellipse)",
        realism,
        _rows(
            ("reconstructions.mean", "test reconstructions"),
            ("empty_regions.mean", "empty regions"),
            ("prior_samples.mean", "prior samples"),
        ),
    ),
    Step(
        "df_classifier",
        "k-NN classifier of df from the code (test split)",
        df_classifier,
        _rows(
            ("accuracy", "accuracy"),
            ("f1_macro", "F1 (macro)"),
            ("majority_baseline", "majority baseline"),
            ("k", "k (by CV)"),
        ),
        not_applicable=lambda e: None if e.student_t else f"{e.run.datamodule.name} has no df factor",
    ),
)
