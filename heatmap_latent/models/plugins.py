"""Models from outside this package that a run directory may name (``core/plugins.py``): an installed
package declares its model classes in the ``heatmap_latent.models`` entry-point group::

    [project.entry-points."heatmap_latent.models"]
    sparse_ae = "my_package.sparse:SparseAE"

or the user lists them in the config of the command that reads the run (``analyze.py
'trust_models=[my_package.sparse.SparseAE]'``, ``python -m heatmap_latent.explorer --trust ...``).
A trusted name is still loaded only if it is a ``LatentAutoencoder`` (``analysis/loading.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from heatmap_latent.core.plugins import registered, trusted

ENTRY_POINT_GROUP = "heatmap_latent.models"


def registered_models() -> dict[str, str]:
    """Every installed model plug-in: entry-point name -> ``module.Class``."""
    return registered(ENTRY_POINT_GROUP)


def trusted_models(allowed: Iterable[str] = ()) -> set[str]:
    """The model targets outside this package a run may name: the plug-ins and ``allowed``."""
    return trusted(ENTRY_POINT_GROUP, allowed)
