"""A placebo study: each model's seeds split in two halves, one half analysed as the VAE's role and the
other as the AE's (the VAE against the VAE as if it were the AE), so every comparison between the
two roles has a true effect of zero. How often the verdict rule still calls such a comparison
"holds" or "refuted" is its false-positive rate on this sweep (``analyze.py placebo=true``).

Only the comparisons that claim the roles differ (``<`` or ``>`` between them: claims 1, 2, 4, 5) are
placebos. One role against a threshold is no placebo (its true effect is not zero), and a claim that
the roles are alike (claim 8's ``>=`` seed-to-seed minus a tolerance, an equivalence ``~=``) should
hold on a placebo: those are reported apart, as how often the rule affirms a true likeness. Claim 8's
shape measures are computed again between the two halves."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from heatmap_latent.analysis.grouping import Group
from heatmap_latent.study.claims import study_claims
from heatmap_latent.study.shape import PAIRED, shape_metrics
from heatmap_latent.study.verdicts import HOLDS, REFUTED, evaluate_by_condition

DIRECTIONAL = (HOLDS, REFUTED)  # a verdict that claims a direction: on a placebo, a false positive
DIFFERENCE = ("<", ">")  # the relations of a claimed difference between the roles


def halves(group: Group) -> tuple[Group, Group] | None:
    """``group``'s first half of seeds (sorted) as the VAE's role and its second half as the AE's,
    the second half's runs paired with the first half's seeds in order; None under 2 seeds."""
    ordered = sorted(zip(group.seeds, group.runs))
    k = len(ordered) // 2
    if k < 1:
        return None
    first, second = ordered[:k], ordered[k : 2 * k]
    seeds = [s for s, _ in first]
    label = f"{group.label} seeds {{}} as {{}}"
    as_vae = replace(group, model=PAIRED[0], runs=[r for _, r in first], seeds=seeds, metrics={})
    as_ae = replace(group, model=PAIRED[1], runs=[r for _, r in second], seeds=seeds, metrics={})
    as_vae.label = label.format(",".join(map(str, seeds)), "the VAE")
    as_ae.label = label.format(",".join(str(s) for s, _ in second), "the AE")
    return as_vae, as_ae


def _two_roles(comparison: dict[str, Any]) -> bool:
    """A comparison between the VAE's and the AE's role."""
    return set(PAIRED) <= {role.split("@")[0] for role in comparison["roles"]}


def _differs(comparison: dict[str, Any]) -> bool:
    """A comparison claiming the two roles differ: on a placebo its true effect is zero."""
    return _two_roles(comparison) and comparison["relation"] in DIFFERENCE


def placebo(
    claims_cfg: Any,
    groups: list[Group],
    metrics: dict[str, dict[str, Any]],
    codes: dict[str, np.ndarray],
    min_seeds: int,
    udr: dict[str, Any] | None = None,
    knn_k: int | None = None,
) -> dict[str, Any]:
    """For each of the study's models: its groups split into halves, every claim evaluated with one
    half as each role; the verdicts of the comparisons that claim the roles differ, counted."""
    arrangements = []
    for model in PAIRED:
        split = [h for g in groups if g.model == model for h in (halves(g) or ())]
        if not split:
            continue
        runs = {name: copy.deepcopy(metrics[name]) for g in split for name in g.runs}
        for name, shape in shape_metrics(split, codes, runs, udr, knn_k).items():
            runs[name]["shape"] = shape
        evaluated = evaluate_by_condition(study_claims(claims_cfg), split, runs, min_seeds)
        compared = [c for claim in evaluated for c in claim["comparisons"] if _differs(c)]
        alike = [c for claim in evaluated for c in claim["comparisons"] if _two_roles(c) and not _differs(c)]
        verdicts = Counter(c["verdict"] for c in compared)
        arrangements.append(
            {
                "model": model,
                "groups": [{"label": g.label, "runs": g.runs, "seeds": g.seeds} for g in split],
                "n_comparisons": len(compared),
                "verdicts": dict(verdicts),
                "false_positives": [c["label"] for c in compared if c["verdict"] in DIRECTIONAL],
                # likeness claimed between the roles (claim 8, equivalences): true on a placebo
                "alike": {c["label"]: c["verdict"] for c in alike},
                "claims": {f"{c['id']} ({c['condition']})": c["verdict"] for c in evaluated},
            }
        )
    n = sum(a["n_comparisons"] for a in arrangements)
    decided = sum(sum(a["verdicts"].get(v, 0) for v in DIRECTIONAL) for a in arrangements)
    measured = sum(
        a["n_comparisons"] - a["verdicts"].get("not measured", 0) - a["verdicts"].get("too few seeds", 0)
        for a in arrangements
    )
    return {
        "arrangements": arrangements,
        "n_comparisons": n,
        "n_measured": measured,
        "n_false_positive": decided,
        # the share of measured placebo comparisons the rule calls one way or the other (true effect zero)
        "false_positive_rate": decided / measured if measured else None,
        "note": None if arrangements else "no group of the VAE or the AE has 2 seeds to split",
    }
