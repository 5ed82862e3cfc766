"""The heatmap study's analysis steps: the standard ones, then decoded trajectories, decoded realism
and the df classifier, in report order."""

from __future__ import annotations

from typing import Any

import numpy as np

from heatmap_latent.analysis import geometry as geo
from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.analysis.figures import latent_3d, trajectory_figure
from heatmap_latent.analysis.probes import knn_against_reference
from heatmap_latent.analysis.standard_steps import ROUND_TRIP, STANDARD_STEPS, abs_spearman, rows
from heatmap_latent.analysis.step import Figure, Step, StepResult, not_applicable
from heatmap_latent.core.subsample import evenly_spaced
from heatmap_latent.data.heatmaps import FACTOR_NAMES
from heatmap_latent.models import VAE
from heatmap_latent.study.paths import study_paths
from heatmap_latent.study.realism import decoded_realism, realism_of
from heatmap_latent.study.statements import kink, study_statements

# the heatmaps' continuous factors: what the study's paths, fits and realism read
CONTINUOUS = FACTOR_NAMES


def _decoded_path(encoded: EncodedRun, path: geo.Path) -> dict[str, Any]:
    """Decode every point of a path: the strip's images, nearest codes, realism and monotonicity."""
    decoded = encoded.decode(path.points)
    real, fitted = realism_of(encoded, decoded)
    steps = np.arange(len(path.points))
    strip = evenly_spaced(len(path.points), encoded.n_strip)
    dist, near = encoded.tree.query(path.points[strip])
    near_f = [{k: float(encoded.factors[k][i]) for k in encoded.factors} for i in near]
    monotone = {k: abs_spearman(steps, fitted[k]) for k in CONTINUOUS}
    monotone["var_diff"] = abs_spearman(steps, fitted["var_x"] - fitted["var_y"])  # the study's x axis
    return {
        "metrics": {
            "description": path.description,
            "plane": list(path.plane),
            "points": path.points[strip].tolist(),
            "nearest_factors": near_f,
            "nearest_distance": dist.tolist(),
            "realism": real[strip].tolist(),
            "realism_mean": float(real.mean()),
            "max_gap": float(encoded.tree.query(path.points)[0].max()),
            "monotone": monotone,  # |Spearman| of step vs the factor fitted to each decoded image
            "monotone_variance": max(monotone["var_x"], monotone["var_y"]),
            "fitted_rho_std": float(np.std(fitted["rho"])),
            "fitted_mean": {k: float(np.mean(fitted[k])) for k in CONTINUOUS},
            "fitted_std": {k: float(np.std(fitted[k])) for k in CONTINUOUS},
            "fitted_range": {k: float(np.ptp(fitted[k])) for k in CONTINUOUS},
            # how far from var_x = var_y the decoded images lie (the isovariance spline's promise)
            "fitted_var_gap": float(np.mean(np.abs(fitted["var_x"] - fitted["var_y"]))),
            # the largest distance to a code over the codes' RMS spread: a path that runs off the codes
            "max_gap_share": float(encoded.tree.query(path.points)[0].max() / np.sqrt(encoded.latents.var(0).mean())),
        },
        "strip": (decoded[strip], near_f, real[strip]),
    }


def _perturbations(encoded: EncodedRun) -> tuple[dict[str, Any], Figure]:
    """The study's control: Gaussian perturbations (0.15 std) of the codes nearest the hull, decoded,
    their realism and nearest codes, and their figure."""
    if encoded.latents.shape[1] == 3:
        anchors, perturbed = geo.near_hull_perturbations(
            encoded.latents,
            encoded.instrument("hull_points"),
            encoded.instrument("hull_draws"),
            encoded.instrument("hull_scale"),
            encoded.seed,
        )
    else:
        rng = np.random.default_rng(encoded.seed)
        anchors, perturbed = (
            encoded.latents[rng.choice(len(encoded.latents), 5)],
            encoded.latents[rng.choice(len(encoded.latents), 20)],
        )
    decoded = encoded.decode(perturbed)
    real = realism_of(encoded, decoded)[0]
    shown = perturbed[: encoded.n_strip]
    dist, near = encoded.tree.query(shown)
    near_f = [{k: float(encoded.factors[k][i]) for k in encoded.factors} for i in near]
    metrics = {
        "anchors": anchors.tolist(),
        "realism_mean": float(real.mean()),
        "nearest_distance": dist.tolist(),
    }
    pert = geo.Path("perturbations", shown, (0, 1), "random perturbations of points near the hull", connected=False)
    figure = Figure(
        "path_perturbations",
        "Gaussian perturbations (0.15 std) of the 5 codes closest to the hull (x).",
        "trajectories",
        lambda: trajectory_figure(
            encoded.latents,
            encoded.factors["rho"],
            "rho",
            pert,
            decoded[: encoded.n_strip],
            near_f,
            real[: encoded.n_strip],
            anchors,
        ),
        wide=True,
    )
    return metrics, figure


