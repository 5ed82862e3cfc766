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

from heatmap_latent.core.plugins import dotted, registered, trusted

ENTRY_POINT_GROUP = "heatmap_latent.datasets"
__all__ = ["ENTRY_POINT_GROUP", "dotted", "registered_datasets", "trusted_datasets"]


def registered_datasets() -> dict[str, str]:
    """Every installed dataset plug-in: entry-point name -> ``module.Class``."""
    return registered(ENTRY_POINT_GROUP)


def trusted_datasets(allowed: Iterable[str] = ()) -> set[str]:
    """The data module targets outside this package a run may name: the plug-ins and ``allowed``."""
    return trusted(ENTRY_POINT_GROUP, allowed)
