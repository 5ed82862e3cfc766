from heatmap_latent.data.datamodule import (
    GaussianHeatmapDataModule,
    HeatmapDataModule,
    StudentTHeatmapDataModule,
)

__all__ = ["GaussianHeatmapDataModule", "HeatmapDataModule", "StudentTHeatmapDataModule"]
