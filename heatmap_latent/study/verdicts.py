"""Comparisons measured over seeds and their verdicts: the rule every claim is judged by.

Rule (also stated in the report, ``RULE``): a comparison **holds** when it goes the claimed way in
every seed and its effect's interval clears the minimum effect, is **refuted** when it goes the other
way in every seed and the interval clears minus the minimum effect, is **inconclusive** otherwise,
has **too few seeds** below ``min_seeds`` paired seeds (3 by default), and is **not measured** when
a side is missing. An equivalence (``~=``) holds when its 90% interval lies inside the margin (two
one-sided t tests at 5%) and is refuted when the interval lies outside it. Seeds are paired: a
comparison between two groups uses the seeds both have. A claim is not measured when any comparison
is not, has too few seeds when any comparison has, holds when every comparison holds, is refuted when
every comparison is, is **mixed** when some hold and some are refuted, and is inconclusive otherwise.
No verdict is written by hand.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from heatmap_latent.analysis.grouping import Group, Role, by_condition
from heatmap_latent.analysis.step import MissingMetric, NotApplicable, lookup

HOLDS, REFUTED, INCONCLUSIVE, MIXED, UNMEASURED = "holds", "refuted", "inconclusive", "mixed", "not measured"
TOO_FEW = "too few seeds"
MIN_SEEDS = 3  # conf/analyze.yaml claims.min_seeds: one or two seeds give an interval of no use
RULE = (
    "Each comparison's effect is the paired per-seed difference, signed so that positive is the claimed "
    "way (left − right for > and >=, right − left for < and <=; sides closer than 1e-9 of the minimum "
    "effect are equal, so that rounding decides no direction), with its mean over seeds and a 95% t "
    "interval (t with n − 1 degrees of freedom). Each comparison states a minimum effect. A comparison "
    "needs {min_seeds} paired seeds: with fewer it has too few seeds, whatever the numbers. It holds when "
    "it goes the claimed way in every seed and the interval's lower end reaches the minimum effect; it is "
    "refuted when it goes the other way in every seed and the interval's upper end is at most minus the "
    "minimum effect; it is inconclusive otherwise, and not measured when a side is missing. An equivalence "
    "(~=, within a margin) takes the signed difference left − right and its 90% t interval (two one-sided "
    "tests at 5%): it holds when the interval lies inside (−margin, margin), is refuted when it lies "
    "wholly outside, and is inconclusive otherwise. A claim is not measured when any comparison is not, "
    "has too few seeds when any comparison has, holds when every comparison holds, is refuted when every "
    "comparison is, is mixed when some hold and some are refuted, and is inconclusive otherwise."
)
# two sides closer than this share of the comparison's minimum effect are equal: which way a difference
# of rounding (a fitted rho of 4e-19 against 0 on a collapsed model) goes depends on the CPU's kernels
TIE_SHARE = 1e-9
RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
EQUIVALENT = "~="


Seeded = dict[Role, dict[str, Any]]  # role -> the run metrics of one seed


@dataclass(frozen=True)
class Term:
    """One side of a comparison: a number computed from the runs of one seed."""

    label: str
    roles: tuple[Role, ...]
    value: Callable[[Seeded], float | None]
    keys: tuple[str, ...] = ()  # the metrics it reads (``step.part``): checked against the steps' outputs


def number(value: Any) -> float | None:
    """A metric's value as a finite float; None for n/a, a non-number or a non-finite value."""
    if isinstance(value, NotApplicable) or value is None or isinstance(value, (dict, list, str, bool)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def metric(role: Role, key: str, label: str | None = None) -> Term:
    return Term(label or f"{role} {key}", (role,), lambda runs: number(lookup(runs[role], key)), (key,))


def constant(value: float, label: str) -> Term:
    return Term(label, (), lambda runs: value)


def combine(label: str, fn: Callable[..., float], *terms: Term) -> Term:
    """A term from other terms (``None`` if any is missing)."""

    def value(runs: Seeded) -> float | None:
        parts = [t.value(runs) for t in terms]
        return None if any(p is None for p in parts) else float(fn(*parts))

    roles = tuple(dict.fromkeys(r for t in terms for r in t.roles))
    return Term(label, roles, value, tuple(dict.fromkeys(k for t in terms for k in t.keys)))


@dataclass(frozen=True)
class MinEffect:
    """The smallest effect that counts, in the unit of the compared measure, and why."""

    value: float
    unit: str
    why: str


@dataclass(frozen=True)
class Comparison:
    label: str
    left: Term
    relation: str  # one of RELATIONS, or EQUIVALENT: |left − right| < margin, by two one-sided tests
    right: Term
    min_effect: MinEffect
    margin: float | None = None  # EQUIVALENT's margin
    # why it is not to be read (its instrument failed its known answer on the oracles, study/oracles.py,
    # or it is true by construction): computed and shown, its verdict "not measured", no claim counts it
    not_judged: str | None = None

    @property
    def roles(self) -> tuple[Role, ...]:
        return tuple(dict.fromkeys(self.left.roles + self.right.roles))

    def __post_init__(self) -> None:
        if (self.relation == EQUIVALENT) != (self.margin is not None):
            raise ValueError(f"{self.label}: an equivalence (~=) and only it takes a margin")


@dataclass(frozen=True)
class Claim:
    id: int
    statement: str
    measured: str  # one sentence on what was measured
    comparisons: tuple[Comparison, ...]
    # a claim measured more than one way (claim 6): which construction this is, and whether it is
    # the one the study describes
    reading: str | None = None
    study_reading: bool = False
    # the groups the study makes the claim about (None: every group it compares); a comparison on
    # other groups is an extension, reported with its own verdict and never counted in the study's
    scope: tuple[Role, ...] | None = None

    def in_scope(self, c: Comparison) -> bool:
        return self.scope is None or set(c.roles) <= set(self.scope)


def verdict(
    goes_claimed_way: list[bool],
    interval: tuple[float, float] | None = None,
    minimum: float = 0.0,
    min_seeds: int = 1,
) -> str:
    """The rule above: enough seeds, the direction in every seed, and (given the effect's
    ``interval``) whether it clears the ``minimum`` effect."""
    if not goes_claimed_way:
        return UNMEASURED
    if len(goes_claimed_way) < min_seeds:
        return TOO_FEW
    low, high = interval if interval is not None else (np.inf, -np.inf)
    if all(goes_claimed_way) and (interval is None or low >= minimum):
        return HOLDS
    if not any(goes_claimed_way) and (interval is None or high <= -minimum):
        return REFUTED
    return INCONCLUSIVE


def equivalence_verdict(interval: tuple[float, float], margin: float, n_seeds: int, min_seeds: int = 1) -> str:
    """An equivalence's verdict from the 90% interval of the signed difference (two one-sided tests)."""
    if n_seeds < min_seeds:
        return TOO_FEW
    low, high = interval
    if -margin < low and high < margin:
        return HOLDS
    if low >= margin or high <= -margin:
        return REFUTED
    return INCONCLUSIVE


def t_interval(values: list[float], level: float = 0.95) -> tuple[float, float]:
    """The mean's ``level`` t interval over seeds (n − 1 degrees of freedom); one value: itself."""
    arr = np.asarray(values, dtype=np.float64)
    mean = float(arr.mean())
    if len(arr) < 2:
        return mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, df=len(arr) - 1) * arr.std(ddof=1) / np.sqrt(len(arr)))
    return mean - half, mean + half


