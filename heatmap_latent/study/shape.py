"""Claim 8's measures, computed across runs: how alike the VAE's and the AE's codes of the same
images are, against how alike two seeds of one model are (``analysis.similarity``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from heatmap_latent.analysis.grouping import Group, by_condition, condition_label
from heatmap_latent.analysis.similarity import seed_to_seed, similarity, spread, udr
from heatmap_latent.analysis.standard_steps import rows
from heatmap_latent.analysis.step import Step, StepResult, not_applicable

PAIRED = ("vae", "ae")
ORACLE = "oracle"  # study/oracle_model.py: the plain oracle; each defect's oracle is oracle_<defect>


def _across_runs(encoded: Any) -> StepResult:
    raise TypeError("the shape step compares runs: study.shape.shape_metrics computes it")


# declared like the per-run steps so that the report shows it; analyze() fills it in with shape_metrics
SHAPE_STEP = Step(
    "shape",
    "Shape similarity and UDR (codes of all images, across runs)",
    _across_runs,
    rows(
        ("vae_ae.cca", "mean squared canonical correlation to the other model (VAE against AE), same seed"),
        ("vae_ae.knn", "share of 10 nearest neighbours shared with the other model, same seed"),
        ("seed_to_seed.cca", "mean squared canonical correlation to the other seeds of the group (mean)"),
        ("seed_to_seed.knn", "share of 10 nearest neighbours shared with the other seeds (mean)"),
        ("seed_to_seed.others.cca", "mean squared canonical correlation between the other seeds (leave-one-out)"),
        ("seed_to_seed.others.knn", "share of 10 nearest neighbours between the other seeds (leave-one-out)"),
        ("vae_ae.cka", "linear CKA to the other model (rotation and uniform scale only)"),
        ("vae_ae.procrustes", "Procrustes disparity to the other model (rotation and uniform scale only)"),
        ("seed_to_seed.cka", "linear CKA to the other seeds of the group (mean)"),
        ("seed_to_seed.procrustes", "Procrustes disparity to the other seeds of the group (mean)"),
        ("spread.anisotropy", "largest over smallest principal standard deviation of the codes"),
        ("udr.score", "UDR (Spearman; the median over the other seeds: over one or two pairs with fewer than 3 seeds)"),
    ),
)


def informative(metrics: dict[str, Any], codes: np.ndarray, settings: dict[str, Any]) -> np.ndarray:
    """UDR's informative dimensions: a KL above ``informative_kl`` for a model with a posterior (the
    latent_usage step's, at the best checkpoint), else a code variance above ``informative_variance``."""
    kl = metrics.get("latent_usage", {}).get("kl", {})
    if "per_dim" in kl:
        return np.asarray(kl["per_dim"]) > float(settings.get("informative_kl", 0.01))
    return codes.var(axis=0) > float(settings.get("informative_variance", 0.01))


def _udr_entry(score: dict[str, Any] | None, enabled: bool, n_seeds: int) -> dict[str, Any]:
    if not enabled:
        return not_applicable("UDR is turned off (scores.udr.enabled=false)")
    if score is None:
        return not_applicable("a single seed: UDR ranks the seeds of a group")
    note = "fewer than 3 seeds: the median over one or two pairs" if n_seeds < 3 else ""
    return {**score, "note": note}


def shape_metrics(
    groups: list[Group],
    codes: dict[str, np.ndarray],
    metrics: dict[str, dict[str, Any]] | None = None,
    udr_settings: dict[str, Any] | None = None,
    k: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Run name -> its ``shape`` metrics; ``codes``: run name -> its codes of every image; with the
    runs' ``metrics`` and UDR's settings (``{"enabled": false}`` skips it), each run's UDR too."""
    out: dict[str, dict[str, Any]] = {}
    udr_on = metrics is not None and (udr_settings or {}).get("enabled", True)
    for g in groups:
        members = {name: codes[name] for name in dict.fromkeys(g.runs)}
        across = seed_to_seed(members, k)
        ranked = {}
        if udr_on:
            masks = {n: informative(metrics[n], c, udr_settings or {}) for n, c in members.items()}
            ranked = udr(members, masks)
        for name in g.runs:
            out[name] = {
                "seed_to_seed": across.get(name, not_applicable("a single seed: no other seed to compare with")),
                "spread": spread(codes[name]),
                "vae_ae": not_applicable("measured between a VAE and an AE of one condition, data and seed"),
                "udr": _udr_entry(ranked.get(name), udr_on, len(members)),
            }
    for gs in by_condition(groups).values():
        for data in dict.fromkeys(g.data for g in gs):
            for one, other, key in _pairs([g for g in gs if g.data == data]):
                for name, partner in _by_seed(one, other, codes):
                    both = similarity(codes[name], codes[partner], k)
                    out[name][key] = both
                    if key == "vae_ae":
                        out[partner][key] = both
    for vae, ae in _dose_pairs(groups):  # a beta sweep's VAEs, each against the one AE (study/dose.py)
        for name, partner in _by_seed(vae, ae, codes):
            out[name]["vae_ae"] = {**similarity(codes[name], codes[partner], k), "against": ae.label}
    return out


VAE_ROLE = ("vae", "beta_vae")  # a dose-response counts a beta_vae as the VAE's role


def _dose_pairs(groups: list[Group]) -> list[tuple[Group, Group]]:
    """Each VAE group (``vae`` or ``beta_vae``) whose condition has no AE, with the analysis's one AE
    group on the same data: the pairs of a sweep over beta beside one AE (``study/dose.py``)."""
    pairs = []
    for data in dict.fromkeys(g.data for g in groups):
        aes = [g for g in groups if g.data == data and g.model == "ae"]
        if len(aes) != 1:
            continue
        conditions_with_ae = {condition_label(aes[0].condition)}
        for g in groups:
            if g.data == data and g.model in VAE_ROLE and condition_label(g.condition) not in conditions_with_ae:
                pairs.append((g, aes[0]))
    return pairs


def _pairs(groups: list[Group]) -> list[tuple[Group, Group, str]]:
    """The groups compared by seed within one condition and dataset, and the key of the measure: the
    VAE with the AE (``vae_ae``), each oracle with a defect against the plain oracle (``oracle``)."""
    found = {m: [g for g in groups if g.model == m] for m in (*PAIRED, ORACLE)}
    pairs = []
    if len(found["vae"]) == 1 and len(found["ae"]) == 1:
        pairs.append((found["vae"][0], found["ae"][0], "vae_ae"))
    if len(found[ORACLE]) == 1:
        pairs.extend((g, found[ORACLE][0], ORACLE) for g in groups if g.model.startswith(f"{ORACLE}_"))
    return pairs


def _by_seed(one: Group, other: Group, codes: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    """``(run of one, run of other)`` of the same seed (a repeated seed: its first run, as the claims
    take it), where both encode the same images."""
    other_by_seed: dict[int, str] = {}
    for seed, name in zip(other.seeds, other.runs):
        other_by_seed.setdefault(seed, name)
    return [
        (name, other_by_seed[seed])
        for seed, name in zip(one.seeds, one.runs)
        if seed in other_by_seed and codes[name].shape == codes[other_by_seed[seed]].shape
    ]
