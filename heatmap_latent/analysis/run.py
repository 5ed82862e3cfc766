"""``analyze(cfg)``: load one run or several, analyse each, write one report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig

from heatmap_latent.analysis.loading import RunLoadError, load_run
from heatmap_latent.analysis.report import write_report
from heatmap_latent.analysis.study import analyze_run

log = logging.getLogger(__name__)


def expand_runs(entries: list[str]) -> list[Path]:
    """Run directories or checkpoints as given; a sweep directory expands to its job directories."""
    runs: list[Path] = []
    for entry in entries:
        path = Path(str(entry)).expanduser()
        if path.is_dir() and not (path / ".hydra").is_dir():
            jobs = sorted((p for p in path.iterdir() if (p / ".hydra").is_dir()), key=lambda p: p.name)
            if jobs:
                runs.extend(jobs)
                continue
        runs.append(path)
    return runs


def analyze(cfg: DictConfig) -> dict[str, Any]:
    """Analyse ``cfg.run`` (one run) or ``cfg.compare`` (several) into ``cfg.output_dir``."""
    if (cfg.get("run") is None) == (cfg.get("compare") is None):
        raise RunLoadError("give exactly one of run=PATH or compare=[PATH_A,PATH_B,...]")
    compare = cfg.get("compare")
    if compare is not None and not isinstance(compare, (list, ListConfig)):
        compare = [compare]
    runs = expand_runs([cfg.run] if compare is None else list(compare))
    loaded = [load_run(path, cfg.checkpoint) for path in runs]  # every run loads before any output is written
    analyses = [analyze_run(run, n_path=cfg.n_path, n_strip=cfg.n_strip, seed=cfg.seed) for run in loaded]
    title = analyses[0].name if len(analyses) == 1 else "comparison: " + ", ".join(a.name for a in analyses)
    report = write_report(analyses, Path(cfg.output_dir), f"heatmap-latent analysis — {title}")
    log.info("report: %s", report)
    if len(analyses) == 1:
        return analyses[0].metrics
    return {"runs": {a.name: a.metrics for a in analyses}}
