from heatmap_latent.data.datamodule import (
    GaussianHeatmapDataModule,
    HeatmapDataModule,
    StudentTHeatmapDataModule,
)
from heatmap_latent.data.dsprites_file import DSpritesFileDataModule
from heatmap_latent.data.factor_images import FactorImageDataModule
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.mpi3d_file import MPI3DFileDataModule
from heatmap_latent.data.shapes3d_file import Shapes3DFileDataModule
from heatmap_latent.data.sprites_datamodule import SpriteDataModule

__all__ = [
    "DSpritesFileDataModule",
    "Factor",
    "FactorDeclaration",
    "FactorImageDataModule",
    "GaussianHeatmapDataModule",
    "HeatmapDataModule",
    "Kind",
    "MPI3DFileDataModule",
    "Shapes3DFileDataModule",
    "SpriteDataModule",
    "StudentTHeatmapDataModule",
]
