"""The study's findings as claims: each a set of comparisons, judged by ``study.verdicts``' rule;
thresholds from ``conf/analyze.yaml``'s ``claims`` section, frozen for the confirmatory run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from omegaconf import OmegaConf

from heatmap_latent.analysis.grouping import Role
from heatmap_latent.analysis.step import UndeclaredMetric, check_declared
from heatmap_latent.data.heatmaps import FACTOR_NAMES
from heatmap_latent.study.shape import SHAPE_STEP
from heatmap_latent.study.steps import STEPS
from heatmap_latent.study.verdicts import EQUIVALENT, Claim, Comparison, MinEffect, Term, combine, constant, metric

# the digest of conf/analyze.yaml's claims section frozen for the confirmatory run on seeds 6-10
# (docs/analysis.md, "Confirmatory run"): a change of any threshold or minimum effect changes it
FROZEN_RULES = "23e4bea3e4b127ed"


def rules_digest(cfg: Any) -> str:
    """A short digest of the ``claims`` settings (thresholds, minimum effects, min_seeds)."""
    settings = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def study_claims(cfg: Any) -> list[Claim]:
    """The study's eight claims (claim 6 in two readings) and its untested statements (claim 9);
    thresholds from ``analyze.yaml``'s ``claims`` section (``cfg``)."""
    datasets = ("gaussian", "student_t")
    models = ("vae", "ae")
    mono, rho_std = float(cfg.monotone_min_spearman), float(cfg.constant_rho_max_std)
    var_std = float(cfg.constant_var_max_std)
    rho_range, var_gap = float(cfg.spline_min_rho_range), float(cfg.spline_max_var_gap)
    gap_share, realism_ratio = float(cfg.path_max_gap_share), float(cfg.path_max_realism_ratio)
    vae_gaussian, gaussian = (Role("vae", "gaussian"),), (Role("vae", "gaussian"), Role("ae", "gaussian"))
    cca_tol, knn_tol = float(cfg.shape_cca_tolerance), float(cfg.shape_knn_tolerance)
    tol = float(cfg.df_tolerance)
    effect = {name: MinEffect(float(e.value), str(e.unit), str(e.why)) for name, e in cfg.min_effect.items()}

    def ae_vs_vae(data: str, key: str, relation: str, what: str, measure: str) -> Comparison:
        return Comparison(
            f"{data}: {what}, AE {relation} VAE",
            metric(Role("ae", data), key, f"AE {what}"),
            relation,
            metric(Role("vae", data), key, f"VAE {what}"),
            effect[measure],
        )

    def ae_above_vae(*measures: tuple[str, str, str]) -> tuple[Comparison, ...]:
        """AE > VAE in each ``(metric key, what, measure)`` on both datasets."""
        return tuple(ae_vs_vae(d, key, ">", what, measure) for d in datasets for key, what, measure in measures)

    def against(relation: str) -> Callable[..., Comparison]:
        """A run's metric against a threshold from the config."""

        def compare(role: Role, what: str, key: str, label: str, value: float, measure: str) -> Comparison:
            where = f"{role.model} on {role.data}: {what}"
            return Comparison(where, metric(role, key, label), relation, constant(value, "threshold"), effect[measure])

        return compare

    at_least, at_most = against(">="), against("<=")

    def monotone_at_fixed_rho(role: Role, what: str, path: str, key: str, factor: str) -> tuple[Comparison, ...]:
        """Along ``trajectories.<path>``: ``key`` (a |Spearman|) monotone, and fitted rho nearly constant."""
        return (
            at_least(
                role,
                f"{what}, {factor} monotone",
                f"trajectories.{path}.{key}",
                f"|Spearman| step vs {factor}",
                mono,
                "spearman",
            ),
            at_most(
                role,
                f"{what}, rho nearly constant",
                f"trajectories.{path}.fitted_std.rho",
                "std of fitted rho",
                rho_std,
                "rho_std",
            ),
        )

    def every_role(build: Callable[[Role], tuple[Comparison, ...]]) -> tuple[Comparison, ...]:
        """``build``'s comparisons for each model on each dataset, in that order."""
        return tuple(c for m in models for d in datasets for c in build(Role(m, d)))

    def spline(role: Role) -> tuple[Comparison, ...]:
        """The isovariance spline: rho monotone along it, over most of rho's range, at var_x ≈ var_y."""
        key = "trajectories.isovariance_spline"
        return (
            at_least(
                role,
                "isovariance spline, rho monotone",
                f"{key}.monotone.rho",
                "|Spearman| step vs rho",
                mono,
                "spearman",
            ),
            at_least(
                role,
                "isovariance spline, spans rho",
                f"{key}.fitted_range.rho",
                "range of fitted rho",
                rho_range,
                "rho_range",
            ),
            at_most(
                role,
                "isovariance spline, var_x ≈ var_y",
                f"{key}.fitted_var_gap",
                "mean |var_x − var_y|",
                var_gap,
                "var_gap",
            ),
        )

    def on_the_codes(role: Role, what: str, path: str) -> tuple[Comparison, ...]:
        """A plane path stays on the codes: its largest gap to a code, and its realism against the
        model's own reconstructions."""
        return (
            at_most(
                role,
                f"{what}, on the codes",
                f"trajectories.{path}.max_gap_share",
                "largest gap / spread",
                gap_share,
                "gap_share",
            ),
            Comparison(
                f"{role.model} on {role.data}: {what}, decodes as well as {realism_ratio}x the reconstructions",
                metric(role, f"trajectories.{path}.realism_mean", "realism along the path"),
                "<=",
                combine(
                    f"{realism_ratio} x realism of test reconstructions",
                    lambda r: realism_ratio * r,
                    metric(role, "realism.reconstructions.mean"),
                ),
                effect["realism"],
            ),
        )

    def excess(role: Role, key: str, label: str) -> Term:
        """A decoded realism of ``role`` minus its realism on its test reconstructions (bounded like
        ``key`` when ``key`` is a bounded one)."""
        reference = "realism.reconstructions." + ("bounded_mean" if key.endswith("bounded_mean") else "mean")
        return combine(label, lambda a, b: a - b, metric(role, key), metric(role, reference))

    def best_other(role: Role, pattern: str, what: str) -> Term:
        others = [metric(role, pattern.format(f)) for f in FACTOR_NAMES if f != "rho"]
        return combine(f"best of var_x, var_y: {what}", max, *others)

    claims = [
        Claim(
            1,
            "On gaussian, the AE reconstructs the test split better on average than the VAE.",
            "Mean Frobenius norm of image − reconstruction over the test split, best checkpoint.",
            (ae_vs_vae("gaussian", "reconstruction.mean", "<", "mean test error", "mean_error"),),
        ),
        Claim(
            2,
            "The AE's error distribution is heavier-tailed than the VAE's.",
            "p99 / median of the per-image test errors, and the share of test errors above 3x the median.",
            ae_above_vae(
                ("reconstruction.tail_ratio", "p99 / median", "tail_ratio"),
                ("reconstruction.tail_share", "share > 3x median", "tail_share"),
            ),
            scope=gaussian,  # the study says it of the AE on the Gaussian heatmaps
        ),
        Claim(
            3,
            "rho is the factor most easily read from the latent space, for both models.",
            "Held-out linear R^2 of each factor from the code, and the best single latent axis's "
            "|Spearman| with each factor (test split): rho's against the best of var_x and var_y.",
            tuple(
                Comparison(
                    f"{m} on {d}: {what} of rho > best other factor",
                    metric(Role(m, d), pattern.format("rho"), f"rho {what}"),
                    ">",
                    best_other(Role(m, d), pattern, what),
                    effect[measure],
                )
                for m in models
                for d in datasets
                for pattern, what, measure in (
                    ("recoverability.{}.linear_r2", "linear R^2", "r2"),
                    ("recoverability.{}.best_axis_spearman", "best axis |Spearman|", "spearman"),
                )
            ),
        ),
        Claim(
            4,
            "The AE's latent space is sparser, with more gaps, than the VAE's.",
            "On whitened codes (unit variance in every direction: no linear map of a code makes or hides "
            "a gap): the share of the codes' convex hull farther than 3x the median nearest-neighbour "
            "distance from every code, and the largest empty ball inside the hull over that distance. "
            "The box's empty share and the median distance are reported, not judged: the first counts "
            "the empty corners of any elongated cloud, the second measures crowding.",
            ae_above_vae(
                ("density.hull.empty_share", "empty share of the hull", "empty_share"),
                ("density.hull.largest_gap", "largest gap in the hull", "largest_gap"),
            ),
        ),
        Claim(
            5,
            "Decoding where there is no data gives less realistic images for the AE than for the VAE.",
            f"Realism (distance to the exact heatmap of the factors fitted to the decoded image, the fitted "
            f"factors kept inside the data's range: outside it nothing is realistic) of decoded empty-region "
            f"points and prior samples (the AE: a Gaussian fitted to its codes), and the realism along the "
            f"straight path between the var_x − var_y tails and the study's 0-2 and 0-1 lines, each minus "
            f"the same model's realism on its test reconstructions (its own blur on the data); larger is less "
            f"realistic. The control: codes perturbed near the hull decode within {realism_ratio}x the "
            f"reconstructions' realism, for both models. The distance to the nearest data image is reported "
            f"beside it.",
            (
                *(
                    Comparison(
                        f"{d}: {what}, AE > VAE",
                        excess(Role("ae", d), key, f"AE {what}"),
                        ">",
                        excess(Role("vae", d), key, f"VAE {what}"),
                        effect["realism"],
                    )
                    for d in datasets
                    for key, what in (
                        ("realism.empty_regions.bounded_mean", "empty regions' realism over the reconstructions'"),
                        ("realism.prior_samples.bounded_mean", "prior samples' realism over the reconstructions'"),
                        (
                            "trajectories.empty_between_tails.realism_mean",
                            "realism between the tails over the reconstructions'",
                        ),
                        ("trajectories.line_0_2.realism_mean", "realism along the 0-2 line over the reconstructions'"),
                        ("trajectories.line_0_1.realism_mean", "realism along the 0-1 line over the reconstructions'"),
                    )
                ),
                *(
                    Comparison(
                        f"{m} on {d}: control, near-hull codes decode within {realism_ratio}x the reconstructions",
                        metric(Role(m, d), "trajectories.perturbations.realism_mean", "realism near the hull"),
                        "<=",
                        combine(
                            f"{realism_ratio} x realism of test reconstructions",
                            lambda r: realism_ratio * r,
                            metric(Role(m, d), "realism.reconstructions.mean"),
                        ),
                        effect["realism"],
                    )
                    for m in models
                    for d in datasets
                ),
            ),
        ),
        Claim(
            6,
            "The study's trajectories are monotone in a factor.",
            f"|Spearman| of path step vs the factor fitted to each decoded image: rho along the "
            f"isovariance spline, the more monotone variance along each of the two largest facets of "
            f"the codes' convex hull (>= {mono}); and the std of fitted rho along each (<= {rho_std}). The spline's "
            f"fitted rho spans >= {rho_range} at mean |var_x − var_y| <= {var_gap}; each plane path's largest gap "
            f"to a code <= {gap_share} of the codes' spread and its realism <= {realism_ratio}x the reconstructions'.",
            every_role(
                lambda r: (
                    *spline(r),
                    *monotone_at_fixed_rho(r, "hull plane 0", "bounding_plane_0", "monotone_variance", "one variance"),
                    *on_the_codes(r, "hull plane 0", "bounding_plane_0"),
                    *monotone_at_fixed_rho(r, "hull plane 1", "bounding_plane_1", "monotone_variance", "one variance"),
                    *on_the_codes(r, "hull plane 1", "bounding_plane_1"),
                )
            ),
            reading="the project's: paths on the two largest facets of the convex hull",
            scope=vae_gaussian,  # the study describes its paths in its VAE section, on the Gaussian heatmaps
        ),
        Claim(
            6,
            "The study's trajectories are monotone in a factor: along the top plane var_x and rho stay "
            "fixed while var_y changes; along the bottom plane var_y changes at a fixed negative rho.",
            f"Axes named as the study does (z tracks rho, x of the other two tracks var_x − var_y, y the "
            f"third, each signed to grow with what it tracks); the planes bounding the codes' y-z "
            f"projection from above and below (quantile regressions of z on y at 0.98 and 0.02), each "
            f"traversed along y at constant x. |Spearman| of step vs fitted var_y >= {mono}; std of "
            f"fitted rho <= {rho_std}; on the top plane std of fitted var_x <= {var_std}; on the bottom "
            f"plane mean fitted rho < 0, on the top plane > 0. The isovariance spline and the paths' gap and "
            f"realism as in the other reading.",
            every_role(
                lambda r: (
                    *spline(r),
                    *monotone_at_fixed_rho(r, "study's top plane", "study_plane_top", "monotone.var_y", "var_y"),
                    *on_the_codes(r, "study's top plane", "study_plane_top"),
                    *monotone_at_fixed_rho(r, "study's bottom plane", "study_plane_bottom", "monotone.var_y", "var_y"),
                    *on_the_codes(r, "study's bottom plane", "study_plane_bottom"),
                    Comparison(
                        f"{r.model} on {r.data}: study's top plane, rho positive",
                        metric(r, "trajectories.study_plane_top.fitted_mean.rho", "mean fitted rho"),
                        ">",
                        constant(0.0, "zero"),
                        effect["rho_mean"],
                    ),
                    at_most(
                        r,
                        "study's top plane, var_x nearly constant",
                        "trajectories.study_plane_top.fitted_std.var_x",
                        "std of fitted var_x",
                        var_std,
                        "var_std",
                    ),
                    Comparison(
                        f"{r.model} on {r.data}: study's bottom plane, rho negative",
                        metric(r, "trajectories.study_plane_bottom.fitted_mean.rho", "mean fitted rho"),
                        "<",
                        constant(0.0, "zero"),
                        effect["rho_mean"],
                    ),
                )
            ),
            reading="the study's: planes bounding the y-z projection from above and below, at constant x",
            study_reading=True,
            scope=vae_gaussian,
        ),
        Claim(
            7,
            "On student_t, both models keep df in the code, alike.",
            f"A k-NN classifier of df (k by 5-fold CV) from the code, against one from the true var_x, "
            f"var_y and rho (the df rule depends on var_x + var_y, so those decide most images): each "
            f"model's test accuracy >= the factors' − {tol}; on the images the factors leave ambiguous (their "
            f"classifier's vote < 0.8) the code's accuracy > the factors' (the code reads df itself, from "
            f"the tails); and VAE − AE accuracy and macro F1 equivalent within ±{tol} (two one-sided t "
            f"tests at 5%). The majority baseline is reported, not judged: the factors alone clear it.",
            (
                *(
                    Comparison(
                        f"student_t: VAE ~= AE {what} (within ±{tol})",
                        metric(Role("vae", "student_t"), f"df_classifier.{key}", f"VAE {what}"),
                        EQUIVALENT,
                        metric(Role("ae", "student_t"), f"df_classifier.{key}", f"AE {what}"),
                        effect["df_score"],
                        margin=tol,
                    )
                    for key, what in (("accuracy", "accuracy"), ("f1_macro", "F1 (macro)"))
                ),
                *(
                    Comparison(
                        f"student_t: {m.upper()} accuracy >= the factors' − {tol}",
                        metric(Role(m, "student_t"), "df_classifier.accuracy", f"{m.upper()} accuracy"),
                        ">=",
                        combine(
                            f"accuracy from var_x, var_y, rho − {tol}",
                            lambda f: f - tol,
                            metric(Role(m, "student_t"), "df_classifier.factors.accuracy"),
                        ),
                        effect["df_score"],
                    )
                    for m in models
                ),
                *(
                    Comparison(
                        f"student_t: {m.upper()} accuracy on the ambiguous images > the factors'",
                        metric(Role(m, "student_t"), "df_classifier.ambiguous.accuracy", f"{m.upper()} accuracy"),
                        ">",
                        metric(Role(m, "student_t"), "df_classifier.ambiguous.factors_accuracy", "from the factors"),
                        effect["df_score"],
                    )
                    for m in models
                ),
            ),
        ),
        Claim(
            8,
            "The VAE's and the AE's manifolds have very similar overall shapes; they differ mainly in density.",
            f"Codes of all images (same seed and data), each whitened (any invertible linear map of a code "
            f"gives the same result): the mean squared canonical correlation and the share of each image's "
            f"10 nearest neighbours both codes agree on, between the VAE and the AE, against the same "
            f"measure between two seeds of one model (mean over the other seeds): the VAE-AE correlation "
            f">= the smaller seed-to-seed one − {cca_tol}, the VAE-AE neighbour share >= the smaller "
            f"seed-to-seed one − {knn_tol}. Linear CKA and Procrustes (rotation and uniform scale only) "
            f"and each code's principal spreads are reported beside them. The density half is claim 4.",
            tuple(
                Comparison(
                    f"{d}: {what}(VAE, AE) >= seed-to-seed {what} − {tolerance}",
                    metric(Role("vae", d), f"shape.vae_ae.{key}", f"{what}(VAE, AE)"),
                    ">=",
                    combine(
                        f"smaller seed-to-seed {what} − {tolerance}",
                        lambda a, b, t=tolerance: min(a, b) - t,
                        metric(Role("vae", d), f"shape.seed_to_seed.{key}"),
                        metric(Role("ae", d), f"shape.seed_to_seed.{key}"),
                    ),
                    effect[key],
                )
                for d in datasets
                for key, what, tolerance in (("cca", "CCA", cca_tol), ("knn", "kNN overlap", knn_tol))
            ),
        ),
        Claim(
            9,
            "Where the study places images: a code's height on z follows rho, a north-south path spans "
            "the available rho, and heatmaps with large |var_x − var_y| lie at the sides, towards the exterior.",
            f"On the study's named axes (z tracks rho, x var_x − var_y, y the third): |Spearman| of z with "
            f"rho >= {mono}; the range of fitted rho along the isovariance spline (the path along z) >= "
            f"{rho_range}; the mean distance from the centre of the x-y plane of the images with the top "
            f"tenth of |var_x − var_y| over that of all images > 1.",
            every_role(
                lambda r: (
                    at_least(
                        r,
                        "height on z follows rho",
                        "trajectories.statements.z_rho_spearman",
                        "|Spearman| z vs rho",
                        mono,
                        "spearman",
                    ),
                    at_least(
                        r,
                        "a north-south path spans rho",
                        "trajectories.isovariance_spline.fitted_range.rho",
                        "range of fitted rho",
                        rho_range,
                        "rho_range",
                    ),
                    Comparison(
                        f"{r.model} on {r.data}: large |var_x − var_y| towards the exterior",
                        metric(r, "trajectories.statements.tails_exterior_ratio", "distance ratio of the tails"),
                        ">",
                        constant(1.0, "one"),
                        effect["exterior_ratio"],
                    ),
                )
            ),
            scope=vae_gaussian,  # the study says these in its VAE section, of the Gaussian heatmaps
        ),
    ]
    check_inputs(claims)
    return claims


def check_inputs(claims: list[Claim]) -> None:
    """Every metric the claims read is one that a step declares (``Step.declared``): a typo or a
    renamed output fails where the claims are declared, not as "not measured" in a report."""
    steps = (*STEPS, SHAPE_STEP)
    for claim in claims:
        for comparison in claim.comparisons:
            for term in (comparison.left, comparison.right):
                for key in term.keys:
                    try:
                        check_declared(steps, key)
                    except UndeclaredMetric as err:
                        raise UndeclaredMetric(f"claim {claim.id} ({comparison.label}): {err}") from None
