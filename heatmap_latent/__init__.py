"""heatmap-latent: latent spaces of VAEs and AEs trained on synthetic heatmaps.

The package is layered; each layer imports only the ones below it (``pyproject.toml``'s
import-linter contract, checked in CI; ``docs/architecture.md`` draws it).

Importing the package registers what composing ``conf/train.yaml`` needs (the config schemas in
Hydra's ConfigStore and the OmegaConf resolvers), so ``import heatmap_latent`` is enough to compose
the configs with Hydra's compose API (a notebook, a script). The training package does the
registering, once, when it is imported.
"""

__version__ = "0.1.0"

import heatmap_latent.training  # noqa: E402, F401  (registers the schemas and resolvers; see above)
