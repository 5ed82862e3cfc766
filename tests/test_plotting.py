"""The projection figures the callbacks draw while training runs."""

from __future__ import annotations

import numpy as np

from heatmap_latent.core.plotting import ProjectionCanvas, projection_figure
from heatmap_latent.training.callbacks.image_sinks import figure_rgb


def test_a_reused_projection_canvas_draws_what_a_fresh_figure_draws():
    rng = np.random.default_rng(0)
    canvas = ProjectionCanvas(3)
    first = canvas.render(rng.normal(size=(500, 3)), rng.uniform(size=500), "rho")
    # another step and factor: other limits, value range and label; nothing of the first may remain
    latents, values = rng.normal(size=(300, 3)) * 5 + 2, rng.uniform(-4, 4, size=300)
    again = canvas.render(latents, values, "var_x-var_y")
    assert again.shape == first.shape and not np.array_equal(again, first)
    assert np.array_equal(again, ProjectionCanvas(3).render(latents, values, "var_x-var_y"))
    assert np.array_equal(again, figure_rgb(projection_figure(latents, values, "var_x-var_y")))
