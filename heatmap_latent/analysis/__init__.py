"""Analysis of trained latent spaces: ``analyze(cfg)`` behind ``analyze.py``."""

from heatmap_latent.analysis.loading import RunLoadError, load_run
from heatmap_latent.analysis.run import analyze, analyze_run

__all__ = ["RunLoadError", "analyze", "analyze_run", "load_run"]
