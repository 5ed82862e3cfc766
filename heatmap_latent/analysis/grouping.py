"""Group analysed runs by their config minus the seed, and aggregate every scalar metric over seeds.

Two runs are pooled only when their saved (unresolved) configs are equal after dropping the keys
that never change what is trained: ``seed``, ``paths``, ``ckpt_path``, ``resume``. A sweep over
``model.beta`` therefore gives one group per beta. The group's label names the overrides that tell
it from the other groups.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heatmap_latent.analysis.step import NA_KEY

# top-level keys (and override prefixes) that never split a group
SEED_AND_PATH_KEYS = ("seed", "paths", "ckpt_path", "resume", "break_lock", "hydra")
# the overrides that name a group's role (which model on which data), not its condition
ROLE_KEYS = ("model", "data")


@dataclass(frozen=True)
class Role:
    """Which model on which data: how a study refers to a group (printed ``vae@gaussian``)."""

    model: str  # the model's kind (``LatentAutoencoder.kind``), e.g. vae, ae, beta_vae
    data: str  # the data module's declared name, e.g. gaussian, student_t

    def __str__(self) -> str:
        return f"{self.model}@{self.data}"


@dataclass(frozen=True)
class RunIdentity:
    """What grouping needs to know of one run."""

    name: str
    seed: int
    model: str  # what the model is (its ``kind``): vae, ae, beta_vae, tcvae, ...
    data: str  # what the data module declares as its name: gaussian, student_t, sprites
    overrides: tuple[str, ...]
    config: dict[str, Any]  # the unresolved config as saved by Hydra


@dataclass
class Group:
    label: str
    model: str
    data: str
    keys: dict[str, str]  # the overrides that define this group against the others
    runs: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # dotted key -> statistics

    @property
    def role(self) -> Role:
        return Role(self.model, self.data)

    @property
    def condition(self) -> dict[str, str]:
        """The keys that tell this group from the others, except which model on which data: the
        setting (``model.latent_dim=2``) a study's claims are evaluated at."""
        return {k: v for k, v in self.keys.items() if k not in ROLE_KEYS}

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "role": str(self.role),
            "condition": condition_label(self.condition),
            "keys": self.keys,
            "runs": self.runs,
            "seeds": self.seeds,
            "metrics": self.metrics,
        }


def condition_label(condition: dict[str, str]) -> str:
    return " · ".join(f"{k}={v}" for k, v in condition.items()) or "all runs"


def by_condition(groups: list[Group]) -> dict[str, list[Group]]:
    """The groups of each condition (first-seen order); no condition is pooled with another."""
    out: dict[str, list[Group]] = {}
    for g in groups:
        out.setdefault(condition_label(g.condition), []).append(g)
    return out


def identity_key(config: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in SEED_AND_PATH_KEYS}, sort_keys=True, default=str)


def _override_dict(overrides: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in overrides:
        key, _, value = item.lstrip("+~").partition("=")
        if key.split(".")[0] not in SEED_AND_PATH_KEYS:
            out[key] = value
    return out


def flatten_scalars(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every numeric scalar of a nested metrics dict by dotted key (lists and n/a parts skipped)."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            if NA_KEY not in value:
                out.update(flatten_scalars(value, dotted + "."))
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            out[dotted] = float(value)
    return out


def statistics(values: list[float], seeds: list[int]) -> dict[str, Any]:
    """Mean, sample std (ddof=1; None for one seed), min, max, n and the per-seed values."""
    arr = np.asarray(values, dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if len(arr) > 1 else None,
        "min": float(arr.min()),
        "max": float(arr.max()),
        "n": len(arr),
        "n_finite": len(finite),
        "seeds": list(seeds),
        "values": [v if math.isfinite(v) else str(v) for v in arr.tolist()],
    }


def group_runs(runs: list[RunIdentity], metrics: dict[str, dict[str, Any]]) -> list[Group]:
    """Groups in first-seen order, each with the statistics of every scalar metric over its runs."""
    by_key: dict[str, list[RunIdentity]] = {}
    for run in runs:
        by_key.setdefault(identity_key(run.config), []).append(run)
    members = list(by_key.values())
    overrides = [_override_dict(m[0].overrides) for m in members]
    all_keys = sorted({k for o in overrides for k in o})
    defining = [k for k in all_keys if len({o.get(k, "(default)") for o in overrides}) > 1]
    groups: list[Group] = []
    labels: dict[str, int] = {}
    for runs_in, over in zip(members, overrides):
        first = runs_in[0]
        keys = {k: over.get(k, "(default)") for k in defining}
        role = {"model": first.model, "data": first.data}
        # a role key is named only where the config file's name is not what the run is (model=my_vae)
        extra = [f"{k}={v}" for k, v in keys.items() if k not in ROLE_KEYS or v not in (role[k], "(default)")]
        label = " · ".join([first.model, first.data, *extra])
        labels[label] = labels.get(label, 0) + 1
        if labels[label] > 1:  # same overrides, different configs (e.g. an edited YAML): never pooled
            label = f"{label} #{labels[label]}"
        ordered = sorted(runs_in, key=lambda r: (r.seed, r.name))
        group = Group(label, first.model, first.data, keys, [r.name for r in ordered], [r.seed for r in ordered])
        flat = [flatten_scalars(metrics[r.name]) for r in ordered]
        for key in sorted(set().union(*flat)):
            present = [(r.seed, f[key]) for r, f in zip(ordered, flat) if key in f]
            group.metrics[key] = statistics([v for _, v in present], [s for s, _ in present])
        groups.append(group)
    return groups
