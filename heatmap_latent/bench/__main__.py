"""``python -m heatmap_latent.bench [--json PATH]``: the speed and memory figures of the project.

Prints one table of medians of repeats, measured in this one run on this machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from heatmap_latent.analysis import LoadedRun, analyze_run
from heatmap_latent.bench import device_check, loader, roofline
from heatmap_latent.bench import measures as M
from heatmap_latent.bench import recipe_choice as RC
from heatmap_latent.bench import time_to_quality as TTQ
from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.conf import CONF_DIR, compose_config
from heatmap_latent.core.errors import report_user_errors
from heatmap_latent.core.precision import describe_machine, fastest_precision, machine
from heatmap_latent.study.steps import STEPS

ROOT = CONF_DIR.parent  # where train.py is


def default_config(*overrides: str) -> DictConfig:
    return compose_config("train", ["paths.output_dir=.", *overrides])


def build(cfg: DictConfig, channels_last: bool, dm=None):
    torch.manual_seed(0)
    cfg.model.channels_last = channels_last
    model = instantiate(cfg.model)
    if dm is None:
        dm = instantiate(cfg.data)
        dm.setup()
    return model, dm


def one_epoch(model, dm, path: str, channels_last: bool, precision: str) -> float:
    """Seconds of one training epoch of ``model`` on the Lightning path or the raw loop."""
    if path == "lightning":
        return M.lightning_epochs(model, dm, 1, precision)[0]
    return M.raw_epochs(model, dm, 1, bf16=precision.startswith("bf16"), channels_last=channels_last)[0]


def _datagen(args: argparse.Namespace, fig: dict[str, float], rows: list[tuple[str, str]]) -> None:
    """The heatmaps' generation, this project's against a scipy loop."""
    for kind in ("gaussian", "student_t"):
        project = M.median_time(lambda k=kind: M.project_datagen(k), args.repeats)
        loop = M.median_time(lambda k=kind: M.scipy_loop(k), 1 if args.quick else min(args.repeats, 3))
        fig[f"datagen_{kind}_s"], fig[f"datagen_{kind}_scipy_s"] = project, loop
        print(f"datagen {kind}: project {project:.3f} s, scipy loop {loop:.2f} s", flush=True)
        rows.append(
            (
                f"data generation, {kind} (11,875 images)",
                f"{project:.3f} s vs scipy loop {loop:.2f} s = {loop / project:.0f}x",
            )
        )
    fig["datagen_speedup"] = min(fig[f"datagen_{k}_scipy_s"] / fig[f"datagen_{k}_s"] for k in ("gaussian", "student_t"))


def _epochs(args: argparse.Namespace, cfg: Any, dm: Any, fig: dict[str, float], rows: list[tuple[str, str]]) -> None:
    """One training epoch of each variant (path, memory format, precision), interleaved over rounds."""
    n_train = len(dm.train_idx)
    fast = fastest_precision("auto").precision  # what trainer=fast and recipe=fast train in here
    variants = {  # name: (path, channels_last, precision); raw bf16 is emulated on an AVX2-only CPU
        "raw_fp32_nchw": ("raw", False, "32-true"),
        "lightning_fp32_nchw": ("lightning", False, "32-true"),
        "raw_fp32_cl": ("raw", True, "32-true"),
        "lightning_fp32_cl": ("lightning", True, "32-true"),
        "raw_bf16_cl": ("raw", True, "bf16-mixed"),
        "lightning_fast": ("lightning", True, fast),
    }
    # interleaved: every round times one epoch of each variant in turn (A B C ... A B C ...), so a
    # drift of the machine's speed hits every variant alike; ratios are taken within a round
    models = {name: build(cfg, cl, dm)[0] for name, (_, cl, _) in variants.items()}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(args.epochs + 1):  # round 0 warms up
        for name, (path, cl, precision) in variants.items():
            t = one_epoch(models[name], dm, path, cl, precision)
            if round_:
                times[name].append(t)
    for name in variants:
        t = statistics.median(times[name])
        fig[f"epoch_{name}_s"] = t
        print(f"epoch {name}: {t:.2f} s (median of {len(times[name])}, interleaved)", flush=True)
        rows.append((f"train epoch, {name.replace('_', ' ')}", f"{t:.2f} s = {n_train / t:,.0f} images/s"))
    default_cl = bool(cfg.model.channels_last)
    suffix = "cl" if default_cl else "nchw"
    ratios = [a / b for a, b in zip(times[f"lightning_fp32_{suffix}"], times[f"raw_fp32_{suffix}"])]
    fig["train_ratio"] = statistics.median(ratios)
    fig["train_ratio_min"], fig["train_ratio_max"] = min(ratios), max(ratios)
    rows.append(("Lightning / raw loop per round (min, max)", f"{min(ratios):.3f}, {max(ratios):.3f}"))
    fig["channels_last_speedup"] = fig["epoch_raw_fp32_nchw_s"] / fig["epoch_raw_fp32_cl_s"]
    fig["fast_speedup"] = fig["epoch_raw_fp32_nchw_s"] / fig["epoch_lightning_fast_s"]
    rows.append(("Lightning / raw loop (default precision and format)", f"{fig['train_ratio']:.3f}"))
    rows.append(("channels_last speed-up (raw fp32)", f"{fig['channels_last_speedup']:.2f}x"))
    rows.append((f"trainer=fast ({fast}) vs raw fp32 NCHW loop", f"{fig['fast_speedup']:.2f}x"))


def _encode_and_analysis(args: argparse.Namespace, cfg: Any, dm: Any, fig: dict[str, float], rows: list) -> None:
    """Encoding every image at three batch sizes, one run's analysis, and train.py's peak memory."""
    default_cl = bool(cfg.model.channels_last)
    model, _ = build(cfg, default_cl, dm)
    model.eval()
    for bs in (64, 256, 2048):
        fig[f"encode_bs{bs}_s"] = M.encode_seconds(model, dm.images, bs, args.repeats)
    fig["encode_s"] = fig[f"encode_bs{cfg.data.eval_batch_size}_s"]
    rows.append(
        (
            "encode 11,875 images (eval)",
            ", ".join(f"batch {b}: {fig[f'encode_bs{b}_s']:.2f} s" for b in (64, 256, 2048)),
        )
    )

    loaded = LoadedRun(
        "bench (untrained default VAE)", Path("."), Path("none"), cfg, model, dm, {"model": "vae", "data": dm.name}, ()
    )
    fig["analysis_s"] = M.median_time(lambda: analyze_run(loaded, STEPS), 1)
    rows.append(("analysis of one run (without writing the report)", f"{fig['analysis_s']:.1f} s"))

    if not args.quick and (ROOT / "train.py").is_file():
        with tempfile.TemporaryDirectory() as tmp:
            fig["peak_rss_mb"] = M.peak_rss_mb(["trainer.max_epochs=2", f"hydra.run.dir={tmp}"], ROOT)
        rows.append(("peak resident memory, default train.py (2 epochs)", f"{fig['peak_rss_mb']:.0f} MB"))


def run(args: argparse.Namespace) -> dict[str, float]:
    fig: dict[str, float] = {}
    rows: list[tuple[str, str]] = []
    _datagen(args, fig, rows)
    cfg = default_config("model.scheduler=null")  # ReduceLROnPlateau needs validation, which is not timed
    _, dm = build(cfg, False)
    _epochs(args, cfg, dm, fig, rows)
    _encode_and_analysis(args, cfg, dm, fig, rows)
    width = max(len(r[0]) for r in rows)
    print(f"\nheatmap-latent benchmark on {describe_machine()}")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    return fig


def seed_list(text: str) -> list[int]:
    try:
        return [int(seed) for seed in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes integers separated by commas, e.g. 1,2; got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m heatmap_latent.bench", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--repeats", type=int, default=5, help="repeats for the medians (default 5)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per training variant (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="one scipy loop repeat, no memory run; with --roofline: a toy size"
    )
    parser.add_argument(
        "--time-to-quality", action="store_true", help="time to a converged model, default vs fast recipe"
    )
    parser.add_argument("--study", action="store_true", help="with --time-to-quality: also time a one-seed study")
    parser.add_argument(
        "--roofline", action="store_true", help="GFLOPS of the training step against the machine's matmul peak"
    )
    parser.add_argument(
        "--loader",
        nargs="*",
        metavar="OVERRIDE",
        help="batches per second of the training loader by data.num_workers (default: data=dsprites)",
    )
    parser.add_argument(
        "--device-check",
        type=Path,
        metavar="OUT",
        help="the GPU tests, the roofline, a default run and a one-seed study; OUT/device_check.json",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="with --device-check: the same steps at toy size on the CPU"
    )
    parser.add_argument(
        "--seeds",
        type=seed_list,
        help="with --time-to-quality: train every run once per seed (e.g. 1,2) and report medians",
    )
    parser.add_argument(
        "--recipe-choice",
        type=Path,
        nargs="+",
        metavar="SWEEP",
        help="choose a recipe on validation error: one train.py -m sweep per recipe over the same seeds",
    )
    parser.add_argument("--prefer", default="fast", help="with --recipe-choice: the recipe kept on a tie (fast)")
    parser.add_argument(
        "--tolerance", type=float, default=RC.TOLERANCE, help="with --recipe-choice: what counts as a tie (0.005)"
    )
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.recipe_choice:  # reads event files only: no machine figures
        result = report_user_errors(
            "python -m heatmap_latent.bench", lambda: RC.recipe_choice(args.recipe_choice, args.prefer, args.tolerance)
        )
        RC.report(result)
        if args.json:
            write_atomic(args.json, json.dumps(result, indent=2))
        return
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    if args.device_check:
        report = device_check.run(args.device_check, dry_run=args.dry_run or not torch.cuda.is_available())
        failed = [name for name, step in report["steps"].items() if step["rc"] != 0]
        raise SystemExit(f"device check: {', '.join(failed)} failed (see device_check.json)" if failed else 0)
    print(f"machine: {describe_machine()}", flush=True)
    if args.roofline:
        # --quick: a toy size (the device check's dry run); the figures' arithmetic, not the machine's
        sizes = {"steps": 2, "batch_size": 16, "peak_size": 256} if args.quick else {}
        tiny = device_check.TINY if args.quick else []
        figures = {
            "default": roofline.step_figures(tiny, **sizes),
            "study": roofline.step_figures([*tiny, "experiment=study"], **sizes),
        }
        for label, f in figures.items():
            roofline.report(f, label)
    elif args.loader is not None:
        workers = [0, 1] if args.quick else loader.worker_counts()
        overrides = args.loader or ["data=dsprites"]
        figures = report_user_errors(
            "python -m heatmap_latent.bench", lambda: loader.loader_rates(overrides, workers, 5 if args.quick else 50)
        )
        loader.report(figures)
    elif args.time_to_quality:
        figures = TTQ.time_to_quality(seeds=args.seeds)
        if args.study:
            figures["study_default_s"] = TTQ.time_study(["recipe=default"])
            figures["study_fast_s"] = TTQ.time_study(["recipe=fast"])
        TTQ.report(figures)
    else:
        figures = run(args)
    figures["machine"] = machine()
    if args.json:
        write_atomic(args.json, json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
