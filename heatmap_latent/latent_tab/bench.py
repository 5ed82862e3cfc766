"""The Latent tab's first frame: ``python -m heatmap_latent.latent_tab.bench RUN_DIR [--json F]``.

Copies the run's config and snapshots into a fresh log directory, starts ``tensorboard`` on it
(127.0.0.1, a free port), opens the tab in headless Chromium and prints, for the run's panel: the
time from the panel's navigation to its first drawn frame (``probes.firstDrawMs``), the bytes of its
``data`` response and of each earlier frame's weights, and the time to move the slider to the
first epoch (its weights fetched and inflated on demand). Needs playwright and Debian's chromium.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.errors import UserError
from heatmap_latent.training.snapshots import DIRNAME, read_index

RESOURCES = """() => performance.getEntriesByType("resource").map(e => ({url: e.name, bytes: e.encodedBodySize,
  ms: e.responseEnd - e.startTime}))"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def tensorboard(logdir: Path) -> Iterator[str]:
    """``tensorboard --logdir logdir`` on 127.0.0.1 and a free port while the block runs: its URL.
    The tab's tests serve their log directory with it too."""
    port = free_port()
    cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "/data/plugins_listing", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise UserError(f"tensorboard exited: {proc.stderr.read()[-2000:]}") from None
                time.sleep(0.5)
        else:
            raise UserError("tensorboard did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def measure(run_dir: Path, chromium: str | None, repeats: int = 3) -> dict:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (playwright: an optional dev dependency)

    if not read_index(run_dir):
        raise UserError(f"{run_dir} has no snapshots")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "logs" / run_dir.name
        shutil.copytree(run_dir / ".hydra", run / ".hydra")
        shutil.copytree(run_dir / DIRNAME, run / DIRNAME)
        with tensorboard(Path(tmp) / "logs") as url:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
                draws, slides, resources = [], [], []
                for _ in range(repeats):
                    page = browser.new_page(viewport={"width": 1600, "height": 1400})
                    page.goto(url + "/#heatmap_latent")
                    deadline = time.monotonic() + 120
                    panel = None
                    while panel is None and time.monotonic() < deadline:
                        for frame in page.frames:
                            if "panel.html" in frame.url and frame.evaluate(
                                "!!(window.heatmapLatent && window.heatmapLatent.probes.firstDrawMs)"
                            ):
                                panel = frame
                        page.wait_for_timeout(100)
                    if panel is None:
                        raise UserError("the tab's panel did not draw within 120 s")
                    draws.append(panel.evaluate("window.heatmapLatent.probes.firstDrawMs"))
                    slides.append(
                        panel.evaluate(
                            "async () => { const t = performance.now(); "
                            "await window.heatmapLatent.actions.showFrame(0); return performance.now() - t; }"
                        )
                    )
                    resources = panel.evaluate(RESOURCES)
                    page.close()
                browser.close()
    data = [r for r in resources if "/data?" in r["url"]]
    frames = [r for r in resources if "/frame?" in r["url"]]
    return {
        "snapshots": len(read_index(run_dir)),
        "first_draw_ms": sorted(draws),
        "slider_to_first_epoch_ms": sorted(slides),
        "data_bytes": data[0]["bytes"] if data else None,
        "frame_bytes": [r["bytes"] for r in frames],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="latent_tab.bench")
    parser.add_argument("run", type=Path, help="a run directory with snapshots")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--chromium", default=shutil.which("chromium"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        figures = measure(args.run, args.chromium, args.repeats)
    except UserError as err:
        parser.exit(2, f"latent_tab.bench: error: {err}\n")
    print(f"  run {args.run} ({figures['snapshots']} snapshots)")
    draws = ", ".join(f"{v:.0f}" for v in figures["first_draw_ms"])
    print(f"  first frame drawn          {draws} ms after the panel opened")
    print(f"  data response              {figures['data_bytes'] / 1e6:.2f} MB")
    if figures["frame_bytes"]:
        sizes = ", ".join(f"{b / 1e6:.2f}" for b in figures["frame_bytes"])
        print(f"  earlier frames' weights    {sizes} MB ({sum(figures['frame_bytes']) / 1e6:.2f} MB)")
    print(f"  slider to the first epoch  {', '.join(f'{v:.0f}' for v in figures['slider_to_first_epoch_ms'])} ms")
    if args.json:
        write_atomic(args.json, json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
