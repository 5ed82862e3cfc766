"""Write ``report.html`` (claims, groups side by side, seeds aggregated), a page per run, and ``metrics.json``.

The pages are jinja2 templates (``templates/``, autoescaped, so a run named ``<b>`` shows as text).
Sections are rendered from the steps' declarations (the ``steps`` the entry point passes, a study's
own among them; this module knows no study): a summary key that names no metric
raises, a metric that does not apply shows "n/a" with the reason. Every page and figure is rendered
in memory first and then written file by file with the atomic writer, ``report.html`` last, so an
analysis that fails midway leaves the previous report as it was.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from heatmap_latent.analysis.grouping import Group
from heatmap_latent.analysis.pipeline import RunAnalysis
from heatmap_latent.analysis.step import Animation, Figure, NotApplicable, Step, lookup
from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.plotting import plt

VERDICT_CLASS = {
    "holds": "holds",
    "refuted": "refuted",
    "inconclusive": "inconclusive",
    "mixed": "mixed",
    "too few seeds": "too-few-seeds",
    "not measured": "not-measured",
}

# a comparison with one of these verdicts reached none: a report where every comparison has one leads
# with its runs and says in one block what a verdict needs
UNREACHED = ("not measured", "too few seeds")


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def _num(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_num(v) for v in value) or "none"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    return f"{value:.4g}"


def claim_key(claim: dict[str, Any]) -> str:
    """A claim's anchor: its id, and which reading where it is measured more than one way."""
    if not claim.get("reading"):
        return str(claim["id"])
    return f"{claim['id']}-{'study' if claim.get('study_reading') else 'project'}"


def _side_stats(side: dict[str, Any], seeds: list[int]) -> dict[str, Any] | None:
    """One side of a claim's comparison as the statistics a stats cell shows (a constant: its value)."""
    if not side["values"]:
        return None
    if side.get("constant"):
        return {"mean": side["values"][0], "std": None, "n": 1}
    return {**side, "n": len(side["values"]), "seeds": seeds}


TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("heatmap_latent.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
)
TEMPLATES.filters.update(
    num=_num, verdict_class=VERDICT_CLASS.__getitem__, side_stats=_side_stats, zip=zip, claim_key=claim_key
)
TEMPLATES.tests["not_applicable"] = lambda value: isinstance(value, NotApplicable)
STYLE = Markup((Path(__file__).parent / "templates" / "report.css").read_text())


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


@dataclass(frozen=True)
class RenderedFigure:
    body: Markup  # a plotly div or an <img>
    caption: str
    wide: bool
    plotly: bool


class ReportWriter:
    """Renders every page and figure in memory (each figure once), then publishes them atomically."""

    def __init__(self, out_dir: Path, figures: bool = True) -> None:
        self.out_dir = Path(out_dir)
        self.with_figures = figures
        self.files: dict[str, str | bytes] = {}  # path relative to out_dir -> content
        self._rendered: dict[str, tuple[Markup, bool]] = {}  # stem -> (plotly div or "", is plotly)

    def render(self, build: Any, stem: str, embed: bool) -> tuple[Markup, bool]:
        """The figure's HTML: plotly as a div; matplotlib as a PNG in figures/, inline when ``embed``.

        ``build()`` makes the figure; it is called once per ``stem`` however many pages show it.
        """
        if stem not in self._rendered:
            fig = build()
            if isinstance(fig, go.Figure):
                self._rendered[stem] = (Markup(fig.to_html(full_html=False, include_plotlyjs=False)), True)
            elif isinstance(fig, Animation):
                self.files[f"figures/{stem}.gif"] = fig.gif
                self._rendered[stem] = (Markup("gif"), False)
            else:
                self.files[f"figures/{stem}.png"] = _png(fig)
                self._rendered[stem] = (Markup(""), False)
        body, plotly = self._rendered[stem]
        if plotly:
            return body, True
        kind = "gif" if body == "gif" else "png"
        data = self.files[f"figures/{stem}.{kind}"]
        inline = f"data:image/{kind};base64," + base64.b64encode(data).decode()
        src = inline if embed else f"../figures/{stem}.{kind}"
        return Markup('<img alt="{}" src="{}" loading="lazy">').format(stem, src), False

    def figure(self, spec: Figure, run_slug: str, embed: bool, label: str | None = None) -> RenderedFigure:
        body, plotly = self.render(spec.build, f"{run_slug}_{spec.name}", embed)
        caption = spec.caption if label is None else f"{label}: {spec.caption}"
        return RenderedFigure(body, caption, spec.wide, plotly)

    def page(self, rel: str, template: str, title: str, plotly: str | None, **context: Any) -> None:
        """``plotly``: None (no interactive figure), ``embed`` (plotly.js inline) or a relative script path."""
        plotly_js = Markup(get_plotlyjs()) if plotly == "embed" else ""
        self.files[rel] = TEMPLATES.get_template(template).render(
            title=title, style=STYLE, plotly=plotly, plotly_js=plotly_js, **context
        )

    def publish(self, metrics: dict[str, Any]) -> Path:
        """Write every file atomically, metrics.json and then report.html last."""
        self.files["metrics.json"] = json.dumps(metrics, indent=2, default=_json_default)
        report = self.files.pop("report.html", None)
        for rel, content in self.files.items():
            write_atomic(self.out_dir / rel, content)
        if report is not None:
            write_atomic(self.out_dir / "report.html", report)
        return self.out_dir / "report.html"


