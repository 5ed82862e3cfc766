"""A study's results as an artefact: ``results.json``, written by ``analyze.py study=...`` beside
``metrics.json``, holds per comparison its per-seed values and effects and its verdict, per claim its
verdict, the verdict digest (``study/digest.py``), the code version and the CPU, and the placebo,
dose-response and known-answer tables when the analysis has them. The repository keeps the study's
results under ``docs/results/``, and the docs' tables are generated from them:

    python -m heatmap_latent.study.results docs/analysis.md

rewrites every block of a Markdown file that opens with ``<!-- results: KIND FILE [FILE ...] -->``
and closes with ``<!-- /results -->`` (``KIND``: verdicts, comparisons, placebo, dose, oracles, anchors
(``analysis/anchors.py``); the files relative to the Markdown file), so no table of results is typed by
hand."""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from heatmap_latent.analysis import anchors
from heatmap_latent.core.errors import UserError, report_user_errors
from heatmap_latent.core.precision import machine
from heatmap_latent.study import dose, oracles
from heatmap_latent.study.verdicts import t_interval
from heatmap_latent.sweeps.frozen import code_version

SIDE_KEYS = ("label", "values")
COMPARISON_KEYS = ("label", "relation", "roles", "seeds", "per_seed", "verdict", "scope")


def _comparison(c: dict[str, Any]) -> dict[str, Any]:
    out = {k: c[k] for k in COMPARISON_KEYS if k in c}
    out |= {side: {k: c[side][k] for k in SIDE_KEYS if k in c[side]} for side in ("left", "right") if side in c}
    effect = c.get("effect") or {}
    out["effect"] = {k: effect[k] for k in ("kind", "per_seed", "mean", "ci95", "min_effect", "margin") if k in effect}
    if "reason" in c:
        out["reason"] = c["reason"]
    return out


