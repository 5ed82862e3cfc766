"""A dose-response of the study's instruments: where a sweep's VAE groups differ in one numeric
override (``model.beta``) and an AE group on the same data has none, each AE-vs-VAE effect of
claims 4 and 5 is measured at every dose against the same AE runs (paired by seed), and its slope on
log10(dose) over seeds decides whether the instrument moves the way it must; claim 8's shortfall of
the VAE-AE canonical correlation below the AE's seed-to-seed one too (``study/shape.py`` pairs each
dose's VAE with the AE of its seed).

As beta falls to 0 the KL term vanishes and the VAE becomes a noisy AE, so an effect the study
claims for the AE over the VAE must shrink: its slope on log10(beta) is positive. An instrument
passes when the 95% t interval of the per-seed slopes lies above 0 (``passes``), or else when at the
lowest dose the VAE is equivalent to the AE (two one-sided tests: the effect's 90% t interval inside
± the measure's minimum effect, ``conf/analyze.yaml`` ``claims.min_effect``: ``passes by
equivalence``); it fails when the slopes' interval lies below 0 (``fails``), and is ``inconclusive``
otherwise; with fewer than ``min_seeds`` seeds it has ``too few seeds``."""

from __future__ import annotations

from typing import Any

import numpy as np

from heatmap_latent.analysis.grouping import Group
from heatmap_latent.analysis.step import MissingMetric, lookup
from heatmap_latent.study.verdicts import number, t_interval

REFERENCE = "ae"  # the model every dose is compared with
DEFAULT = "(default)"  # grouping's value of a key a group's overrides do not set

# (claim, label, AE-minus-VAE measure: metric keys, the second subtracted from the first when given,
# and the claims' minimum effect (``claims.min_effect``) that is its equivalence margin);
# claim 8's are CROSS: the AE's first key minus the VAE's second (the AE's seed-to-seed correlation
# minus the VAE's correlation with the AE of its seed), a shortfall that must shrink as beta falls
MEASURES: tuple[tuple[int, str, str, str | None, str], ...] = (
    (4, "share of grid steps torn", "density.local.torn_share", None, "torn_share"),
    (4, "empty share of the trimmed hull (not judged)", "density.trimmed_hull.empty_share", None, "empty_share"),
    (4, "largest gap in the trimmed hull (not judged)", "density.trimmed_hull.largest_gap", None, "largest_gap"),
    (4, "empty share of the hull (reported)", "density.hull.empty_share", None, "empty_share"),
    (4, "largest gap in the hull (reported)", "density.hull.largest_gap", None, "largest_gap"),
    (
        5,
        "empty regions' realism over the reconstructions'",
        "realism.empty_regions.bounded_mean",
        "realism.reconstructions.bounded_mean",
        "realism",
    ),
    (
        5,
        "prior samples' realism over the reconstructions'",
        "realism.prior_samples.bounded_mean",
        "realism.reconstructions.bounded_mean",
        "realism",
    ),
    (
        5,
        "realism between the tails over the reconstructions' (not judged)",
        "trajectories.empty_between_tails.realism_mean",
        "realism.reconstructions.mean",
        "realism",
    ),
    (
        5,
        "realism along the 0-2 line over the reconstructions'",
        "trajectories.line_0_2.realism_mean",
        "realism.reconstructions.mean",
        "realism",
    ),
    (
        5,
        "realism along the 0-1 line over the reconstructions'",
        "trajectories.line_0_1.realism_mean",
        "realism.reconstructions.mean",
        "realism",
    ),
    (8, "AE seed-to-seed CCA minus CCA(VAE, AE)", "shape.seed_to_seed.cca", "shape.vae_ae.cca", "cca"),
    (8, "AE seed-to-seed kNN minus kNN(VAE, AE) (not judged)", "shape.seed_to_seed.knn", "shape.vae_ae.knn", "knn"),
)
CROSS = 8  # the claim whose measures take one key from each side


def _number(run: dict[str, Any], key: str, minus: str | None) -> float | None:
    """``key`` of one run's metrics, less ``minus`` when given; None when either is not a number."""
    try:
        values = [number(lookup(run, k)) for k in (key, minus) if k]
    except MissingMetric:
        return None
    if any(v is None for v in values):
        return None
    return values[0] - (values[1] if minus else 0.0)


def _dose(value: str) -> float | None:
    try:
        dose = float(value)
    except ValueError:
        return None
    return dose if dose > 0 else None


def dose_sets(groups: list[Group]) -> list[dict[str, Any]]:
    """``{"key", "data", "reference", "doses": {dose: group}}`` for each dataset where the non-AE
    groups differ in one positive numeric override that the AE group does not set."""
    out = []
    for data in dict.fromkeys(g.data for g in groups):
        on = [g for g in groups if g.data == data]
        reference = [g for g in on if g.model == REFERENCE]
        treated = [g for g in on if g.model != REFERENCE]
        if len(reference) != 1 or len(treated) < 2:
            continue
        numeric = {k for g in treated for k, v in g.condition.items() if _dose(v) is not None}
        for key in sorted(numeric):
            if reference[0].condition.get(key, DEFAULT) != DEFAULT:
                continue
            rest = [{k: v for k, v in g.condition.items() if k != key} for g in treated]
            if any(r != rest[0] for r in rest) or any(_dose(g.condition.get(key, "")) is None for g in treated):
                continue
            doses = {_dose(g.condition[key]): g for g in treated}
            if len(doses) == len(treated):
                out.append({"key": key, "data": data, "reference": reference[0], "doses": dict(sorted(doses.items()))})
    return out