def _side(term: Term, values: list[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=np.float64)
    constant_term = not term.roles  # a threshold: one value, no spread to print
    return {
        "label": term.label,
        "mean": float(arr.mean()) if len(arr) else None,
        "std": float(arr.std(ddof=1)) if len(arr) > 1 and not constant_term else None,
        "values": arr.tolist(),
        "constant": constant_term,
    }


def _effect(c: Comparison, paired: list[tuple[int, float, float]]) -> dict[str, Any]:
    sign = 1.0 if c.relation in (">", ">=", EQUIVALENT) else -1.0
    per_seed = [sign * (left - right) for _, left, right in paired]
    out: dict[str, Any] = {
        "kind": "difference",
        "per_seed": per_seed,
        "min_effect": c.min_effect.value,
        "unit": c.min_effect.unit,
        "why": c.min_effect.why,
    }
    if per_seed:
        low, high = t_interval(per_seed)
        out.update(mean=float(np.mean(per_seed)), ci95=[low, high], df=len(per_seed) - 1)
        if c.relation == EQUIVALENT:
            out.update(kind="equivalence", margin=c.margin, ci90=list(t_interval(per_seed, 0.90)))
    return out


def goes_claimed_way(c: Comparison, left: float, right: float) -> bool:
    """Whether ``left`` and ``right`` stand in ``c.relation``, sides within ``TIE_SHARE`` of the
    minimum effect counting as equal (so ``<`` fails and ``<=`` holds on a tie); an equivalence:
    whether they are closer than its margin."""
    if c.relation == EQUIVALENT:
        return abs(left - right) < float(c.margin)
    if abs(left - right) <= TIE_SHARE * max(c.min_effect.value, 1e-12):
        return RELATIONS[c.relation](right, right)
    return RELATIONS[c.relation](left, right)


def combined(verdicts: list[str]) -> str:
    """A claim's verdict from its comparisons' (the rule above)."""
    if not verdicts or UNMEASURED in verdicts:
        return UNMEASURED
    if TOO_FEW in verdicts:
        return TOO_FEW
    if all(v == HOLDS for v in verdicts):
        return HOLDS
    if all(v == REFUTED for v in verdicts):
        return REFUTED
    if HOLDS in verdicts and REFUTED in verdicts:
        return MIXED
    return INCONCLUSIVE


RunsByRole = dict[Role, dict[int, dict[str, Any]]]  # role -> seed -> that run's metrics


def evaluate_comparison(
    c: Comparison, runs: RunsByRole, why_missing: dict[Role, str], min_seeds: int = MIN_SEEDS
) -> dict:
    """``runs``: role -> seed -> that run's metrics."""
    roles = c.roles
    out: dict[str, Any] = {"label": c.label, "relation": c.relation, "roles": [str(r) for r in roles]}
    missing = [r for r in roles if r not in runs]
    seeds = sorted(set.intersection(*(set(runs[r]) for r in roles))) if roles and not missing else []
    paired: list[tuple[int, float, float]] = []
    for seed in seeds:
        seeded = {r: runs[r][seed] for r in roles}
        try:
            left, right = c.left.value(seeded), c.right.value(seeded)
        except MissingMetric:
            left = right = None
        if left is not None and right is not None:
            paired.append((seed, left, right))
    ok = [goes_claimed_way(c, left, right) for _, left, right in paired]
    effect = _effect(c, paired)
    if c.relation == EQUIVALENT and paired:
        decided = equivalence_verdict(tuple(effect["ci90"]), float(c.margin), len(paired), min_seeds)
    else:
        decided = verdict(ok, tuple(effect["ci95"]) if paired else None, c.min_effect.value, min_seeds)
    out.update(
        seeds=[s for s, _, _ in paired],
        left=_side(c.left, [v for _, v, _ in paired]),
        right=_side(c.right, [v for _, _, v in paired]),
        per_seed=ok,
        effect=effect,
        verdict=decided,
    )
    if decided == TOO_FEW:
        out["reason"] = f"{len(paired)} paired seed(s): a verdict needs {min_seeds}"
    if missing:
        out["reason"] = "; ".join(why_missing.get(r, f"no run of {r}") for r in missing)
    elif not paired:
        out["reason"] = "no seed where both sides are measured" if seeds else "no seed common to both sides"
    return out


FAILED = "not judged"  # the scope of a comparison not to be read (Comparison.not_judged)


def failed_known_answer(why: str) -> str:
    """``Comparison.not_judged`` of an instrument that failed its known answer (``why``)."""
    return f"instrument failed its known answer: {why}"


def _judged(c: Comparison, result: dict[str, Any], in_scope: bool) -> dict[str, Any]:
    """A comparison's result with its scope; an instrument that failed its known answer keeps its
    numbers and the verdict they would give, under ``not measured: ...`` and outside every claim's count."""
    if c.not_judged is None:
        return {**result, "scope": "study" if in_scope else "extension"}
    return {
        **result,
        "verdict": UNMEASURED,
        "reason": c.not_judged,
        "verdict_if_read": result["verdict"],
        "scope": FAILED,
    }


def evaluate(
    claims: list[Claim], groups: list[Group], metrics: dict[str, dict[str, Any]], min_seeds: int = MIN_SEEDS
) -> list[dict[str, Any]]:
    """Every claim with its comparisons' numbers and verdicts; ``metrics``: run name -> metrics."""
    runs: RunsByRole = {}
    why_missing: dict[Role, str] = {}
    by_role: dict[Role, list[Group]] = {}
    for g in groups:
        by_role.setdefault(g.role, []).append(g)
    for role, gs in by_role.items():
        if len(gs) > 1:  # e.g. a beta sweep: which VAE the claim is about is not defined
            why_missing[role] = f"{len(gs)} groups are {role} ({', '.join(g.label for g in gs)}): analyse one at a time"
            continue
        runs[role] = {}
        for name, seed in zip(gs[0].runs, gs[0].seeds):
            runs[role].setdefault(seed, metrics[name])  # a repeated seed: its first run
    out = []
    for claim in claims:
        results = [
            _judged(c, evaluate_comparison(c, runs, why_missing, min_seeds), claim.in_scope(c))
            for c in claim.comparisons
        ]
        study = [r["verdict"] for r in results if r["scope"] == "study"]
        extension = [r["verdict"] for r in results if r["scope"] == "extension"]
        out.append(
            {
                "id": claim.id,
                "statement": claim.statement,
                "measured": claim.measured,
                "reading": claim.reading,
                "study_reading": claim.study_reading,
                "verdict": combined(study),
                "extension_verdict": combined(extension) if extension else None,
                "scope": [str(r) for r in claim.scope] if claim.scope else "every group compared",
                "comparisons": results,
            }
        )
    return out


def evaluate_by_condition(
    claims: list[Claim], groups: list[Group], metrics: dict[str, dict[str, Any]], min_seeds: int = MIN_SEEDS
) -> list[dict[str, Any]]:
    """Every claim once per condition (the groups that share everything but model, data and seed),
    each tagged with its ``condition``; no condition is pooled with another."""
    return [
        {**claim, "condition": condition}
        for condition, gs in by_condition(groups).items()
        for claim in evaluate(claims, gs, metrics, min_seeds)
    ]