def results(metrics: dict[str, Any], digest: dict[str, Any]) -> dict[str, Any]:
    """The compact results of one study analysis (``metrics``: its ``metrics.json`` content)."""
    return {
        "digest": digest,
        "code": code_version(),
        "machine": machine(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "groups": [{"label": g["label"], "seeds": g["seeds"], "runs": g["runs"]} for g in metrics.get("groups", [])],
        "claims": [
            {
                "id": claim["id"],
                "reading": claim.get("reading"),
                "condition": claim.get("condition"),
                "verdict": claim["verdict"],
                "extension_verdict": claim.get("extension_verdict"),
                "comparisons": [_comparison(c) for c in claim["comparisons"]],
            }
            for claim in metrics.get("claims", [])
        ],
        **{k: metrics[k] for k in ("placebo", "dose_response", "oracles") if k in metrics},
    }


# --- the docs' tables ------------------------------------------------------------------------------


# what a block's files are, and the keys each must hold: a study's results.json, or a benchmark's file
FILE_KINDS = {"anchors": ("a benchmark file of analysis/anchors.py", ("runs", "anchors"))}
RESULTS_FILE = ("a study's results.json", ("claims", "digest"))


def _load(path: Path, kind: str = "verdicts") -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: not a readable results file ({err})") from err
    what, keys = FILE_KINDS.get(kind, RESULTS_FILE)
    if not all(k in data for k in keys):
        raise UserError(f"{path}: not {what} (no {' or '.join(keys)})")
    return data


def _name(claim: dict[str, Any]) -> str:
    return f"{claim['id']}" + (f" ({claim['reading'].split(':')[0]})" if claim.get("reading") else "")


def verdict_table(files: list[Path], sets: list[dict[str, Any]]) -> str:
    """Claims as rows, one column of verdicts per results file."""
    head = " | ".join(f"{f.stem} ({_digest_of(s)})" for f, s in zip(files, sets))
    lines = [f"| claim | {head} |", "|---|" + "---|" * len(sets)]
    names = list(dict.fromkeys(_name(c) for s in sets for c in s["claims"]))
    for name in names:
        cells = [next((c["verdict"] for c in s["claims"] if _name(c) == name), "—") for s in sets]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _digest_of(s: dict[str, Any]) -> str:
    d = s["digest"]
    return f"digest {d['digest']}" + (", frozen" if d.get("is_frozen") else "")


def _cell(effect: dict[str, Any]) -> str:
    if effect.get("mean") is None:
        return "—"
    ci = effect.get("ci95")
    n = len(effect.get("per_seed", []))
    return f"{effect['mean']:.3g} [{ci[0]:.3g}, {ci[1]:.3g}] (n={n})" if ci else f"{effect['mean']:.3g} (n={n})"


def _pooled(effects: list[dict[str, Any]]) -> str:
    values = [v for e in effects for v in e.get("per_seed", [])]
    if len(values) < 2:
        return "—"
    lo, hi = t_interval(values)
    return f"{float(np.mean(values)):.3g} [{lo:.3g}, {hi:.3g}] (n={len(values)})"


def _md(text: str) -> str:
    """A table cell's text: its pipes escaped (``|Spearman|``)."""
    return text.replace("|", "\\|")


def comparison_table(files: list[Path], sets: list[dict[str, Any]]) -> str:
    """The study's comparisons (scope ``study``) as rows: each file's effect (mean, 95% t interval
    over its seeds) and verdict, and for several files the effect pooled over all their seeds."""
    pooled = len(sets) > 1
    cols = " | ".join(f"{f.stem}: effect | verdict" for f in files) + (" | pooled effect" if pooled else "")
    lines = [f"| claim | comparison | {cols} |", "|---|---|" + "---|---|" * len(sets) + ("---|" if pooled else "")]
    keys = list(
        dict.fromkeys(
            (_name(claim), c["label"])
            for s in sets
            for claim in s["claims"]
            for c in claim["comparisons"]
            if c.get("scope") == "study"
        )
    )
    for name, label in keys:
        found = [
            next((c for cl in s["claims"] if _name(cl) == name for c in cl["comparisons"] if c["label"] == label), None)
            for s in sets
        ]
        cells = " | ".join(f"{_cell(c['effect'])} | {c['verdict']}" if c else "— | —" for c in found)
        tail = f" | {_pooled([c['effect'] for c in found if c])}" if pooled else ""
        lines.append(f"| {name} | {_md(label)} | {cells}{tail} |")
    return "\n".join(lines)


def placebo_table(files: list[Path], sets: list[dict[str, Any]]) -> str:
    """Each file's placebo: per model split in halves, the comparisons claiming a difference, how
    many were measured, which the rule still decided (false positives), and the rate over both."""
    lines = [
        "| results | halves of | claiming a difference | measured | decided (false positives) |",
        "|---|---|---|---|---|",
    ]
    for f, s in zip(files, sets):
        p = s.get("placebo") or {}
        for a in p.get("arrangements", []):
            measured = sum(n for v, n in a["verdicts"].items() if v != "not measured")
            decided = _md(", ".join(a["false_positives"]) or "none")
            lines.append(f"| {f.stem} | the {a['model'].upper()} | {a['n_comparisons']} | {measured} | {decided} |")
        if p:
            rate = p.get("false_positive_rate")
            rate_text = f"{rate:.1%}" if rate is not None else "—"
            lines.append(
                f"| {f.stem} | both | {p['n_comparisons']} | {p['n_measured']} | "
                f"**{p['n_false_positive']} (false-positive rate {rate_text})** |"
            )
    return "\n".join(lines)


TABLES: dict[str, Callable[[list[Path], list[dict[str, Any]]], str]] = {
    "verdicts": verdict_table,
    "comparisons": comparison_table,
    "placebo": placebo_table,
    "dose": lambda files, sets: "\n".join(dose.markdown(s.get("dose_response", [])) for s in sets).strip(),
    "oracles": lambda files, sets: "\n".join(oracles.markdown(s.get("oracles", [])) for s in sets),
    "anchors": lambda files, sets: "\n".join(anchors.markdown(s) for s in sets),
}
BLOCK = re.compile(r"(<!-- results: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)


def regenerate(markdown: Path) -> int:
    """Rewrite every results block of ``markdown`` from its files; returns how many blocks."""
    text = markdown.read_text()

    def table(m: re.Match[str]) -> str:
        kind, *names = m.group("spec").split()
        if kind not in TABLES or not names:
            raise UserError(f"{markdown}: a results block names a kind of {', '.join(TABLES)} and its files: {kind}")
        files = [markdown.parent / n for n in names]
        return m.group(1) + TABLES[kind](files, [_load(f, kind) for f in files]) + "\n" + m.group(4)

    new, count = BLOCK.subn(table, text)
    if new != text:
        markdown.write_text(new)
    return count


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m heatmap_latent.study.results DOC.md [DOC.md ...]", file=sys.stderr)
        return 2
    for doc in argv:
        count = report_user_errors("results", lambda d=doc: regenerate(Path(d)))
        print(f"{doc}: {count} results table(s) regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