def _near_data(encoded: EncodedRun) -> dict[str, Any]:
    """The control of claim 5, the project's: codes near the data (test codes moved by half their
    nearest-neighbour distance, kept inside the hull: ``geometry.near_data_perturbations``) decoded,
    against the decodes of the very codes they were moved from; like for like, so that neither the
    ellipses' shapes nor the data's edge (where the realism's fit is not exact) weigh on one side."""
    n_points, move = encoded.instrument("control_points"), encoded.instrument("control_move")
    anchors, moved = geo.near_data_perturbations(encoded.latents, encoded.test_idx, n_points, move, encoded.seed)
    if not len(anchors):
        return not_applicable("no move of a code stays inside the codes' hull")
    moved_real = realism_of(encoded, encoded.decode(moved))[0]
    anchor_real = realism_of(encoded, encoded.decode(encoded.latents[anchors]))[0]
    return {
        "realism_mean": float(moved_real.mean()),
        "anchor_realism_mean": float(anchor_real.mean()),
        "n": len(anchors),
    }


def trajectories(encoded: EncodedRun) -> StepResult:
    paths, info = study_paths(encoded.latents, encoded.factors, encoded.n_path)
    out: dict[str, Any] = {"rho_axis": info["rho_axis"]}
    figures: list[Figure] = []
    for p in paths:
        done = _decoded_path(encoded, p)
        out[p.name] = done["metrics"]
        figures.append(
            Figure(
                f"path_{p.name}",
                f"{p.description}. Below each decoded image: realism (distance to the exact heatmap of the factors "
                "fitted to it) "
                "and the factors of the nearest data point.",
                "trajectories",
                lambda s=done["strip"], q=p: trajectory_figure(encoded.latents, encoded.factors["rho"], "rho", q, *s),
                overview=p.name in ("isovariance_spline", "empty_between_tails"),
                wide=True,
            )
        )
    flat = "plane paths are drawn for 3-D latent spaces only"
    named = ("study_plane_top", "study_plane_bottom", "study_plane_top_var_x", "axis_rho", "axis_var_diff")
    for name in ("bounding_plane_0", "bounding_plane_1", *named):
        if name not in out:
            out[name] = not_applicable(info.get("study_planes_missing", flat) if name in named else flat)
    if "circle" not in out:
        out["circle"] = not_applicable("the angular path needs two latent axes besides the one tracking rho")
    if "study_axes" in info:
        out["study_axes"], out["study_bounds"] = info["study_axes"], info["study_bounds"]
        tail = encoded.instrument("tail_quantile")
        out["statements"] = study_statements(encoded.latents, encoded.factors, info["study_axes"], tail)
    else:
        out["statements"] = not_applicable("the study's axes are named in a 3-D latent space only")
    out["kink"] = kink(
        encoded.latents,
        encoded.factors,
        encoded.decode,
        encoded.run.datamodule.render,
        encoded.seed,
        encoded.instrument("kink_step"),
        encoded.instrument("kink_sample"),
    )
    out["perturbations"], figure = _perturbations(encoded)
    out["near_data"] = _near_data(encoded)
    figures.append(figure)
    figures.append(
        Figure(
            "latent_3d",
            "Interactive: drag to rotate; the menu picks the colouring factor; the lines are the decoded paths.",
            "trajectories",
            lambda: latent_3d(
                encoded.latents,
                encoded.declaration.colour_by(encoded.factors),
                paths,
                f"{encoded.name}: latent space and decoded paths",
            ),
            overview=True,
            wide=True,
        )
    )
    return StepResult(out, figures)


