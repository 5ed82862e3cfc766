"""Oracle runs: run directories of models whose answer is known, written without training, that
``analyze.py study=DIR`` reads like any sweep; and the answers every instrument must give on them.

    python -m heatmap_latent.study.oracles DIR [--seeds 1,2,3] [--defects none,cut,...] [data.var.step=0.4 ...]
    python -m heatmap_latent.study.oracles --table <analysis>/metrics.json   (the known answers, as Markdown)

writes ``DIR/<defect>_<seed>/`` for every defect of ``study/oracle_model.py`` and seed, each with
``.hydra/config.yaml``, ``checkpoints/last.ckpt`` and ``job.json``; the trailing ``key=value``
arguments override the Gaussian data's config, as on ``train.py``'s command line. The analysis then
fills ``metrics.json`` ``oracles`` with ``ANSWERS``, each measured on every seed: an instrument that
misreads a latent space whose answer is known is not one to read the study with.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning
import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from heatmap_latent.analysis.grouping import Group
from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.conf import compose_config
from heatmap_latent.core.errors import UserError, report_user_errors
from heatmap_latent.data.heatmaps import FACTOR_NAMES
from heatmap_latent.study.oracle_model import DEFECTS, Oracle

log = logging.getLogger(__name__)

TARGET = f"{Oracle.__module__}.{Oracle.__name__}"
N_OUTLIERS = 10


def _cut_at(values: np.ndarray, mean: float, std: float) -> float:
    """Midway between the two grid values of var_x nearest the middle of its range, standardised:
    no image lies on the cut."""
    grid = np.unique(values)
    i = max(1, len(grid) // 2)
    return float((0.5 * (grid[i - 1] + grid[i]) - mean) / std)


def _isolated(factors: np.ndarray, order: np.ndarray, n: int) -> list[int]:
    """The first ``n`` images of ``order`` no two of which are grid neighbours: far outliers one step
    apart would be a small far cluster, not outliers."""
    steps = np.array([np.diff(np.unique(c)).min() if len(np.unique(c)) > 1 else 1.0 for c in factors.T])
    picked: list[int] = []
    for i in order:
        if all(np.abs((factors[i] - factors[j]) / steps).max() > 1.5 for j in picked):
            picked.append(int(i))
        if len(picked) == n:
            break
    return picked


def oracle_hparams(defect: str, seed: int, datamodule: Any, grid: Any) -> dict[str, Any]:
    """The oracle's constructor arguments for ``defect`` and ``seed`` on this data."""
    f = np.stack([np.asarray(datamodule.factors[k], dtype=np.float64) for k in FACTOR_NAMES], axis=1)
    mean, std = f.mean(0), f.std(0)
    picked = _isolated(f, np.random.default_rng(seed).permutation(len(f)), N_OUTLIERS)
    return {
        "defect": defect,
        "image_size": int(grid.size),
        "low": float(grid.low),
        "high": float(grid.high),
        "factor_mean": mean.tolist(),
        "factor_std": std.tolist(),
        "factor_low": f.min(0).tolist(),
        "factor_high": f.max(0).tolist(),
        "rotation_seed": int(seed),
        "cut_at": _cut_at(f[:, 0], mean[0], std[0]),
        "outliers": f[picked].tolist() if defect == "outliers" else [],
    }


def _checkpoint(model: Oracle) -> bytes:
    """A checkpoint that ``Oracle.load_from_checkpoint`` reads: Lightning writes one only from a
    Trainer that fitted, and an oracle fits nothing, so its two keys are written here."""
    buffer = io.BytesIO()
    state = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
        "best_val_loss": 0.0,
    }
    torch.save(state, buffer)
    return buffer.getvalue()


