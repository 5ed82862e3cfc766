"""``python -m heatmap_latent.explorer <run dir or .ckpt> [-o FILE] [--checkpoint best|last]
[--snapshots-every K] [--trust MODULE.CLASS]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from heatmap_latent.analysis.loading import load_run
from heatmap_latent.core.errors import UserError
from heatmap_latent.core.plugins import load_named
from heatmap_latent.explorer import write_explorer

# a study's paths for a dataset's page, by the dataset's declared name (pyproject.toml names the
# heatmap study's for gaussian and student_t)
PAGE_PATHS = "heatmap_latent.page_paths"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="explorer", description="Write a run's offline latent explorer page.")
    parser.add_argument("run", help="a train.py run directory or a checkpoint inside one")
    parser.add_argument("-o", "--output", help="the page to write (default: <run dir>/explorer.html)")
    parser.add_argument("--checkpoint", default="best", choices=["best", "last"])
    parser.add_argument(
        "--snapshots-every",
        type=int,
        default=1,
        metavar="K",
        help="the epoch slider's frames: every K-th snapshot and always the last (0: none; default 1)",
    )
    parser.add_argument(
        "--panel",
        action="append",
        default=[],
        metavar="FILE.js",
        help="a panel script of one's own, registered in window.heatmapLatentPanels (repeatable; docs/explorer.md)",
    )
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="MODULE.CLASS",
        help="a data module or model from outside heatmap-latent that the run may name (repeatable; "
        "installed packages declare theirs in the heatmap_latent.datasets and heatmap_latent.models "
        "entry-point groups)",
    )
    args = parser.parse_args(argv)
    try:
        # one list for both: a trusted name is loaded only as the base class its place in the config needs
        run = load_run(args.run, args.checkpoint, trusted_data=args.trust, trusted_model=args.trust)
        out = Path(args.output) if args.output else run.run_dir / "explorer.html"
        if args.snapshots_every < 0:
            raise UserError(f"--snapshots-every must be >= 0, got {args.snapshots_every}")
        paths = load_named(PAGE_PATHS, run.datamodule.name)  # the heatmap study's, on its datasets
        path = write_explorer(run, out, snapshots_every=args.snapshots_every, paths=paths, panels=args.panel)
    except UserError as err:
        parser.exit(2, f"explorer: error: {err}\n")
    print(f"explorer: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
