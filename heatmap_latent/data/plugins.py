"""Datasets from outside this package that a run directory may name, trusted the way Python packages
extend each other: an installed package declares its data modules in the ``heatmap_latent.datasets``
entry-point group (as TensorBoard finds the Latent tab through ``tensorboard_plugins``)::

    [project.entry-points."heatmap_latent.datasets"]
    bars = "my_package.bars:BarDataModule"

or the user lists them in the config of the command that reads the run (``analyze.py
'trust_datasets=[my_package.bars.BarDataModule]'``, ``python -m heatmap_latent.explorer --trust ...``).
Nothing a run directory names is imported before it is found in one of the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "heatmap_latent.datasets"


def dotted(target: str) -> str:
    """``module:Class`` (an entry point's spelling) as ``module.Class`` (a ``_target_``'s)."""
    return target.replace(":", ".")


def registered_datasets() -> dict[str, str]:
    """Every installed dataset plug-in: entry-point name -> ``module.Class``."""
    return {ep.name: dotted(ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)}


def trusted_datasets(allowed: Iterable[str] = ()) -> set[str]:
    """The data module targets outside this package a run may name: the plug-ins and ``allowed``."""
    return {*registered_datasets().values(), *(dotted(str(t)) for t in allowed)}