def _slope(doses: list[float], effects: list[float]) -> float:
    x = np.log10(doses)
    return float(np.polyfit(x, effects, 1)[0])


def _equivalence(level: dict[str, Any], margin: float | None) -> dict[str, Any] | None:
    """Two one-sided tests at 5% of one dose's effects: the 90% t interval inside ± ``margin``."""
    if margin is None or len(level["effects"]) < 2:
        return None
    ci = list(t_interval(level["effects"], 0.90))
    return {"dose": level["dose"], "margin": margin, "ci90": ci, "holds": -margin < ci[0] and ci[1] < margin}


def _verdict(ci: list[float], equivalence: dict[str, Any] | None) -> str:
    if ci[0] > 0:
        return "passes"
    if equivalence and equivalence["holds"]:
        return "passes by equivalence"
    return "fails" if ci[1] < 0 else "inconclusive"


def dose_response(
    groups: list[Group],
    metrics: dict[str, dict[str, Any]],
    min_seeds: int = 3,
    margins: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Every dose set's measures: the effect (AE minus the dose's VAE, per seed) at each dose with its
    mean and 95% t interval, the slope on log10(dose) with its interval, the lowest dose's equivalence
    with the AE (``margins``: the claims' minimum effects by name; none: not tested) and the verdict."""
    results = []
    for found in dose_sets(groups):
        ref = dict(zip(found["reference"].seeds, found["reference"].runs))
        measures = []
        for claim, label, key, minus, effect in MEASURES:
            levels, by_seed = [], {}
            for dose, g in found["doses"].items():
                effects = {}
                for seed, name in zip(g.seeds, g.runs):
                    if seed in ref and seed not in effects:
                        if claim == CROSS:
                            ae, vae = _number(metrics[ref[seed]], key, None), _number(metrics[name], minus, None)
                        else:
                            ae, vae = _number(metrics[ref[seed]], key, minus), _number(metrics[name], key, minus)
                        if ae is not None and vae is not None:
                            effects[seed] = ae - vae
                            by_seed.setdefault(seed, []).append((dose, ae - vae))
                values = list(effects.values())
                ci = list(t_interval(values)) if len(values) > 1 else None
                levels.append(
                    {
                        "dose": dose,
                        "seeds": list(effects),
                        "effects": values,
                        "mean": float(np.mean(values)) if values else None,
                        "ci95": ci,
                    }
                )
            slopes = {s: _slope(*zip(*pts)) for s, pts in by_seed.items() if len(pts) >= 2}
            values = list(slopes.values())
            ci = list(t_interval(values)) if len(values) > 1 else None
            equivalence = _equivalence(levels[0], (margins or {}).get(effect)) if levels else None
            verdict = "too few seeds" if len(values) < min_seeds else _verdict(ci, equivalence)
            measures.append(
                {
                    "claim": claim,
                    "label": label,
                    "key": key,
                    "minus": minus,
                    "levels": levels,
                    "slope": {
                        "per_seed": {str(s): v for s, v in slopes.items()},
                        "mean": float(np.mean(values)) if values else None,
                        "ci95": ci,
                        "expected": "positive",
                    },
                    "equivalence_at_lowest_dose": equivalence,
                    "verdict": verdict,
                }
            )
        results.append(
            {
                "key": found["key"],
                "data": found["data"],
                "reference": found["reference"].label,
                "doses": list(found["doses"]),
                "groups": [g.label for g in found["doses"].values()],
                "measures": measures,
            }
        )
    return results


def _cell(mean: float | None, ci: list[float] | None, n: int) -> str:
    if mean is None:
        return "—"
    return f"{mean:.3g} [{ci[0]:.3g}, {ci[1]:.3g}] (n={n})" if ci else f"{mean:.3g} (n={n})"


SAME = "lowest dose ≈ AE [90% CI]"


def _same(eq: dict[str, Any] | None) -> str:
    if not eq:
        return "—"
    return f"[{eq['ci90'][0]:.3g}, {eq['ci90'][1]:.3g}] within ±{eq['margin']:g}: {'yes' if eq['holds'] else 'no'}"


def markdown(results: list[dict[str, Any]]) -> str:
    """``dose_response``'s result as markdown tables (the docs' dose-response tables are this)."""
    out = []
    for d in results:
        out.append(f"{d['key']} on {d['data']}, against {d['reference']}:\n")
        doses = " | ".join(f"{d['key']} = {x:g}" for x in d["doses"])
        out.append(f"| claim | AE minus VAE | {doses} | slope on log10 [95% CI] | {SAME} | verdict |")
        out.append("|" + "---|" * (5 + len(d["doses"])))
        for m in d["measures"]:
            cells = " | ".join(_cell(lv["mean"], lv["ci95"], len(lv["seeds"])) for lv in m["levels"])
            slope = _cell(m["slope"]["mean"], m["slope"]["ci95"], len(m["slope"]["per_seed"]))
            same = _same(m.get("equivalence_at_lowest_dose"))
            out.append(f"| {m['claim']} | {m['label']} | {cells} | {slope} | {same} | {m['verdict']} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # python -m heatmap_latent.study.dose <analysis>/metrics.json
    import json
    import sys
    from pathlib import Path

    print(markdown(json.loads(Path(sys.argv[1]).read_text()).get("dose_response", [])))
