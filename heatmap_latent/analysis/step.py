"""What an analysis step declares: a named function of an encoded run that returns its metrics and
its figures, the summary rows the report shows, and when it does not apply.

``pipeline.analyze_run`` runs a list of steps and times each; the report renders one section per
step, its summary rows from the step's declared ``summary`` keys. Figures are recipes (``build``) that are
only called when figures are rendered, so ``figures=false`` computes the metrics alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Animation:
    """What a figure's ``build()`` may return instead of a figure: an animated GIF, shown as is."""

    gif: bytes


@dataclass
class StepResult:
    metrics: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)


PER_FACTOR = "*"  # in a SummaryRow's key: each factor the step's metrics hold, in their order


@dataclass(frozen=True)
class SummaryRow:
    """A row of the summary tables: ``key`` is a dotted path inside the step's metrics.

    A key that starts with ``*.`` is a row per factor: ``*`` stands for each key of the step's metrics
    that holds a dict (the factors a dataset declares, as the step computed them) and ``{}`` in the
    label for its name.
    """

    key: str
    label: str


@dataclass(frozen=True)
class GroupFigure:
    """A figure that puts the groups of one dataset side by side: ``build({group label: the first
    run's analysis})``."""

    name: str
    caption: str
    build: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Step:
    name: str  # the step's key in metrics.json and its report section's anchor
    title: str
    compute: Callable[[Any], StepResult]
    summary: tuple[SummaryRow, ...] = ()
    not_applicable: Callable[[Any], str | None] = lambda encoded: None  # why the step does not apply
    group_figure: GroupFigure | None = None  # shown first in the step's study section
    # metrics that others (a study's claims) may read beyond the summary rows; ``*`` stands for one
    # key (a factor, a path). What a step declares is checked against what it writes (tests)
    outputs: tuple[str, ...] = ()

    @property
    def declared(self) -> tuple[str, ...]:
        """Every metric the step declares, as dotted keys inside the step (``*``: any one key)."""
        return tuple(dict.fromkeys((*(row.key for row in self.summary), *self.outputs)))

    def rows(self, *runs_metrics: dict[str, Any]) -> tuple[SummaryRow, ...]:
        """The summary rows for these runs' metrics: each per-factor row once per factor for which any
        of the runs has that metric (in first-seen order), the others as declared."""
        factors: dict[str, None] = {}
        for metrics in runs_metrics:
            node = metrics.get(self.name)
            if isinstance(node, dict) and NA_KEY not in node:
                factors.update(dict.fromkeys(k for k, v in node.items() if isinstance(v, dict)))
        out: list[SummaryRow] = []
        for row in self.summary:
            if row.key.startswith(PER_FACTOR + "."):
                rest = row.key[len(PER_FACTOR) :]
                held = [
                    name for name in factors if any(_holds(m.get(self.name), f"{name}{rest}") for m in runs_metrics)
                ]
                out += [SummaryRow(f"{name}{rest}", row.label.format(name)) for name in held]
            else:
                out.append(row)
        return tuple(out)


def _holds(node: Any, dotted: str) -> bool:
    """Whether a step's metrics ``node`` hold ``dotted`` (a value, or "n/a" on the way)."""
    try:
        lookup(node if isinstance(node, dict) else {}, dotted)
    except MissingMetric:
        return False
    return True


@dataclass(frozen=True)
class NotApplicable:
    """A metric that does not apply to a run, and why."""

    reason: str


def not_applicable(reason: str) -> dict[str, str]:
    """The metrics of a step (or of a part of one) that does not apply to this run."""
    return {NA_KEY: reason}


class UndeclaredMetric(ValueError):
    """A metric that a claim reads and no step declares (a typo, a renamed output)."""


def check_declared(steps: tuple[Step, ...], dotted: str) -> None:
    """Raise :class:`UndeclaredMetric` unless a step of ``steps`` declares ``dotted``
    (``step.part.part``), where a declared ``*`` matches any one key."""
    name, _, rest = dotted.partition(".")
    step = next((s for s in steps if s.name == name), None)
    if step is None:
        raise UndeclaredMetric(f"{dotted!r}: no step {name!r} (steps: {', '.join(s.name for s in steps)})")
    parts = rest.split(".")
    for pattern in step.declared:
        wanted = pattern.split(".")
        if len(wanted) == len(parts) and all(w in ("*", p) for w, p in zip(wanted, parts)):
            return
    raise UndeclaredMetric(
        f"{dotted!r}: the step {name!r} declares no {rest!r} (its outputs: {', '.join(step.declared)})"
    )


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
