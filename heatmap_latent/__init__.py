"""heatmap-latent: latent spaces of VAEs and AEs trained on synthetic heatmaps.

The package is layered; each layer imports only the ones below it (``pyproject.toml``'s
import-linter contract, checked in CI; ``docs/architecture.md`` draws it).
"""

__version__ = "0.1.0"
