"""How much each verdict rests on the numbers chosen for it: every claim and comparison evaluated
again with one threshold of ``analyze.yaml``'s ``claims`` at a time halved and doubled (within its
valid range: a |Spearman| bar stays at most 1), and with every minimum effect halved and doubled."""

from __future__ import annotations

import math
from typing import Any

from omegaconf import DictConfig, OmegaConf

from heatmap_latent.analysis.grouping import Group
from heatmap_latent.study.claims import study_claims
from heatmap_latent.study.verdicts import evaluate_by_condition

FACTORS = (0.5, 2.0)  # each threshold, and the minimum effects together, halved and doubled
NOT_SCALED = ("min_seeds",)  # a count of seeds is no threshold
# the thresholds with a bound beside 0 and infinity: a |Spearman| of at least 1.8 would be no bar at all
VALID = {"monotone_min_spearman": (0.0, 1.0)}


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


def thresholds(cfg: Any) -> list[str]:
    """The numeric thresholds of ``cfg`` (the ``claims`` section), in its order."""
    return [
        k
        for k, v in cfg.items()
        if k not in NOT_SCALED and k != "min_effect" and isinstance(v, int | float) and not isinstance(v, bool)
    ]


def variants(cfg: Any) -> dict[str, DictConfig]:
    """Name -> ``cfg`` with one change: each threshold alone halved and doubled (clipped to its valid
    range; a change the range leaves at the chosen value is no variant), then every minimum effect
    halved and doubled. A threshold's variant is named by the value it takes."""
    out: dict[str, DictConfig] = {}
    for key in thresholds(cfg):
        low, high = VALID.get(key, (0.0, math.inf))
        for factor in FACTORS:
            value = min(max(float(cfg[key]) * factor, low), high)
            if value != float(cfg[key]):
                moved = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
                moved[key] = value
                out[f"{key} {value:g}"] = moved
    for factor in FACTORS:
        out[f"minimum effects x {factor:g}"] = scaled(cfg, 1.0, factor)
    return out


def sensitivity(
    cfg: Any, groups: list[Group], metrics: dict[str, dict[str, Any]], min_seeds: int, base: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """For each claim of ``base`` (``evaluate_by_condition``'s result on ``cfg``): its verdict and each
    comparison's under every variant, and whether any variant changes them."""
    evaluated = {
        name: evaluate_by_condition(study_claims(moved), groups, metrics, min_seeds)
        for name, moved in variants(cfg).items()
    }
    rows = []
    for i, claim in enumerate(base):
        comparisons = [
            {
                "label": comp["label"],
                "scope": comp["scope"],
                "verdict": comp["verdict"],
                "variants": {name: v[i]["comparisons"][j]["verdict"] for name, v in evaluated.items()},
            }
            for j, comp in enumerate(claim["comparisons"])
        ]
        verdicts = {name: v[i]["verdict"] for name, v in evaluated.items()}
        rows.append(
            {
                "id": claim["id"],
                "reading": claim["reading"],
                "condition": claim["condition"],
                "verdict": claim["verdict"],
                "variants": verdicts,
                "stable": all(v == claim["verdict"] for v in verdicts.values()),
                "moved_by": [name for name, v in verdicts.items() if v != claim["verdict"]],
                "comparisons": comparisons,
                "n_comparisons_changed": sum(
                    any(v != c["verdict"] for v in c["variants"].values()) for c in comparisons
                ),
            }
        )
    return rows
