"""heatmap-latent: latent spaces of VAEs and AEs trained on synthetic heatmaps."""

__version__ = "0.1.0"

# the typed schemas of conf/model and conf/data, registered before any config is composed
from heatmap_latent import config_schema as _config_schema  # noqa: E402, F401
