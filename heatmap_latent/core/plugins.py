"""Classes from outside this package that a run directory may name, trusted the way Python packages
extend each other: an installed package declares them in an entry-point group (as TensorBoard finds
the Latent tab through ``tensorboard_plugins``), or the user lists them in the config of the command
that reads the run. Nothing a run directory names is imported before it is found in one of the two;
``data/plugins.py`` (datasets) and ``models/plugins.py`` (models) name their groups."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points


def dotted(target: str) -> str:
    """``module:Class`` (an entry point's spelling) as ``module.Class`` (a ``_target_``'s)."""
    return target.replace(":", ".")


def registered(group: str) -> dict[str, str]:
    """Every installed plug-in of an entry-point ``group``: entry-point name -> ``module.Class``."""
    return {ep.name: dotted(ep.value) for ep in entry_points(group=group)}


def trusted(group: str, allowed: Iterable[str] = ()) -> set[str]:
    """The targets outside this package a run may name: the ``group``'s plug-ins and ``allowed``."""
    return {*registered(group).values(), *(dotted(str(t)) for t in allowed)}


def load_named(group: str, name: str) -> object | None:
    """The object the installed entry point ``name`` of ``group`` names, or ``None`` if none does."""
    for ep in entry_points(group=group, name=name):
        return ep.load()
    return None
