from heatmap_latent.callbacks.latent_logging import (
    EmbeddingProjector,
    LatentProjections,
    ReconstructionErrorHistogram,
    ReconstructionGrid,
)

__all__ = ["EmbeddingProjector", "LatentProjections", "ReconstructionErrorHistogram", "ReconstructionGrid"]
