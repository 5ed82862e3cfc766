"""Hydra plugins of heatmap-latent (Hydra loads plugins from the hydra_plugins namespace only)."""