@dataclass(frozen=True)
class Cell:
    """A group's statistics of one metric, or why it does not apply."""

    stats: dict[str, Any] | None
    na: NotApplicable | None = None


def _cell(step: Step, key: str, group: Group, metrics: dict[str, dict[str, Any]]) -> Cell:
    """A group's statistics of ``step.key``; n/a with the reason; a key that names nothing raises."""
    value = lookup(metrics[group.runs[0]], f"{step.name}.{key}")
    if isinstance(value, NotApplicable):
        return Cell(None, value)
    return Cell(group.metrics.get(f"{step.name}.{key}"))


def _weakest(claim: dict[str, Any]) -> dict[str, Any] | None:
    """The measured comparison whose interval clears its minimum effect by the least (or misses it
    by the most): what a claims-by-conditions cell shows beside the verdict."""
    measured = [c for c in claim["comparisons"] if "ci95" in c["effect"]]
    if not measured:
        return None
    return min(measured, key=lambda c: c["effect"]["ci95"][0] - c["effect"]["min_effect"])


def _claims_by_condition(claims: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(conditions, rows)``: each condition with its claims, and one row per claim (and reading)
    with its result in each condition."""
    conditions: dict[str, list[dict[str, Any]]] = {}
    rows: dict[str, dict[str, Any]] = {}
    for claim in claims:
        condition = claim.get("condition", "all runs")
        conditions.setdefault(condition, []).append(claim)
        row = rows.setdefault(claim_key(claim), {"key": claim_key(claim), "claim": claim, "cells": {}})
        row["cells"][condition] = {"claim": claim, "weakest": _weakest(claim)}
    listed = [{"label": label, "slug": slug(label), "claims": cs} for label, cs in conditions.items()]
    return listed, list(rows.values())


def _not_applicable(run_metrics: dict[str, Any], step: Step) -> bool:
    try:
        return isinstance(lookup(run_metrics, step.name), NotApplicable)
    except KeyError:  # a step this run did not run
        return True


def _by_dataset(groups: list[Group]) -> dict[str, list[Group]]:
    out: dict[str, list[Group]] = {}
    for g in groups:
        out.setdefault(g.data, []).append(g)
    return out


def _run_page(writer: ReportWriter, a: RunAnalysis, slug: str, steps: Sequence[Step], explorer: str | None) -> bool:
    """``runs/<slug>.html``: every metric and figure of one run; returns whether it has plotly figures."""
    m = a.metrics
    sections = []
    any_plotly = False
    for step in steps:
        value = lookup(m, step.name)
        if isinstance(value, NotApplicable):
            sections.append({"name": step.name, "title": step.title, "na": value})
            continue
        rows = [(r.label, lookup(m, f"{step.name}.{r.key}")) for r in step.rows(m)]
        figs = [f for f in a.figures if f.section == step.name] if writer.with_figures else []
        rendered = [writer.figure(f, slug, embed=False) for f in figs]
        any_plotly |= any(f.plotly for f in rendered)
        sections.append({"name": step.name, "title": step.title, "na": None, "rows": rows, "figures": rendered})
    writer.page(
        f"runs/{slug}.html",
        "run.html.j2",
        a.name,
        "../plotly.min.js" if any_plotly else None,
        run=m["run"],
        explorer=explorer,
        sections=sections,
    )
    return any_plotly


def _sections(
    writer: ReportWriter, analyses: list[RunAnalysis], groups: list[Group], steps: Sequence[Step]
) -> tuple[list[dict[str, Any]], bool]:
    """One section per step, one table per dataset with its groups side by side, and the overview
    figures of each group's first seed; returns them and whether any figure is plotly."""
    figures = writer.with_figures
    metrics = {a.name: a.metrics for a in analyses}
    by_name = {a.name: a for a in analyses}
    slugs = {a.name: slug(a.name) for a in analyses}
    datasets = _by_dataset(groups)
    sections = []
    main_plotly = False
    for step in steps:
        section = {"name": step.name, "title": step.title, "short_title": step.title.split(" (")[0], "datasets": []}
        for data, gs in datasets.items():
            if all(_not_applicable(metrics[g.runs[0]], step) for g in gs):
                continue  # a step of another dataset (the heatmap study's beside one's own): not a row of n/a
            shown_rows = step.rows(*(metrics[run] for g in gs for run in g.runs))
            rows = [{"label": r.label, "cells": [_cell(step, r.key, g, metrics) for g in gs]} for r in shown_rows]
            shown: list[RenderedFigure] = []
            if figures and step.group_figure is not None:
                overview = step.group_figure
                firsts = {g.label: by_name[g.runs[0]] for g in gs}
                body, _ = writer.render(
                    lambda build=overview.build, firsts=firsts: build(firsts),
                    f"overview_{slug(data)}_{overview.name}",
                    embed=True,
                )
                shown.append(RenderedFigure(body, overview.caption, True, False))
            for g in gs if figures else ():
                a = by_name[g.runs[0]]
                for f in a.figures:
                    if f.section == step.name and f.overview:
                        rendered = writer.figure(f, slugs[a.name], embed=True, label=f"{g.label}, seed {g.seeds[0]}")
                        main_plotly |= rendered.plotly
                        shown.append(rendered)
            section["datasets"].append(
                {"name": data, "group_labels": [g.label for g in gs], "rows": rows, "figures": shown}
            )
        if section["datasets"]:
            sections.append(section)
    return sections, main_plotly


def write_report(
    analyses: list[RunAnalysis],
    groups: list[Group],
    claims: list[dict[str, Any]],
    metrics_json: dict[str, Any],
    out_dir: Path,
    title: str,
    figures: bool = True,
    *,
    steps: Sequence[Step],
    rule: str = "",
    claims_need: str = "",
    claims_commands: Sequence[str] = (),
    placebo: dict[str, Any] | None = None,
    dose_response: list[dict[str, Any]] | None = None,
    oracles: list[dict[str, Any]] | None = None,
    explorers: dict[str, tuple[str, str]] | None = None,
) -> Path:
    """The study page, one page per run, each run's explorer (``explorers``: run name -> (file name,
    HTML)) and metrics.json; returns the path of ``report.html``. ``steps``: the sections, in order;
    ``rule``: how the claims' verdicts are decided, in words (the study's, shown above its claims).

    Claims where a verdict was reached lead the page; where none was (one run, a missing group, too few
    seeds) they follow the runs' sections as one short block: what a verdict needs (``claims_need``) and
    the commands that train and analyse it (``claims_commands``). No claims: no claims section."""
    writer = ReportWriter(out_dir, figures)
    explorers = explorers or {}
    for file_name, text in explorers.values():
        writer.files[file_name] = text
    explorer_files = {run: file_name for run, (file_name, _) in explorers.items()}
    metrics = {a.name: a.metrics for a in analyses}
    slugs = {a.name: slug(a.name) for a in analyses}
    sections, main_plotly = _sections(writer, analyses, groups, steps)
    runs = [
        {
            "name": n,
            "slug": slugs[n],
            "explorer": explorer_files.get(n),
            "group": g.label,
            "seed": s,
            "checkpoint": metrics[n]["run"]["checkpoint"],
            "protocol": metrics[n]["run"].get("protocol", "not recorded"),
            "usage": metrics[n].get("latent_usage"),
            "latent_dim": metrics[n].get("latent", {}).get("latent_dim"),
        }
        for g in groups
        for n, s in zip(g.runs, g.seeds)
    ]
    conditions, claim_rows = _claims_by_condition(claims)
    run_plotly = False
    for a in analyses:
        run_plotly |= _run_page(writer, a, slugs[a.name], steps, explorer_files.get(a.name))
    if run_plotly:
        writer.files["plotly.min.js"] = get_plotlyjs()
    writer.page(
        "report.html",
        "report.html.j2",
        title,
        "embed" if main_plotly else None,
        n_runs=len(analyses),
        groups=groups,
        conditions=conditions,
        claim_rows=claim_rows,
        sensitivity=metrics_json.get("sensitivity", []),
        variants=list(metrics_json["sensitivity"][0]["variants"]) if metrics_json.get("sensitivity") else [],
        rule=rule,
        claims_first=any(c["verdict"] not in UNREACHED for claim in claims for c in claim["comparisons"]),
        claims_need=claims_need,
        claims_commands=list(claims_commands),
        placebo=placebo,
        dose_response=dose_response or [],
        oracles=oracles or [],
        sections=sections,
        runs=runs,
        run_slugs=slugs,
    )
    return writer.publish(metrics_json)
