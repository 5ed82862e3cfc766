"""Write ``report.html``, the figures (PNG and interactive HTML) and ``metrics.json``.

Everything is rendered into a staging directory first and then moved into place file by file
with ``os.replace``, so an interrupted analysis never leaves a half-written report or metrics file.
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
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from heatmap_latent.analysis.figures import error_histogram
from heatmap_latent.analysis.study import RunAnalysis
from heatmap_latent.plotting import plt

SUMMARY_KEYS = [
    ("reconstruction.mean", "recon. error: mean"),
    ("reconstruction.median", "recon. error: median"),
    ("reconstruction.p99", "recon. error: p99"),
    ("reconstruction.tail_ratio", "recon. error: p99 / median"),
    ("reconstruction.tail_share", "recon. error: share > 3x median"),
    ("recoverability.var_x.linear_r2", "R^2 var_x (linear)"),
    ("recoverability.var_x.knn_r2", "R^2 var_x (k-NN)"),
    ("recoverability.var_y.linear_r2", "R^2 var_y (linear)"),
    ("recoverability.var_y.knn_r2", "R^2 var_y (k-NN)"),
    ("recoverability.rho.linear_r2", "R^2 rho (linear)"),
    ("recoverability.rho.knn_r2", "R^2 rho (k-NN)"),
    ("disentanglement.mig", "MIG"),
    ("disentanglement.sap", "SAP"),
    ("disentanglement.dci.disentanglement", "DCI disentanglement"),
    ("disentanglement.dci.completeness", "DCI completeness"),
    ("disentanglement.dci.informativeness", "DCI informativeness (R^2)"),
    ("density.nn_median", "NN distance, median (std units)"),
    ("density.empty_share", "share of bounding box empty"),
    ("realism.reconstructions.mean", "realism: reconstructions"),
    ("realism.empty_regions.mean", "realism: empty regions"),
    ("realism.prior_samples.mean", "realism: prior samples"),
    ("trajectories.empty_between_tails.realism_mean", "realism: path between tails"),
    ("df_classifier.accuracy", "df k-NN accuracy"),
    ("df_classifier.f1_macro", "df k-NN F1 (macro)"),
    ("df_classifier.k", "df k-NN: k (by CV)"),
    ("timing.total_s", "analysis time (s)"),
]

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}
figure{margin:1em 0}figcaption{color:#555;font-size:90%}h2{border-bottom:2px solid #ddd}
"""


