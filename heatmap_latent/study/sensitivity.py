"""How much each verdict rests on the numbers chosen for it: every claim and comparison evaluated
again with every threshold of ``analyze.yaml``'s ``claims`` halved and doubled, and with every
minimum effect halved and doubled."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from heatmap_latent.analysis.grouping import Group
from heatmap_latent.study.claims import study_claims
from heatmap_latent.study.verdicts import evaluate_by_condition

# the variants: (factor on every threshold, factor on every minimum effect)
VARIANTS: dict[str, tuple[float, float]] = {
    "thresholds x 0.5": (0.5, 1.0),
    "thresholds x 2": (2.0, 1.0),
    "minimum effects x 0.5": (1.0, 0.5),
    "minimum effects x 2": (1.0, 2.0),
}
NOT_SCALED = ("min_seeds",)  # a count of seeds is no threshold


def scaled(cfg: Any, thresholds: float, effects: float) -> DictConfig:
    """``cfg`` (the ``claims`` section) with every numeric threshold times ``thresholds`` and every
    minimum effect times ``effects``."""
    out = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    for key, value in out.items():
        if key == "min_effect":
            for effect in value.values():
                effect.value = float(effect.value) * effects
        elif key not in NOT_SCALED and isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value) * thresholds
    return out


def sensitivity(
    cfg: Any, groups: list[Group], metrics: dict[str, dict[str, Any]], min_seeds: int, base: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """For each claim of ``base`` (``evaluate_by_condition``'s result on ``cfg``): its verdict and each
    comparison's under every variant, and whether any variant changes them."""
    variants = {
        name: evaluate_by_condition(study_claims(scaled(cfg, t, e)), groups, metrics, min_seeds)
        for name, (t, e) in VARIANTS.items()
    }
    rows = []
    for i, claim in enumerate(base):
        comparisons = [
            {
                "label": comp["label"],
                "scope": comp["scope"],
                "verdict": comp["verdict"],
                "variants": {name: v[i]["comparisons"][j]["verdict"] for name, v in variants.items()},
            }
            for j, comp in enumerate(claim["comparisons"])
        ]
        verdicts = {name: v[i]["verdict"] for name, v in variants.items()}
        rows.append(
            {
                "id": claim["id"],
                "reading": claim["reading"],
                "condition": claim["condition"],
                "verdict": claim["verdict"],
                "variants": verdicts,
                "stable": all(v == claim["verdict"] for v in verdicts.values()),
                "comparisons": comparisons,
                "n_comparisons_changed": sum(
                    any(v != c["verdict"] for v in c["variants"].values()) for c in comparisons
                ),
            }
        )
    return rows
