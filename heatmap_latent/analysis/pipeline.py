"""Run analysis steps on a loaded run: encode every image once, run each step, time it."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.analysis.grouping import RunIdentity
from heatmap_latent.analysis.loading import LoadedRun
from heatmap_latent.analysis.step import Figure, Step, not_applicable
from heatmap_latent.analysis.subset import images_record
from heatmap_latent.data.factor_images import split_protocol

log = logging.getLogger(__name__)


@dataclass
class StepsOutput:
    metrics: dict[str, Any]
    figures: list[Figure]
    seconds: dict[str, float]


def run_steps(steps: Sequence[Step], encoded: Any, prefix: str = "") -> StepsOutput:
    """Run every step on ``encoded``, logging ``[i/n]`` and each step's time."""
    metrics: dict[str, Any] = {}
    figures: list[Figure] = []
    seconds: dict[str, float] = {}
    for i, step in enumerate(steps, 1):
        start = time.perf_counter()
        reason = step.not_applicable(encoded)
        if reason is not None:
            metrics[step.name] = not_applicable(reason)
            log.info("%s [%d/%d] %s: n/a (%s)", prefix, i, len(steps), step.title, reason)
            continue
        log.info("%s [%d/%d] %s ...", prefix, i, len(steps), step.title)
        result = step.compute(encoded)
        metrics[step.name] = result.metrics
        figures.extend(result.figures)
        seconds[step.name] = time.perf_counter() - start
        log.info("%s [%d/%d] %s done in %.1f s", prefix, i, len(steps), step.title, seconds[step.name])
    return StepsOutput(metrics, figures, seconds)


@dataclass
class RunAnalysis:
    name: str
    identity: RunIdentity
    metrics: dict[str, Any]
    test_errors: np.ndarray
    figures: list[Figure] = field(default_factory=list)
    latents: np.ndarray | None = None  # every image's code, for the explorer page


def analyze_run(
    run: LoadedRun,
    steps: Sequence[Step],
    n_path: int = 40,
    n_strip: int = 10,
    seed: int = 0,
    scores: Any = None,
    instruments: Any = None,
) -> RunAnalysis:
    """Encode every image (posterior mean) once and run each step on it (``instruments``: the
    analysis's ``conf/analyze.yaml`` section; None: the file's)."""
    start = time.perf_counter()
    encoded = EncodedRun.encode(run, n_path=n_path, n_strip=n_strip, seed=seed, scores=scores, instruments=instruments)
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
            "protocol": split_protocol(float(getattr(run.datamodule, "val_fraction", 0.0))),
            "images": images_record(run.datamodule),
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
    return RunAnalysis(run.name, identity, metrics, encoded.test_reconstruction.errors, done.figures, encoded.latents)