def write_oracles(
    out_dir: Path, seeds: Sequence[int] = (1, 2, 3), defects: Sequence[str] = DEFECTS, overrides: Sequence[str] = ()
) -> list[Path]:
    """Every oracle run directory; returns them. ``overrides``: the Gaussian data's (``data.var.step=0.4``)."""
    unknown = [d for d in defects if d not in DEFECTS]
    if unknown:
        raise UserError(f"unknown oracle defect {', '.join(unknown)}: the defects are {', '.join(DEFECTS)}")
    bad = [o for o in overrides if not o.startswith("data.")]
    if bad:
        raise UserError(f"oracles take data overrides only (data.<key>=<value>), got {' '.join(bad)}")
    written = []
    for seed in seeds:
        cfg = compose_config("train", ["data=gaussian", f"seed={seed}", *overrides])
        datamodule = instantiate(cfg.data)
        datamodule.setup()
        for defect in defects:
            hparams = oracle_hparams(defect, seed, datamodule, cfg.data.grid)
            model = Oracle(**hparams)
            run_dir = Path(out_dir) / f"{defect}_{seed}"
            run_cfg = {
                "seed": seed,
                "data": OmegaConf.to_container(cfg.data, resolve=False),
                # what the run is; the seed's draws (rotation, outliers) are in the checkpoint
                "model": {"_target_": TARGET, "defect": defect, "image_size": "${data.grid.size}"},
            }
            job_overrides = [f"seed={seed}", *overrides]
            write_atomic(run_dir / ".hydra" / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(run_cfg)))
            write_atomic(run_dir / ".hydra" / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(job_overrides)))
            write_atomic(run_dir / "checkpoints" / "last.ckpt", _checkpoint(model))
            record = {"status": "completed", "overrides": job_overrides, "written_by": __name__, "metrics": {}}
            write_atomic(run_dir / "job.json", json.dumps(record, indent=2))
            written.append(run_dir)
    return written


# --- the known answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What an instrument must read on one oracle: ``key`` (a group metric) ``relation`` ``value``
    on every seed, or against another metric of the same run (``other``, plus ``value``)."""

    oracle: str  # the oracle's kind: oracle, oracle_cut, ...
    instrument: str
    key: str
    relation: str  # "<=" or ">="
    value: float
    why: str
    other: str | None = None  # compare with this metric of the same run (times ``scale``) plus ``value``
    scale: float = 1.0


ANSWERS: tuple[Answer, ...] = (
    Answer("oracle", "realism", "realism.reconstructions.mean", "<=", 1e-3, "the exact heatmaps, decoded exactly"),
    Answer("oracle", "realism", "realism.prior_samples.mean", "<=", 1e-3, "every decoded code is an exact heatmap"),
    Answer(
        "oracle",
        "realism control (claim 5)",
        "trajectories.near_data.realism_mean",
        "<=",
        1e-3,
        "codes near the data decode exactly",
    ),
    Answer(
        "oracle",
        "the study's control (claim 5)",
        "trajectories.perturbations.realism_mean",
        "<=",
        1e-3,
        "codes near the hull decode as exact heatmaps (kept in the data's range)",
    ),
    Answer(
        "oracle_blur",
        "realism control (claim 5)",
        "trajectories.near_data.realism_mean",
        "<=",
        0.0,
        "codes near the data decode as blurred as the same codes unmoved",
        other="trajectories.near_data.anchor_realism_mean",
        scale=2.0,
    ),
    Answer(
        "oracle_blur",
        "the study's control (claim 5)",
        "trajectories.perturbations.realism_mean",
        "<=",
        0.0,
        "every decode is blurred alike: within 2x the reconstructions' realism",
        other="realism.reconstructions.mean",
        scale=2.0,
    ),
    Answer(
        "oracle",
        "probes (claim 3)",
        "recoverability.rho.linear_r2",
        "<=",
        0.02,
        "every factor is a linear map of the code: rho reads no better than var_x (min effect r2)",
        other="recoverability.var_x.linear_r2",
    ),
    Answer("oracle", "shape (claim 8)", "shape.seed_to_seed.cca", ">=", 0.999, "two seeds differ by a rotation only"),
    Answer("oracle", "shape (claim 8)", "shape.seed_to_seed.knn", ">=", 0.999, "two seeds differ by a rotation only"),
    Answer("oracle_warp", "shape (claim 8)", "shape.oracle.cca", ">=", 0.9, "a smooth bend of one sheet"),
    Answer("oracle_warp", "shape (claim 8)", "shape.oracle.knn", ">=", 0.9, "a smooth bend of one sheet"),
    Answer(
        "oracle_cut", "gaps (claim 4)", "density.local.torn_share", ">=", 0.002, "the steps across the cut are torn"
    ),
    Answer("oracle_cut", "gaps, trimmed hull", "density.trimmed_hull.largest_gap", ">=", 3.0, "an empty slab"),
    Answer("oracle_cut", "gaps, whole hull", "density.hull.empty_share", ">=", 0.02, "an empty slab inside the hull"),
    *(
        Answer(
            kind,
            "the kink (claim 9)",
            "trajectories.kink.ratio",
            relation,
            value,
            "a decoder that is the renderer changes with rho as the exact images do",
            other="trajectories.kink.data_ratio",
        )
        for kind in ("oracle", "oracle_warp", "oracle_cut")
        for relation, value in (("<=", 0.02), (">=", -0.02))
    ),
    *(
        answer
        for kind in ("oracle", "oracle_warp", "oracle_outliers")
        for answer in (
            Answer(kind, "gaps (claim 4)", "density.local.torn_share", "<=", 0.0, "no step is torn"),
            Answer(kind, "gaps, trimmed hull", "density.trimmed_hull.empty_share", "<=", 0.02, "no empty region"),
            Answer(kind, "gaps, trimmed hull", "density.trimmed_hull.largest_gap", "<=", 3.0, "no empty region"),
            Answer(kind, "gaps, whole hull", "density.hull.empty_share", "<=", 0.02, "a full grid fills its hull"),
        )
    ),
)


def _values(group: Group, key: str) -> dict[int, float]:
    stats = group.metrics.get(key)
    if not stats:
        return {}
    return {int(s): float(v) for s, v in zip(stats["seeds"], stats["values"])}


def known_answers(groups: list[Group], answers: Sequence[Answer] = ANSWERS) -> list[dict[str, Any]]:
    """Each answer whose oracle is among ``groups``, measured on every seed: ``passes`` when every
    seed's value stands in the relation (``None`` where the instrument wrote nothing)."""
    rows = []
    for a in answers:
        for g in (g for g in groups if g.model == a.oracle):
            values = _values(g, a.key)
            others = _values(g, a.other) if a.other else {}
            bars = {
                s: (a.scale * others[s] + a.value) if a.other else a.value for s in values if not a.other or s in others
            }
            ok = [
                (values[s] <= b if a.relation == "<=" else values[s] >= b)
                for s, b in bars.items()
                if math.isfinite(values[s])
            ]
            rows.append(
                {
                    "oracle": g.label,
                    "instrument": a.instrument,
                    "measure": a.key,
                    "expected": f"{a.relation} {f'{a.scale:g} x {a.other} + ' if a.other else ''}{a.value:g}",
                    "why": a.why,
                    "values": [values[s] for s in sorted(bars)],
                    "bars": [bars[s] for s in sorted(bars)],
                    "passes": (all(ok) and len(ok) == len(bars)) if bars else None,
                }
            )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """The known answers as a Markdown table (docs/analysis.md)."""
    lines = ["| oracle | instrument | measure | expected | per seed | passes |", "|---|---|---|---|---|---|"]
    for r in rows:
        values = ", ".join(f"{v:.3g}" for v in r["values"]) or "not measured"
        verdict = {True: "yes", False: "**no**", None: "not measured"}[r["passes"]]
        lines.append(
            f"| {r['oracle']} | {r['instrument']} | `{r['measure']}` | {r['expected']} | {values} | {verdict} |"
        )
    return "\n".join(lines)


