"""The offline latent explorer: ``python -m heatmap_latent.explorer <run dir or .ckpt> [-o FILE]``."""

from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.explorer.page import ExportError, decoder_layers, explorer_data, explorer_html

__all__ = ["ExportError", "decoder_layers", "explorer_data", "explorer_html", "write_explorer"]


def write_explorer(run, out, latents=None, snapshots_every=1, paths=None, panels=()):
    """Write ``run``'s explorer page to ``out`` (atomically); returns its path. With snapshots, the
    page's epoch slider has every ``snapshots_every``-th (and always the last); 0 leaves them out.
    ``paths(latents, factors)``: a study's named paths for the page's path picker; ``panels``: panel
    scripts of one's own."""
    return write_atomic(out, explorer_html(explorer_data(run, latents, snapshots_every, paths), panels))
