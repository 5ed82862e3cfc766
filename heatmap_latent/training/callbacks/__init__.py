from heatmap_latent.training.callbacks.latent_logging import (
    EmbeddingProjector,
    LatentProjections,
    LatentTraversals,
    ReconstructionErrorHistogram,
    ReconstructionGrid,
)
from heatmap_latent.training.callbacks.pruning import OptunaPruning
from heatmap_latent.training.callbacks.reproducibility import EpochSeed, FiniteLossGuard, InterruptCheckpoint
from heatmap_latent.training.callbacks.snapshots import LatentSnapshots

__all__ = [
    "EmbeddingProjector",
    "EpochSeed",
    "FiniteLossGuard",
    "InterruptCheckpoint",
    "LatentSnapshots",
    "OptunaPruning",
    "LatentTraversals",
    "LatentProjections",
    "ReconstructionErrorHistogram",
    "ReconstructionGrid",
]
