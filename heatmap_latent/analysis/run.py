"""``analyze(cfg)``: load runs, run the analysis steps on each, group them, test the claims, report."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf

from heatmap_latent.analysis.claims import RULE, evaluate, study_claims
from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.analysis.groups import Group, RunIdentity, group_runs
from heatmap_latent.analysis.loading import LoadedRun, RunLoadError, load_run
from heatmap_latent.analysis.report import slug, write_report
from heatmap_latent.analysis.step import Figure, Step, run_steps
from heatmap_latent.analysis.steps import STEPS
from heatmap_latent.jobs import read_record

log = logging.getLogger(__name__)


@dataclass
class RunAnalysis:
    name: str
    identity: RunIdentity
    metrics: dict[str, Any]
    test_errors: np.ndarray
    figures: list[Figure] = field(default_factory=list)
    latents: np.ndarray | None = None  # every image's code, for the explorer page


def expand_runs(entries: Sequence[str]) -> list[Path]:
    """Run directories or checkpoints as given; a sweep directory expands to its completed jobs.

    A job of a sweep whose ``job.json`` does not say ``completed`` (failed, interrupted, or still
    training) is left out with a warning: its checkpoint is not a converged model.
    """
    runs: list[Path] = []
    for entry in entries:
        path = Path(str(entry)).expanduser()
        if path.is_dir() and not (path / ".hydra").is_dir():
            jobs = sorted((p for p in path.iterdir() if (p / ".hydra").is_dir()), key=lambda p: (len(p.name), p.name))
            done = [j for j in jobs if (read_record(j) or {}).get("status") == "completed"]
            if len(done) < len(jobs):
                left = ", ".join(j.name for j in jobs if j not in done)
                log.warning("%s: leaving out jobs %s (not completed; finish them with resume=true)", path, left)
            if jobs:
                runs.extend(done)
                continue
        runs.append(path)
    if not runs:
        raise RunLoadError(f"no completed run in {', '.join(map(str, entries))}")
    return runs


def analyze_run(run: LoadedRun, steps: Sequence[Step] = STEPS, n_path: int = 40, n_strip: int = 10, seed: int = 0):
    """Encode every image (posterior mean) once and run each step on it."""
    start = time.perf_counter()
    encoded = EncodedRun.encode(run, n_path=n_path, n_strip=n_strip, seed=seed)
    encode_s = time.perf_counter() - start
    done = run_steps(steps, encoded, prefix=run.name)
    run_seed = int(run.cfg.seed)
    metrics = {
        "run": {
            "name": run.name,
            "run_dir": str(run.run_dir),
            "checkpoint": str(run.checkpoint),
            "model": run.choices["model"],
            "model_class": type(run.model).__name__,
            "data": run.choices["data"],
            "seed": run_seed,
            "overrides": list(run.overrides),
        },
        **done.metrics,
        "timing": {"encode_s": encode_s, **{f"{k}_s": v for k, v in done.seconds.items()}},
    }
    metrics["timing"]["total_s"] = time.perf_counter() - start
    identity = RunIdentity(
        run.name,
        run_seed,
        run.choices["model"],
        run.choices["data"],
        run.overrides,
        OmegaConf.to_container(run.cfg, resolve=False),
    )
    return RunAnalysis(run.name, identity, metrics, encoded.test_reconstruction[2], done.figures, encoded.latents)


def _entries(cfg: DictConfig) -> list[str]:
    given = {k: cfg.get(k) for k in ("run", "study", "compare") if cfg.get(k) is not None}
    if len(given) != 1:
        raise RunLoadError("give exactly one of run=PATH, study=PATH (a multirun directory) or study=[PATH,PATH,...]")
    value = next(iter(given.values()))
    return [str(v) for v in value] if isinstance(value, (list, ListConfig)) else [str(value)]


def _unique_names(loaded: list[LoadedRun]) -> None:
    """Two runs named alike (job 0 of two sweeps): prefix the sweep directory's name."""
    seen: dict[str, int] = {}
    for run in loaded:
        seen[run.name] = seen.get(run.name, 0) + 1
    for run in loaded:
        if seen[run.name] > 1:
            run.name = f"{run.name[: run.name.rindex('(')]}({run.run_dir.parent.name}/{run.run_dir.name})"


def analyze(cfg: DictConfig) -> dict[str, Any]:
    """Analyse the runs of ``cfg.run`` / ``cfg.study`` into ``cfg.output_dir``; returns metrics.json's content."""
    runs = expand_runs(_entries(cfg))
    loaded = [load_run(path, cfg.checkpoint) for path in runs]  # every run loads before any output is written
    _unique_names(loaded)
    analyses = [analyze_run(run, n_path=cfg.n_path, n_strip=cfg.n_strip, seed=cfg.seed) for run in loaded]
    metrics = {a.name: a.metrics for a in analyses}
    groups: list[Group] = group_runs([a.identity for a in analyses], metrics)
    claims = evaluate(study_claims(cfg.claims), groups, metrics)
    result = {
        "runs": metrics,
        "groups": [g.to_json() for g in groups],
        "claims_rule": RULE,
        "claims": claims,
    }
    title = analyses[0].name if len(analyses) == 1 else f"{len(analyses)} runs in {len(groups)} groups"
    explorers = {}
    if cfg.explorer:  # each run's offline latent explorer, next to the report
        # imported here: the explorer builds on this package (loading, realism, study paths)
        from heatmap_latent.explorer.page import explorer_data, explorer_html

        for run, a in zip(loaded, analyses):
            name = "explorer.html" if len(loaded) == 1 else f"explorer_{slug(a.name)}.html"
            explorers[a.name] = (name, explorer_html(explorer_data(run, a.latents, cfg.n_path)))
    report = write_report(
        analyses,
        groups,
        claims,
        result,
        Path(cfg.output_dir),
        f"heatmap-latent: {title}",
        figures=cfg.figures,
        explorers=explorers,
    )
    log.info("report: %s", report)
    for claim in claims:
        log.info("claim %d: %s (%s)", claim["id"], claim["verdict"], claim["statement"])
    return result
