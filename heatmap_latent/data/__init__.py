from heatmap_latent.data.datamodule import (
    GaussianHeatmapDataModule,
    HeatmapDataModule,
    StudentTHeatmapDataModule,
)
from heatmap_latent.data.factor_images import FactorImageDataModule
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind

__all__ = [
    "Factor",
    "FactorDeclaration",
    "FactorImageDataModule",
    "GaussianHeatmapDataModule",
    "HeatmapDataModule",
    "Kind",
    "StudentTHeatmapDataModule",
]
