"""The generic analysis of trained latent spaces: load a run, encode every image once, run steps
(metrics and figures), group runs over seeds. It knows nothing of the heatmap study (``study/``)."""

from heatmap_latent.analysis.loading import LoadedRun, RunLoadError, expand_runs, load_run
from heatmap_latent.analysis.pipeline import RunAnalysis, analyze_run

__all__ = ["LoadedRun", "RunAnalysis", "RunLoadError", "analyze_run", "expand_runs", "load_run"]
