"""The parts the study's claims are built of: the thresholds of ``conf/analyze.yaml``'s ``claims``
section (``Rules``), and the comparisons several claims share (a model's metric against a threshold,
the AE against the VAE, a path that stays on the codes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heatmap_latent.analysis.grouping import Role
from heatmap_latent.data.heatmaps import FACTOR_NAMES
from heatmap_latent.study.scope import DATASETS
from heatmap_latent.study.verdicts import Comparison, MinEffect, Term, combine, constant, metric

MODELS = ("vae", "ae")
VAE_GAUSSIAN = (Role("vae", "gaussian"),)
GAUSSIAN = (Role("vae", "gaussian"), Role("ae", "gaussian"))


@dataclass(frozen=True)
class Rules:
    """The ``claims`` section's thresholds and minimum effects, as numbers."""

    mono: float  # monotone_min_spearman
    rho_std: float  # constant_rho_max_std
    var_std: float  # constant_var_max_std
    rho_range: float  # spline_min_rho_range
    var_gap: float  # spline_max_var_gap
    gap_share: float  # path_max_gap_share
    realism_ratio: float  # path_max_realism_ratio
    cca_tol: float  # shape_cca_tolerance
    knn_tol: float  # shape_knn_tolerance
    df_tol: float  # df_tolerance
    effect: dict[str, MinEffect]  # min_effect, by the kind of measure

    @classmethod
    def from_config(cls, cfg: Any) -> Rules:
        return cls(
            mono=float(cfg.monotone_min_spearman),
            rho_std=float(cfg.constant_rho_max_std),
            var_std=float(cfg.constant_var_max_std),
            rho_range=float(cfg.spline_min_rho_range),
            var_gap=float(cfg.spline_max_var_gap),
            gap_share=float(cfg.path_max_gap_share),
            realism_ratio=float(cfg.path_max_realism_ratio),
            cca_tol=float(cfg.shape_cca_tolerance),
            knn_tol=float(cfg.shape_knn_tolerance),
            df_tol=float(cfg.df_tolerance),
            effect={name: MinEffect(float(e.value), str(e.unit), str(e.why)) for name, e in cfg.min_effect.items()},
        )


def every_role(build: Callable[[Role], tuple[Comparison, ...]]) -> tuple[Comparison, ...]:
    """``build``'s comparisons for each model on each dataset, in that order."""
    return tuple(c for m in MODELS for d in DATASETS for c in build(Role(m, d)))


def ae_vs_vae(
    r: Rules, data: str, key: str, relation: str, what: str, measure: str, not_judged: str | None = None
) -> Comparison:
    return Comparison(
        f"{data}: {what}, AE {relation} VAE",
        metric(Role("ae", data), key, f"AE {what}"),
        relation,
        metric(Role("vae", data), key, f"VAE {what}"),
        r.effect[measure],
        not_judged=not_judged,
    )


def ae_above_vae(r: Rules, *measures: tuple[str, ...]) -> tuple[Comparison, ...]:
    """AE > VAE in each ``(metric key, what, measure)`` on both datasets; a fourth item: why it is not
    judged (``Comparison.not_judged``)."""
    return tuple(
        ae_vs_vae(r, d, key, ">", what, measure, *rest) for d in DATASETS for key, what, measure, *rest in measures
    )


def against(
    r: Rules,
    relation: str,
    role: Role,
    what: str,
    key: str,
    label: str,
    value: float,
    measure: str,
    named: str = "threshold",
    not_judged: str | None = None,
) -> Comparison:
    """A run's metric against a constant: a threshold from the config, or a ``named`` value (zero, one)."""
    where = f"{role.model} on {role.data}: {what}"
    return Comparison(
        where, metric(role, key, label), relation, constant(value, named), r.effect[measure], not_judged=not_judged
    )


def at_least(
    r: Rules, role: Role, what: str, key: str, label: str, value: float, measure: str, not_judged: str | None = None
) -> Comparison:
    return against(r, ">=", role, what, key, label, value, measure, not_judged=not_judged)


def at_most(r: Rules, role: Role, what: str, key: str, label: str, value: float, measure: str) -> Comparison:
    return against(r, "<=", role, what, key, label, value, measure)


def realism_bar(r: Rules, role: Role) -> Term:
    """``realism_ratio`` times the model's realism on its test reconstructions (its own blur)."""
    return combine(
        f"{r.realism_ratio} x realism of test reconstructions",
        lambda x: r.realism_ratio * x,
        metric(role, "realism.reconstructions.mean"),
    )


def excess(role: Role, key: str, label: str) -> Term:
    """A decoded realism of ``role`` minus its realism on its test reconstructions (bounded like
    ``key`` when ``key`` is a bounded one)."""
    reference = "realism.reconstructions." + ("bounded_mean" if key.endswith("bounded_mean") else "mean")
    return combine(label, lambda a, b: a - b, metric(role, key), metric(role, reference))


def best_other(role: Role, pattern: str, what: str) -> Term:
    """The best of var_x's and var_y's ``pattern`` metric (rho's rivals)."""
    others = [metric(role, pattern.format(f)) for f in FACTOR_NAMES if f != "rho"]
    return combine(f"best of var_x, var_y: {what}", max, *others)


def monotone_at_fixed_rho(r: Rules, role: Role, what: str, path: str, key: str, factor: str) -> tuple[Comparison, ...]:
    """Along ``trajectories.<path>``: ``key`` (a |Spearman|) monotone, and fitted rho nearly constant."""
    return (
        at_least(
            r,
            role,
            f"{what}, {factor} monotone",
            f"trajectories.{path}.{key}",
            f"|Spearman| step vs {factor}",
            r.mono,
            "spearman",
        ),
        at_most(
            r,
            role,
            f"{what}, rho nearly constant",
            f"trajectories.{path}.fitted_std.rho",
            "std of fitted rho",
            r.rho_std,
            "rho_std",
        ),
    )


def spline(r: Rules, role: Role) -> tuple[Comparison, ...]:
    """The isovariance spline: rho monotone along it, over most of rho's range, at var_x ≈ var_y."""
    key = "trajectories.isovariance_spline"
    return (
        at_least(
            r,
            role,
            "isovariance spline, rho monotone",
            f"{key}.monotone.rho",
            "|Spearman| step vs rho",
            r.mono,
            "spearman",
        ),
        at_least(
            r,
            role,
            "isovariance spline, spans rho",
            f"{key}.fitted_range.rho",
            "range of fitted rho",
            r.rho_range,
            "rho_range",
        ),
        at_most(
            r,
            role,
            "isovariance spline, var_x ≈ var_y",
            f"{key}.fitted_var_gap",
            "mean |var_x − var_y|",
            r.var_gap,
            "var_gap",
        ),
    )


def on_the_codes(r: Rules, role: Role, what: str, path: str) -> tuple[Comparison, ...]:
    """A plane path stays on the codes: its largest gap to a code, and its realism against the
    model's own reconstructions."""
    return (
        at_most(
            r,
            role,
            f"{what}, on the codes",
            f"trajectories.{path}.max_gap_share",
            "largest gap / spread",
            r.gap_share,
            "gap_share",
        ),
        Comparison(
            f"{role.model} on {role.data}: {what}, decodes as well as {r.realism_ratio}x the reconstructions",
            metric(role, f"trajectories.{path}.realism_mean", "realism along the path"),
            "<=",
            realism_bar(r, role),
            r.effect["realism"],
        ),
    )