def lookup(metrics: dict, dotted: str) -> Any:
    node: Any = metrics
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


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
    """Collects HTML sections and files in a staging directory, then publishes them atomically."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        self.parts: list[str] = []
        self._plotly_embedded = False

    def figure(self, fig: Any, name: str, caption: str) -> None:
        if isinstance(fig, go.Figure):
            (self.staging / f"{name}.html").write_text(fig.to_html(include_plotlyjs=True, full_html=True))
            div = fig.to_html(full_html=False, include_plotlyjs=not self._plotly_embedded)
            self._plotly_embedded = True
            link = f' (<a href="{name}.html">open alone</a>)'
            self.parts.append(f"<figure>{div}<figcaption>{html.escape(caption)}{link}</figcaption></figure>")
            return
        data = _png(fig)
        (self.staging / "figures").mkdir(exist_ok=True)
        (self.staging / "figures" / f"{name}.png").write_bytes(data)
        src = "data:image/png;base64," + base64.b64encode(data).decode()
        self.parts.append(
            f'<figure><img alt="{name}" src="{src}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        )

    def html(self, fragment: str) -> None:
        self.parts.append(fragment)

    def publish(self, title: str, metrics: dict[str, Any]) -> Path:
        (self.staging / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_default))
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(self.parts)}</body></html>"
        )
        (self.staging / "report.html").write_text(page)
        for path in sorted(self.staging.rglob("*")):
            if path.is_file():
                target = self.out_dir / path.relative_to(self.staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
        shutil.rmtree(self.staging)
        return self.out_dir / "report.html"

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _run_section(writer: ReportWriter, a: RunAnalysis) -> None:
    slug = _slug(a.name)
    m = a.metrics
    writer.html(
        f"<h2 id='{slug}'>{html.escape(a.name)}</h2><p>checkpoint: <code>{html.escape(m['run']['checkpoint'])}"
        "</code></p>"
    )
    writer.html("<h3>Reconstruction error (test split)</h3>")
    writer.html(_table(["statistic", "value"], [[k, v] for k, v in m["reconstruction"].items()]))
    writer.figure(
        error_histogram({a.name: a.test_errors}, {a.name: m["reconstruction"]}),
        f"{slug}_error_hist",
        "Per-image Frobenius error; dashed: mean, dotted: p99.",
    )
    writer.figure(a.figures["examples"], f"{slug}_examples", a.captions["examples"])
    writer.html("<h3>Latent space</h3>")
    for name in [k for k in a.figures if k.startswith("projection_")]:
        writer.figure(a.figures[name], f"{slug}_{name}", a.captions[name])
    writer.figure(a.figures["latent_3d"], f"{slug}_latent_3d", a.captions["latent_3d"])
    writer.html("<h3>Factor recoverability (held-out R^2)</h3>")
    writer.html(
        _table(
            ["factor", "linear R^2", "k-NN R^2"],
            [[k, v["linear_r2"], v["knn_r2"]] for k, v in m["recoverability"].items()],
        )
    )
    d = m["disentanglement"]
    writer.html(
        "<h3>Disentanglement</h3>"
        + _table(
            ["MIG", "SAP", "DCI disentanglement", "DCI completeness", "DCI informativeness"],
            [[d["mig"], d["sap"], d["dci"]["disentanglement"], d["dci"]["completeness"], d["dci"]["informativeness"]]],
        )
    )
    writer.html(
        "<h3>Latent density (standardised codes)</h3>"
        + _table(["statistic", "value"], [[k, v] for k, v in m["density"].items()])
    )
    r = m["realism"]
    writer.html(
        "<h3>Decoded realism</h3><p>Frobenius distance from a decoded image to the exact heatmap of the "
        "factors fitted to it (0 for a perfect ellipse).</p>"
        + _table(
            ["decoded from", "mean", "median", "p90"],
            [[k, v["mean"], v["median"], v["p90"]] for k, v in r.items() if isinstance(v, dict)]
            + [
                [f"path: {k}", v["realism_mean"], None, None]
                for k, v in m["trajectories"].items()
                if isinstance(v, dict) and "realism_mean" in v
            ],
        )
    )
    writer.html(
        f"<h3>Decoded trajectories</h3><p>The latent axis that tracks rho: z{m['trajectories']['rho_axis']}.</p>"
    )
    for name in [k for k in a.figures if k.startswith("path_")]:
        writer.figure(a.figures[name], f"{slug}_{name}", a.captions[name])
    if "df_classifier" in m:
        writer.html(
            "<h3>k-NN classifier of df from the code (test split)</h3>"
            + _table(["statistic", "value"], [[k, v] for k, v in m["df_classifier"].items()])
        )


def write_report(analyses: list[RunAnalysis], out_dir: Path, title: str) -> Path:
    """One report over one or more analysed runs; returns the path of ``report.html``."""
    writer = ReportWriter(out_dir)
    try:
        names = [a.name for a in analyses]
        writer.html(
            "<h2>Summary</h2>"
            + _table(
                ["metric", *names],
                [[label, *(lookup(a.metrics, key) for a in analyses)] for key, label in SUMMARY_KEYS],
            )
        )
        if len(analyses) > 1:
            writer.figure(
                error_histogram(
                    {a.name: a.test_errors for a in analyses}, {a.name: a.metrics["reconstruction"] for a in analyses}
                ),
                "compare_error_hist",
                "Test reconstruction error of every run, overlaid.",
            )
        for a in analyses:
            _run_section(writer, a)
        metrics = analyses[0].metrics if len(analyses) == 1 else {"runs": {a.name: a.metrics for a in analyses}}
        return writer.publish(title, metrics)
    except BaseException:
        writer.discard()
        raise
