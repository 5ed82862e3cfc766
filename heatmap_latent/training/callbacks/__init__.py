from heatmap_latent.training.callbacks.latent_logging import (
    EmbeddingProjector,
    LatentProjections,
    ReconstructionErrorHistogram,
    ReconstructionGrid,
)
from heatmap_latent.training.callbacks.reproducibility import EpochSeed, FiniteLossGuard, InterruptCheckpoint

__all__ = [
    "EmbeddingProjector",
    "EpochSeed",
    "FiniteLossGuard",
    "InterruptCheckpoint",
    "LatentProjections",
    "ReconstructionErrorHistogram",
    "ReconstructionGrid",
]