def realism(encoded: EncodedRun) -> StepResult:
    rng = np.random.default_rng(encoded.seed)
    recons = decoded_realism(encoded, encoded.test_reconstruction.recons)
    out: dict[str, Any] = {"reconstructions": recons}
    empty = encoded.density.empty
    if len(empty):
        pick = empty[rng.choice(len(empty), min(encoded.instrument("empty_points"), len(empty)), replace=False)]
        out["empty_regions"] = decoded_realism(encoded, encoded.decode(pick), recons)
    else:
        out["empty_regions"] = not_applicable("no probe of the bounding box is far from every code")
    if isinstance(encoded.run.model, VAE):  # a VAE's prior is N(0, I)
        prior = rng.normal(size=(encoded.instrument("prior_samples"), encoded.latents.shape[1]))
        out["prior_source"] = "N(0, I)"
    else:
        size = encoded.instrument("prior_samples")
        prior = rng.multivariate_normal(encoded.latents.mean(0), np.cov(encoded.latents.T), size=size)
        out["prior_source"] = "Gaussian fitted to the codes (the AE has no prior)"
    out["prior_samples"] = decoded_realism(encoded, encoded.decode(prior), recons)
    return StepResult(out)


def not_heatmaps(encoded: EncodedRun) -> str | None:
    """Why a step of the heatmap study does not apply to a run: its dataset lacks the heatmaps' factors."""
    missing = [k for k in CONTINUOUS if k not in encoded.declaration.names]
    if not missing:
        return None
    return f"a step of the heatmap study: {encoded.run.datamodule.name} has no factor {', '.join(missing)}"


def df_classifier(encoded: EncodedRun) -> StepResult:
    """df read from the code, against df read from the true (var_x, var_y, rho): the heatmaps' df
    rule depends on var_x + var_y, so the other factors alone decide most images (SPEC.md)."""
    tr, te = encoded.train_idx, encoded.test_idx
    factors = np.column_stack([encoded.factors[k] for k in FACTOR_NAMES])
    df = encoded.factors["df"]
    return StepResult(
        knn_against_reference(
            (encoded.latents[tr], factors[tr], df[tr]),
            (encoded.latents[te], factors[te], df[te]),
            confident=encoded.instrument("confident"),
            seed=encoded.seed,
        )
    )


# what the trajectories step writes for a study's claims to read (study/paths.py names the paths;
# ``*`` is a factor): each decoded path's fitted factors, monotonicity, gaps and realism
DECODED_PATHS = (
    "axis_rho",
    "axis_var_diff",
    "line_0_2",
    "line_0_1",
    "circle",
    "isovariance_spline",
    "bounding_plane_0",
    "bounding_plane_1",
    "study_plane_top",
    "study_plane_bottom",
    "study_plane_top_var_x",
    "empty_between_tails",
)
PATH_METRICS = (
    "realism_mean",
    "max_gap",
    "max_gap_share",
    "monotone_variance",
    "fitted_rho_std",
    "fitted_var_gap",
    "monotone.*",
    "fitted_mean.*",
    "fitted_std.*",
    "fitted_range.*",
)
TRAJECTORY_OUTPUTS = (
    *(f"{path}.{metric}" for path in DECODED_PATHS for metric in PATH_METRICS),
    "perturbations.realism_mean",
    "perturbations.nearest_distance",
    "near_data.realism_mean",
    "near_data.anchor_realism_mean",
    "statements.*",
    "kink.*",
)
REALISM_OUTPUTS = tuple(
    f"{where}.{m}" for where in ("reconstructions", "empty_regions", "prior_samples") for m in ("mean", "bounded_mean")
)

