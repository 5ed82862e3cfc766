"""Every name that an older run directory or command line may carry, and what it is called now: the
one place that maps old names (docs/architecture.md, "Old run directories"). The preflight renames
old override keys before Hydra composes (saying so in one warning), and the run loader trusts the old
class paths a run directory's config may name."""

from __future__ import annotations

# per entry config: an old override key -> its name now (a key, or a config group as ``group/name``)
OVERRIDE_KEYS: dict[str, dict[str, str]] = {
    "train": {"model.scheduler.kind": "model/scheduler"},  # schedules chosen by _target_ since 0.2
    "analyze": {"compare": "study"},  # analyze.py's first name for study=
}

# an old class path's prefix -> its prefix now: the callbacks lived in heatmap_latent.callbacks before
# the layers
TARGET_PREFIXES: dict[str, str] = {"heatmap_latent.callbacks.": "heatmap_latent.training.callbacks."}

# old class paths kept under their old names: the schedules' ``scheduler.kind`` factory of old runs
TARGETS_KEPT: frozenset[str] = frozenset({"heatmap_latent.models.schedules.lr_scheduler"})


def current_target(target: str) -> str:
    """``target`` under its name now (unchanged when it was never renamed)."""
    for old, new in TARGET_PREFIXES.items():
        if target.startswith(old):
            return new + target[len(old) :]
    return target


def renamed_override(config_name: str, arg: str) -> str | None:
    """``arg`` (``key=value``) under its key's name now, or None when its key was never renamed."""
    key, sep, value = arg.partition("=")
    new = OVERRIDE_KEYS.get(config_name, {}).get(key)
    return f"{new}={value}" if sep and new else None
