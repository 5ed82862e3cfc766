"""Where the latent callbacks' images go: every logger of the run that can show an image.

TensorBoard (``add_image``), MLflow (``MlflowClient.log_image`` with key and step) and Weights &
Biases (``WandbLogger.log_image``) each take the same RGB array; CSV cannot show images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from lightning.pytorch.loggers import Logger, MLFlowLogger, TensorBoardLogger, WandbLogger

from heatmap_latent.core.plotting import plt

ImageSink = Callable[[str, np.ndarray, int], None]  # (tag, (H, W, 3) uint8, step)


def figure_rgb(fig: plt.Figure) -> np.ndarray:
    """A matplotlib figure as an ``(H, W, 3)`` uint8 array; the figure is closed."""
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return rgb


def _sink(logger: Logger) -> ImageSink | None:
    if isinstance(logger, TensorBoardLogger):
        return lambda tag, rgb, step: logger.experiment.add_image(tag, rgb, step, dataformats="HWC")
    if isinstance(logger, MLFlowLogger):
        return lambda tag, rgb, step: logger.experiment.log_image(
            logger.run_id, rgb, key=tag.replace("/", "."), step=step
        )
    if isinstance(logger, WandbLogger):
        return lambda tag, rgb, step: logger.log_image(key=tag, images=[rgb], step=step)
    return None


def image_sinks(loggers: list[Logger]) -> list[ImageSink]:
    return [s for s in (_sink(logger) for logger in loggers) if s is not None]