def table(metrics_json: Path) -> str:
    """The known answers of a saved analysis (its ``metrics.json``), read again with today's ``ANSWERS``."""
    try:
        saved = json.loads(Path(metrics_json).read_text())
        groups = [
            Group(
                g["label"],
                g["role"].split("@")[0],
                g["role"].split("@")[1],
                g["keys"],
                g["runs"],
                g["seeds"],
                g["metrics"],
            )
            for g in saved["groups"]
        ]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
        raise UserError(f"{metrics_json} is not an analysis's metrics.json: {err}") from err
    return markdown(known_answers(groups))


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


def _words(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m heatmap_latent.study.oracles", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("out_dir", type=Path, help="the directory to write the oracle runs into (analyze.py study=DIR)")
    parser.add_argument("--seeds", type=_ints, default=[1, 2, 3], help="comma-separated, as a sweep's: 1,2,3")
    parser.add_argument("--defects", type=_words, default=list(DEFECTS), help=f"comma-separated of {','.join(DEFECTS)}")
    parser.add_argument("overrides", nargs="*", help="the Gaussian data's overrides, data.<key>=<value>")
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--table"]:  # python -m heatmap_latent.study.oracles --table <analysis>/metrics.json
        print(report_user_errors("oracles", lambda: table(Path(argv[1]) if len(argv) > 1 else Path("metrics.json"))))
        return 0
    args = parser.parse_intermixed_args(argv)  # DIR --seeds 1,2 data.var.step=0.4: options among the positionals
    written = report_user_errors(
        "oracles", lambda: write_oracles(args.out_dir, args.seeds, args.defects, args.overrides)
    )
    print(f"{len(written)} oracle runs in {args.out_dir}: python analyze.py study={args.out_dir}")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main())
