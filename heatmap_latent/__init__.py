"""heatmap-latent: latent spaces of VAEs and AEs trained on synthetic heatmaps."""

__version__ = "0.1.0"
