"""Decode times of the explorer page in headless Chromium: ``python -m heatmap_latent.explorer.bench``.

Builds the default model on the default data (11,875 codes), writes its page, and times in the
browser one ``decode(z)``, one ``encode(image)`` (an exact heatmap, as the factor panel encodes it)
and a 20-image path (decode and factor fit of each image), as the page
does them. The model is not trained unless ``--run DIR`` names a trained run: the
zeros after the ReLUs, which both skip, depend on the weights. Needs
playwright and Debian's ``chromium`` (``--chromium PATH``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from hydra.utils import instantiate

from heatmap_latent.analysis.loading import LoadedRun, load_run
from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.conf import CONF_DIR, compose_config
from heatmap_latent.explorer import write_explorer

TIMING = """([reps, pathReps]) => {
  const api = window.heatmapLatent, D = api.latentDim;
  const z = Array.from({length: D}, (_, k) => api.codes[k]);
  for (let i = 0; i < 5; i++) api.decode(z);  // warm up the JIT
  const one = [];
  for (let i = 0; i < reps; i++) { const t = performance.now(); api.decode(z); one.push(performance.now() - t); }
  // an image as the factor panel encodes it: the renderer's (every factor at its middle value), else a decode
  const middle = Object.fromEntries(api.declaration.map((f) => [f.name, f.values[f.values.length >> 1]]));
  const image = api.render ? api.render(middle) : api.decode(z);
  const enc = [];
  if (api.hasEncoder) {
    for (let i = 0; i < 5; i++) api.encode(image);
    for (let i = 0; i < reps; i++) { const t = performance.now(); api.encode(image); enc.push(performance.now() - t); }
  }
  const path = [];
  for (let r = 0; r < pathReps; r++) {
    const t = performance.now();
    for (let i = 0; i < 20; i++) api.fitFactors(api.decode(z.map((v) => v + 0.05 * i)));
    path.push(performance.now() - t);
  }
  const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return {decode_ms: med(one), decode_ms_max: Math.max(...one), encode_ms: enc.length ? med(enc) : null,
          encode_ms_max: enc.length ? Math.max(...enc) : null, path20_ms: med(path), path20_ms_max: Math.max(...path)};
}"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="explorer.bench")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--chromium", default=shutil.which("chromium"))
    parser.add_argument("--run", help="a trained run directory instead of an untrained model (its ReLUs' zeros)")
    parser.add_argument("overrides", nargs="*", help="train.yaml overrides, e.g. experiment=study")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (playwright: an optional dev dependency)

    if args.run:
        run = load_run(args.run)
    else:
        cfg = compose_config("train", args.overrides)
        model, dm = instantiate(cfg.model).eval(), instantiate(cfg.data)
        dm.setup()
        run = LoadedRun("bench (untrained model)", CONF_DIR.parent, Path("untrained"), cfg, model, dm, {}, ())
    model, dm = run.model, run.datamodule
    with tempfile.TemporaryDirectory() as tmp:
        page_path = write_explorer(run, Path(tmp) / "explorer.html")
        size_mb = page_path.stat().st_size / 1e6
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(page_path.as_uri())
            figures = page.evaluate(TIMING, [200, 20])
            browser.close()
    figures.update(page_mb=round(size_mb, 2), codes=len(dm.images), latent_dim=int(model.hparams.latent_dim))
    print(f"  page size ({figures['codes']} codes)      {size_mb:.2f} MB")
    print(
        f"  decode one point           {figures['decode_ms']:.2f} ms "
        f"(median of 200; max {figures['decode_ms_max']:.2f})"
    )
    if figures["encode_ms"] is not None:
        ratio = figures["encode_ms"] / figures["decode_ms"]
        figures["encode_over_decode"] = round(ratio, 2)
        print(
            f"  encode one image           {figures['encode_ms']:.2f} ms "
            f"(median of 200; max {figures['encode_ms_max']:.2f}): {ratio:.2f}x a decode"
        )
    print(
        f"  20-image path (decode+fit) {figures['path20_ms']:.1f} ms (median of 20; max {figures['path20_ms_max']:.1f})"
    )
    if args.json:
        write_atomic(args.json, json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
