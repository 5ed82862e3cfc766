"""An analysis step: a named function of an encoded run that returns its metrics and its figures.

``analyze_run`` runs a list of steps and times each; the report renders one section per step, its
summary rows from the step's declared ``summary`` keys. Figures are recipes (``build``) that are
only called when figures are rendered, so ``figures=false`` computes the metrics alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

NA_KEY = "not_applicable"


@dataclass(frozen=True)
class Figure:
    """One figure of a step: ``build()`` makes the matplotlib or plotly figure on demand."""

    name: str
    caption: str
    section: str
    build: Callable[[], Any]
    overview: bool = False  # also shown on the study page, the groups side by side
    wide: bool = False  # takes a whole row of the page (decoded strips, interactive 3-D)


@dataclass
class StepResult:
    metrics: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)


@dataclass(frozen=True)
class SummaryRow:
    """A row of the summary tables: ``key`` is a dotted path inside the step's metrics."""

    key: str
    label: str


@dataclass(frozen=True)
class Step:
    name: str  # the step's key in metrics.json and its report section's anchor
    title: str
    compute: Callable[[Any], StepResult]
    summary: tuple[SummaryRow, ...] = ()
    not_applicable: Callable[[Any], str | None] = lambda encoded: None  # why the step does not apply


@dataclass(frozen=True)
class NotApplicable:
    """A metric that does not apply to a run, and why."""

    reason: str


def not_applicable(reason: str) -> dict[str, str]:
    """The metrics of a step (or of a part of one) that does not apply to this run."""
    return {NA_KEY: reason}


class MissingMetric(KeyError):
    """A summary key that names no metric of an applicable step: a bug in the step's declaration."""


def lookup(metrics: dict[str, Any], dotted: str) -> Any:
    """The value at ``a.b.c``; ``NotApplicable`` where a step or part on the way does not apply.

    Raises ``MissingMetric`` where the key names nothing, so a typo cannot pass for "n/a".
    """
    node: Any = metrics
    for key in dotted.split("."):
        if isinstance(node, dict) and NA_KEY in node:
            return NotApplicable(node[NA_KEY])
        if not isinstance(node, dict) or key not in node:
            raise MissingMetric(f"{dotted!r} names no metric (no {key!r})")
        node = node[key]
    if isinstance(node, dict) and NA_KEY in node:
        return NotApplicable(node[NA_KEY])
    return node


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