STEPS: tuple[Step, ...] = (
    *(step for step in STANDARD_STEPS if step is not ROUND_TRIP),  # the round trip after the realism
    Step(
        "trajectories",
        "Decoded trajectories",
        trajectories,
        rows(
            ("isovariance_spline.monotone.rho", "isovariance spline: |Spearman| step vs fitted rho"),
            ("bounding_plane_0.monotone_variance", "hull plane 0: |Spearman| step vs fitted variance"),
            ("bounding_plane_0.fitted_rho_std", "hull plane 0: std of fitted rho"),
            ("bounding_plane_1.monotone_variance", "hull plane 1: |Spearman| step vs fitted variance"),
            ("bounding_plane_1.fitted_rho_std", "hull plane 1: std of fitted rho"),
            ("study_plane_top.monotone.var_y", "study reading, top plane: |Spearman| step vs fitted var_y"),
            ("study_plane_top.fitted_std.rho", "study reading, top plane: std of fitted rho"),
            ("study_plane_top.fitted_std.var_x", "study reading, top plane: std of fitted var_x"),
            ("study_plane_top_var_x.fitted_std.var_x", "top plane, holding var_x: std of fitted var_x"),
            ("study_plane_top_var_x.monotone.var_y", "top plane, holding var_x: |Spearman| step vs fitted var_y"),
            ("study_plane_bottom.monotone.var_y", "study reading, bottom plane: |Spearman| step vs fitted var_y"),
            ("study_plane_bottom.fitted_std.rho", "study reading, bottom plane: std of fitted rho"),
            ("study_plane_bottom.fitted_mean.rho", "study reading, bottom plane: mean fitted rho"),
            ("empty_between_tails.realism_mean", "path between tails: realism"),
            ("empty_between_tails.max_gap", "path between tails: largest gap to a code"),
            ("perturbations.realism_mean", "control as the study has it: codes perturbed near the hull, realism"),
            ("near_data.realism_mean", "the control: test codes moved half their nearest-code distance, realism"),
            ("near_data.anchor_realism_mean", "the control: the same test codes unmoved, realism"),
            ("statements.z_rho_spearman", "study axes: |Spearman| of the height on z with rho"),
            ("axis_rho.monotone.rho", "line along the rho axis: |Spearman| step vs fitted rho"),
            (
                "axis_var_diff.monotone.var_diff",
                "line along the var_x − var_y axis: |Spearman| step vs fitted difference",
            ),
            ("circle.fitted_std.rho", "angular path (circle off the rho axis): std of fitted rho"),
            ("statements.tails_exterior_ratio", "large |var_x − var_y|: relative distance from the centre"),
            ("kink.ratio", "kink: image change with rho where a variance is largest over elsewhere"),
            ("kink.data_ratio", "kink: the same of the exact images"),
        ),
        not_applicable=not_heatmaps,
        outputs=TRAJECTORY_OUTPUTS,
    ),
    Step(
        "realism",
        "Decoded realism (distance to the exact heatmap of the fitted factors; 0 = a perfect ellipse)",
        realism,
        rows(
            ("reconstructions.mean", "test reconstructions"),
            ("empty_regions.mean", "empty regions"),
            ("prior_samples.mean", "prior samples"),
            ("reconstructions.bounded_mean", "test reconstructions, fitted factors kept in the data range"),
            ("empty_regions.bounded_excess", "empty regions, in the data range, minus the reconstructions"),
            ("prior_samples.bounded_excess", "prior samples, in the data range, minus the reconstructions"),
            ("empty_regions.in_range_share", "empty regions: share fitted inside the data range"),
            ("empty_regions.nearest_image_mean", "empty regions: distance to the nearest data image"),
            ("prior_samples.nearest_image_mean", "prior samples: distance to the nearest data image"),
        ),
        not_applicable=not_heatmaps,
        outputs=REALISM_OUTPUTS,
    ),
    ROUND_TRIP,
    Step(
        "df_classifier",
        "k-NN classifier of df from the code (test split)",
        df_classifier,
        rows(
            ("accuracy", "accuracy"),
            ("f1_macro", "F1 (macro)"),
            ("majority_baseline", "majority baseline"),
            ("k", "k (by CV)"),
            ("factors.accuracy", "accuracy from the true var_x, var_y, rho (no code)"),
            ("ambiguous.share", "share of test images the factors leave ambiguous (vote < 0.8)"),
            ("ambiguous.accuracy", "accuracy on the ambiguous images, from the code"),
            ("ambiguous.factors_accuracy", "accuracy on the ambiguous images, from the factors"),
        ),
        not_applicable=lambda encoded: (
            None if "df" in encoded.declaration.names else f"{encoded.run.datamodule.name} has no df factor"
        ),
    ),
)
