"""The field's published scores on dSprites, and a benchmark's own set beside them.

The anchors are disentanglement_lib's ``unsupervised_study_v1`` (Locatello et al. 2019: batch 64, Adam
1e-4, 300,000 steps, 10 latents) as the InfoGAN-CR paper's Table 1 collects the best reported per
method. Scores vary widely over seeds and moved with sklearn versions (disentanglement_lib #33):
compare ranges and orderings, not digits. A benchmark file (``collect``) holds, per run of an analysis
of ``experiment=dlib`` runs, the method, seed, budget, training time and the four numbers set beside
the anchors; ``markdown`` tabulates it (``python -m heatmap_latent.study.results DOC.md`` fills a
``<!-- results: anchors FILE -->`` block with it):

    python -m heatmap_latent.analysis.anchors OUT.json ANALYSIS_DIR [ANALYSIS_DIR ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from heatmap_latent.analysis.step import MissingMetric, lookup

SOURCE = (
    "disentanglement_lib unsupervised_study_v1 (300,000 steps, batch 64), best reported per method as "
    "collected in InfoGAN-CR (Lin et al. 2020) Table 1"
)
# method -> measure -> the published value ("about"); a measure a method has no anchor for is absent
ANCHORS: dict[str, dict[str, float]] = {
    "VAE": {"factor_vae": 0.63, "mig": 0.10},
    "β-VAE": {"factor_vae": 0.63, "mig": 0.21},
    "FactorVAE": {"factor_vae": 0.82},
    "β-TCVAE": {"mig": 0.45},
}
# measure -> (dotted key in a run's metrics.json entry, the column's name)
MEASURES = {
    "beta_vae": ("disentanglement.beta_vae.eval_accuracy", "BetaVAE score"),
    "factor_vae": ("disentanglement.factor_vae.eval_accuracy", "FactorVAE score"),
    "mig": ("disentanglement.mig", "MIG"),
    "log_px": ("likelihood.log_px", "log p(x), nats"),
}
METHODS = {"beta_vae": "β-VAE", "factor_vae": "FactorVAE", "tcvae": "β-TCVAE", "vae": "VAE"}


def _number(metrics: dict[str, Any], dotted: str) -> float | None:
    """A measure of a run's metrics (``analysis/step.py lookup``), None where it was not computed."""
    try:
        value = lookup(metrics, dotted)
    except MissingMetric:
        return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def method_of(model: str, cfg: Any) -> tuple[str, str]:
    """``(method, its setting)`` of a run: a β-VAE at β = 1 is the VAE."""
    beta, gamma = OmegaConf.select(cfg, "model.beta"), OmegaConf.select(cfg, "model.gamma")
    if model == "beta_vae" and beta is not None and float(beta) == 1.0:
        return "VAE", "β = 1"
    if model in ("beta_vae", "tcvae") and beta is not None:
        return METHODS[model], f"β = {float(beta):g}"
    if model == "factor_vae" and gamma is not None:
        return METHODS[model], f"γ = {float(gamma):g}"
    return METHODS.get(model, model), ""


def collect(*analysis_dirs: Path) -> dict[str, Any]:
    """A benchmark file's content from analyses of trained runs (their ``metrics.json``; each run's own
    config and ``job.json`` for the budget and the training time)."""
    runs = {}
    for directory in analysis_dirs:
        for name, m in json.loads((Path(directory) / "metrics.json").read_text())["runs"].items():
            runs[m["run"]["run_dir"]] = (name, m)  # one run's name can recur across analyses, its directory not
    rows = []
    for run_dir, (name, m) in sorted(runs.items()):
        run_dir = Path(run_dir)
        cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
        job = json.loads((run_dir / "job.json").read_text()).get("metrics", {})
        model = m["run"]["model"]
        method, setting = method_of(model, cfg)
        rows.append(
            {
                "run": name,
                "run_dir": str(run_dir),
                "method": method,
                "setting": setting,
                "seed": m["run"]["seed"],
                "data": m["run"]["data"],
                "steps": job.get("steps"),
                "batches": job.get("batches"),  # job.json's since 2026-12-07; None in a run trained before
                "batch_size": int(cfg.data.batch_size),
                "fit_seconds": job.get("fit_seconds"),
                "images": m["run"].get("images"),
                **{k: _number(m, key) for k, (key, _) in MEASURES.items()},
            }
        )
    return {"anchors": ANCHORS, "source": SOURCE, "runs": rows}


def _cell(values: list[float | None]) -> str:
    got = [v for v in values if v is not None and np.isfinite(v)]
    if not got:
        return "—"
    if len(got) == 1:
        return f"{got[0]:.3g}"
    return f"{np.mean(got):.3g} ± {np.std(got, ddof=1):.2g} [{min(got):.3g}, {max(got):.3g}]"


def markdown(bench: dict[str, Any]) -> str:
    """The table: per method, its seeds' mean ± standard deviation [smallest, largest] of each measure, with the
    published anchor beside each score that has one, the batches trained and the training time per run."""
    order = {m: i for i, m in enumerate(ANCHORS)}
    methods = sorted({(r["method"], r["setting"]) for r in bench["runs"]}, key=lambda ms: (order.get(ms[0], 99), ms))
    head = ["method", "seeds", "batches", "minutes a run"]
    for k, (_, label) in MEASURES.items():
        head += [label] + (["published"] if any(k in a for a in bench["anchors"].values()) else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method, setting in methods:
        rows = [r for r in bench["runs"] if (r["method"], r["setting"]) == (method, setting)]
        batches = sorted({int(r["batches"]) for r in rows if r.get("batches") is not None})
        minutes = [r["fit_seconds"] / 60 for r in rows if r["fit_seconds"] is not None]
        name = f"{method} ({setting})" if setting else method
        cells = [name, str(len(rows)), "/".join(f"{b:,}" for b in batches) or "—"]
        low, high = (f"{min(minutes):.0f}", f"{max(minutes):.0f}") if minutes else ("—", "—")
        cells.append(low if low == high else f"{low}-{high}")
        for k in MEASURES:
            cells.append(_cell([r[k] for r in rows]))
            if any(k in a for a in bench["anchors"].values()):
                anchor = bench["anchors"].get(method, {}).get(k)
                cells.append(f"about {anchor:.2f}" if anchor is not None else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\nPublished: {bench['source']}."


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m heatmap_latent.analysis.anchors OUT.json ANALYSIS_DIR [...]", file=sys.stderr)
        return 2
    bench = collect(*map(Path, argv[1:]))
    Path(argv[0]).write_text(json.dumps(bench, indent=1, ensure_ascii=False) + "\n")
    print(markdown(bench))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
