"""Write ``report.html`` (claims, groups side by side, seeds aggregated), a page per run, and ``metrics.json``.

Sections are rendered from the steps' declarations (``STEPS``): a summary key that names no metric
raises, a metric that does not apply shows "n/a" with the reason. Everything is rendered into a
staging directory first and moved into place file by file with ``os.replace``, so an interrupted
analysis never leaves a half-written report or metrics file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from heatmap_latent.analysis.figures import error_histogram
from heatmap_latent.analysis.grouping import Group
from heatmap_latent.analysis.step import Figure, NotApplicable, Step, lookup
from heatmap_latent.core.plotting import plt
from heatmap_latent.study.claims import RULE
from heatmap_latent.study.steps import STEPS

if TYPE_CHECKING:
    from heatmap_latent.analysis.pipeline import RunAnalysis

STYLE = """
:root{--ink:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#f7f8fa;--accent:#2f5fb3}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);margin:0;background:#fff}
nav{position:fixed;top:0;left:0;width:230px;height:100vh;overflow:auto;padding:1.2em 1em;background:var(--bg);
border-right:1px solid var(--line);font-size:13px}
nav a{display:block;color:var(--ink);text-decoration:none;padding:2px 0}
nav a:hover{color:var(--accent)}nav .sub{padding-left:1em;color:var(--muted)}
main{margin-left:250px;padding:1em 2em 4em;max-width:1500px}h1{font-size:1.6em;margin:.3em 0}
h2{border-bottom:2px solid var(--line);padding-bottom:.2em;margin-top:2em}h3{margin:1.4em 0 .4em;color:#333}
p.lead{color:var(--muted);margin-top:0}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:13.5px}
td,th{border-bottom:1px solid var(--line);padding:4px 10px;text-align:right;vertical-align:top}
th{background:var(--bg);font-weight:600}td:first-child,th:first-child{text-align:left}
td.text,th.text{text-align:left}.seeds{display:block;color:var(--muted);font-size:11.5px}
.na{color:var(--muted);font-style:italic}
.verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.holds{background:#dcf2e3;color:#17622f}.does-not-hold{background:#fbe0df;color:#8f1d17}
.mixed{background:#fdf0d2;color:#7a5300}.not-measured{background:#eceef2;color:#5b6475}
.ok{color:#17622f}.bad{color:#8f1d17}
.grid{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
figure{margin:.6em 0;flex:1 1 420px;max-width:100%}figure.wide{flex-basis:100%}
figcaption{color:var(--muted);font-size:12.5px}img{max-width:100%}
code{background:var(--bg);padding:0 4px;border-radius:3px;font-size:90%}
details{margin:.3em 0 1em}summary{cursor:pointer;color:var(--accent)}
"""
VERDICT_CLASS = {"holds": "holds", "does not hold": "does-not-hold", "mixed": "mixed", "not measured": "not-measured"}


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return html.escape(str(value))
    return f"{value:.4g}"


def _stats_cell(stats: dict[str, Any] | None, na: NotApplicable | None = None) -> str:
    if na is not None:
        return f"<span class='na' title='{html.escape(na.reason)}'>n/a ({html.escape(na.reason)})</span>"
    if stats is None:
        return "<span class='na'>—</span>"
    head = _num(stats["mean"]) + (f" ± {_num(stats['std'])}" if stats.get("std") is not None else "")
    if stats["n"] > 1:
        per_seed = ", ".join(f"{s}: {_num(v)}" for s, v in zip(stats["seeds"], stats["values"]))
        head += f"<span class='seeds'>seeds {per_seed}</span>"
    return head


def _value_cell(value: Any) -> str:
    return _stats_cell(None, value) if isinstance(value, NotApplicable) else _num(value)


def _verdict(v: str) -> str:
    return f"<span class='verdict {VERDICT_CLASS[v]}'>{html.escape(v)}</span>"


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


class ReportWriter:
    """Renders figures once into a staging directory, then publishes every page atomically."""

    def __init__(self, out_dir: Path, figures: bool = True) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        self.with_figures = figures
        self._rendered: dict[str, tuple[str | bytes, bool]] = {}  # stem -> (plotly div or PNG bytes, is plotly)

    def render(self, build: Any, stem: str, embed: bool) -> tuple[str, bool]:
        """The figure's HTML: plotly as a div; matplotlib as a PNG in figures/, inline when ``embed``.

        ``build()`` makes the figure; it is called once per ``stem`` however many pages show it.
        """
        if stem not in self._rendered:
            fig = build()
            if isinstance(fig, go.Figure):
                self._rendered[stem] = (fig.to_html(full_html=False, include_plotlyjs=False), True)
            else:
                data = _png(fig)
                (self.staging / "figures").mkdir(exist_ok=True)
                (self.staging / "figures" / f"{stem}.png").write_bytes(data)
                self._rendered[stem] = ("", False)
        body, plotly = self._rendered[stem]
        if plotly:
            return body, True
        path = self.staging / "figures" / f"{stem}.png"
        src = (
            "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
            if embed
            else f"../figures/{stem}.png"
        )
        return f'<img alt="{html.escape(stem)}" src="{src}" loading="lazy">', False

    def figure(self, spec: Figure, run_slug: str, embed: bool, label: str | None = None) -> tuple[str, bool]:
        body, plotly = self.render(spec.build, f"{run_slug}_{spec.name}", embed)
        caption = html.escape(spec.caption if label is None else f"{label}: {spec.caption}")
        wide = " class=wide" if spec.wide else ""
        return f"<figure{wide}>{body}<figcaption>{caption}</figcaption></figure>", plotly

    def page(self, rel: str, title: str, nav: str, body: str, plotly: str | None) -> None:
        """``plotly``: None (no interactive figure), ``embed`` (plotly.js inline) or a relative script path."""
        script = ""
        if plotly == "embed":
            script = f"<script>{get_plotlyjs()}</script>"
        elif plotly:
            script = f"<script src='{plotly}'></script>"
        page = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{STYLE}</style>{script}</head>"
            f"<body><nav>{nav}</nav><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
        )
        target = self.staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page)

    def publish(self, metrics: dict[str, Any]) -> Path:
        (self.staging / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_default))
        for path in sorted(self.staging.rglob("*")):
            if path.is_file():
                target = self.out_dir / path.relative_to(self.staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
        shutil.rmtree(self.staging)
        return self.out_dir / "report.html"

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _claims_section(claims: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{c['id']}</td><td class='text'><a href='#claim-{c['id']}'>{html.escape(c['statement'])}</a></td>"
        f"<td class='text'>{_verdict(c['verdict'])}</td></tr>"
        for c in claims
    )
    parts = [
        "<h2 id='claims'>Claims</h2>",
        f"<p class='lead'>Each verdict is computed from the numbers below, over seeds. {html.escape(RULE)}</p>",
        "<table id='claims-table'><tr><th>#</th><th class='text'>claim</th><th class='text'>verdict</th></tr>"
        f"{rows}</table>",
    ]
    for c in claims:
        parts.append(
            f"<h3 id='claim-{c['id']}'>{c['id']}. {html.escape(c['statement'])} {_verdict(c['verdict'])}</h3>"
            f"<p class='lead'>Measured: {html.escape(c['measured'])}</p>"
        )
        body = []
        for comp in c["comparisons"]:
            sides = []
            for side in (comp["left"], comp["right"]):
                stats = {**side, "n": len(side["values"]), "seeds": comp["seeds"]} if side["values"] else None
                sides.append(f"{html.escape(side['label'])}: {_stats_cell(stats)}")
            marks = " ".join(
                f"<span class='{'ok' if ok else 'bad'}'>{s}{'✓' if ok else '✗'}</span>"
                for s, ok in zip(comp["seeds"], comp["per_seed"])
            )
            reason = f"<span class='seeds'>{html.escape(comp['reason'])}</span>" if comp.get("reason") else ""
            body.append(
                f"<tr><td class='text'>{html.escape(comp['label'])}</td><td class='text'>{sides[0]}</td>"
                f"<td>{html.escape(comp['relation'])}</td><td class='text'>{sides[1]}</td>"
                f"<td class='text'>{marks}</td><td class='text'>{_verdict(comp['verdict'])}{reason}</td></tr>"
            )
        parts.append(
            "<table><tr><th class='text'>comparison</th><th class='text'>left (mean ± std, per seed)</th><th></th>"
            "<th class='text'>right</th><th class='text'>per seed</th><th class='text'>verdict</th></tr>"
            + "".join(body)
            + "</table>"
        )
    return "".join(parts)


def _groups_section(groups: list[Group], run_links: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td class='text'>{html.escape(g.label)}</td><td class='text'><code>{html.escape(g.role)}</code></td>"
        f"<td class='text'>{html.escape(', '.join(f'{k}={v}' for k, v in g.keys.items()) or '—')}</td>"
        f"<td>{len(g.runs)}</td><td class='text'>{', '.join(map(str, g.seeds))}</td>"
        f"<td class='text'>{', '.join(run_links[r] for r in g.runs)}</td></tr>"
        for g in groups
    )
    return (
        "<h2 id='groups'>Groups</h2><p class='lead'>Runs are pooled only when their configs are equal except "
        "for the seed and output paths; the keys column names what tells each group from the others.</p>"
        "<table><tr><th class='text'>group</th><th class='text'>model@data</th><th class='text'>keys</th><th>n</th>"
        f"<th class='text'>seeds</th><th class='text'>runs</th></tr>{rows}</table>"
    )


def _cell(step: Step, key: str, group: Group, metrics: dict[str, dict[str, Any]]) -> str:
    """A group's statistics of ``step.key``; n/a with the reason; a key that names nothing raises."""
    value = lookup(metrics[group.runs[0]], f"{step.name}.{key}")
    if isinstance(value, NotApplicable):
        return _stats_cell(None, value)
    return _stats_cell(group.metrics.get(f"{step.name}.{key}"))


def _by_dataset(groups: list[Group]) -> dict[str, list[Group]]:
    out: dict[str, list[Group]] = {}
    for g in groups:
        out.setdefault(g.data, []).append(g)
    return out


def _explorer_link(name: str | None, prefix: str) -> str:
    return f"<a href='{prefix}{name}'>decode any point</a>" if name else "—"


def _run_page(writer: ReportWriter, a: RunAnalysis, slug: str, steps: Sequence[Step], explorer: str | None) -> bool:
    """``runs/<slug>.html``: every metric and figure of one run; returns whether it has plotly figures."""
    nav = "<a href='../report.html'>← study report</a>" + "".join(
        f"<a href='#{s.name}'>{html.escape(s.title)}</a>" for s in steps
    )
    m = a.metrics
    parts = [
        f"<p class='lead'>checkpoint <code>{html.escape(m['run']['checkpoint'])}</code> · seed {m['run']['seed']}"
        f" · overrides <code>{html.escape(' '.join(m['run']['overrides']) or '(none)')}</code>"
        f" · explorer: {_explorer_link(explorer, '../')}</p>"
    ]
    any_plotly = False
    for step in steps:
        parts.append(f"<h2 id='{step.name}'>{html.escape(step.title)}</h2>")
        value = lookup(m, step.name)
        if isinstance(value, NotApplicable):
            parts.append(f"<p class='na'>n/a: {html.escape(value.reason)}</p>")
            continue
        rows = "".join(
            f"<tr><td class='text'>{html.escape(r.label)}</td>"
            f"<td>{_value_cell(lookup(m, f'{step.name}.{r.key}'))}</td></tr>"
            for r in step.summary
        )
        if rows:
            parts.append(f"<table><tr><th class='text'>metric</th><th>value</th></tr>{rows}</table>")
        figs = [f for f in a.figures if f.section == step.name] if writer.with_figures else []
        rendered = [writer.figure(f, slug, embed=False) for f in figs]
        any_plotly |= any(p for _, p in rendered)
        if rendered:
            parts.append("<div class='grid'>" + "".join(h for h, _ in rendered) + "</div>")
    writer.page(f"runs/{slug}.html", a.name, nav, "".join(parts), "../plotly.min.js" if any_plotly else None)
    return any_plotly


def write_report(
    analyses: list[RunAnalysis],
    groups: list[Group],
    claims: list[dict[str, Any]],
    metrics_json: dict[str, Any],
    out_dir: Path,
    title: str,
    figures: bool = True,
    steps: Sequence[Step] = STEPS,
    explorers: dict[str, tuple[str, str]] | None = None,
) -> Path:
    """The study page, one page per run, each run's explorer (``explorers``: run name -> (file name,
    HTML)) and metrics.json; returns the path of ``report.html``."""
    writer = ReportWriter(out_dir, figures)
    explorers = explorers or {}
    try:
        for file_name, text in explorers.values():
            (writer.staging / file_name).write_text(text)
        explorer_files = {run: file_name for run, (file_name, _) in explorers.items()}
        metrics = {a.name: a.metrics for a in analyses}
        by_name = {a.name: a for a in analyses}
        slugs = {a.name: slug(a.name) for a in analyses}
        run_links = {n: f"<a href='runs/{s}.html'>{html.escape(n)}</a>" for n, s in slugs.items()}
        datasets = _by_dataset(groups)
        nav = ["<a href='#claims'>Claims</a>", "<a href='#groups'>Groups</a>"]
        body = [
            f"<p class='lead'>{len(analyses)} runs, {len(groups)} groups. Numbers are mean ± std over seeds "
            "(sample std) with the per-seed values below; each run has its own page.</p>",
            _claims_section(claims),
            _groups_section(groups, run_links),
        ]
        main_plotly = False
        for step in steps:
            nav.append(f"<a href='#{step.name}'>{html.escape(step.title.split(' (')[0])}</a>")
            body.append(f"<h2 id='{step.name}'>{html.escape(step.title)}</h2>")
            for data, gs in datasets.items():
                nav.append(f"<a class='sub' href='#{step.name}-{data}'>{html.escape(data)}</a>")
                head = "".join(f"<th>{html.escape(g.label)}</th>" for g in gs)
                rows = "".join(
                    f"<tr><td class='text'>{html.escape(r.label)}</td>"
                    + "".join(f"<td>{_cell(step, r.key, g, metrics)}</td>" for g in gs)
                    + "</tr>"
                    for r in step.summary
                )
                body.append(f"<h3 id='{step.name}-{data}'>{html.escape(data)}</h3>")
                if rows:
                    body.append(f"<table><tr><th class='text'>metric</th>{head}</tr>{rows}</table>")
                if not figures:
                    continue
                shown = []
                if step.name == "reconstruction":
                    firsts = {g.label: by_name[g.runs[0]] for g in gs}
                    html_, _ = writer.render(
                        lambda firsts=firsts: error_histogram(
                            {k: a.test_errors for k, a in firsts.items()},
                            {k: a.metrics["reconstruction"] for k, a in firsts.items()},
                        ),
                        f"overview_{slug(data)}_error_hist",
                        embed=True,
                    )
                    shown.append(
                        f"<figure class=wide>{html_}<figcaption>Test error of each group's first seed, overlaid; "
                        "dashed: mean, dotted: p99.</figcaption></figure>"
                    )
                for g in gs:
                    a = by_name[g.runs[0]]
                    for f in a.figures:
                        if f.section == step.name and f.overview:
                            fig_html, plotly = writer.figure(
                                f, slugs[a.name], embed=True, label=f"{g.label}, seed {g.seeds[0]}"
                            )
                            main_plotly |= plotly
                            shown.append(fig_html)
                if shown:
                    body.append("<div class='grid'>" + "".join(shown) + "</div>")
        nav.append("<a href='#runs'>Runs</a>")
        body.append(
            "<h2 id='runs'>Runs</h2><table><tr><th class='text'>run</th><th class='text'>explorer</th>"
            "<th class='text'>group</th><th>seed</th><th class='text'>checkpoint</th></tr>"
            + "".join(
                f"<tr><td class='text'>{run_links[n]}</td>"
                f"<td class='text'>{_explorer_link(explorer_files.get(n), '')}</td>"
                f"<td class='text'>{html.escape(g.label)}</td><td>{s}</td>"
                f"<td class='text'><code>{html.escape(metrics[n]['run']['checkpoint'])}</code></td></tr>"
                for g in groups
                for n, s in zip(g.runs, g.seeds)
            )
            + "</table>"
        )
        run_plotly = False
        for a in analyses:
            run_plotly |= _run_page(writer, a, slugs[a.name], steps, explorer_files.get(a.name))
        if run_plotly:
            (writer.staging / "plotly.min.js").write_text(get_plotlyjs())
        writer.page("report.html", title, "".join(nav), "".join(body), "embed" if main_plotly else None)
        return writer.publish(metrics_json)
    except BaseException:
        writer.discard()
        raise
