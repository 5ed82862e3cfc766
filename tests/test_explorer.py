"""The offline explorer: the JavaScript decoder and factor fit against Python, in headless Chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from heatmap_latent.analysis.loading import LoadedRun, load_run
from heatmap_latent.explorer import ExportError, decoder_layers, write_explorer
from heatmap_latent.study.realism import realism_distance
from heatmap_latent.training import train
from tests.browser import needs_chromium, open_page
from tests.conftest import ROOT, compose_train

CASES = {
    "ae-gaussian": ["model=ae", "data=gaussian"],
    "vae-gaussian": ["model=vae", "data=gaussian"],
    "ae-student_t": ["model=ae", "data=student_t"],
    "vae-student_t": ["model=vae", "data=student_t"],
    # a non-default backbone: other channels, hidden dims, activation and latent_dim 5
    "tcvae-gelu-5d": [
        "model=tcvae",
        "model.channels=[4,8]",
        "model.hidden_dims=[24,12]",
        "model.activation=gelu",
        "model.latent_dim=5",
    ],
}
ACTIVATIONS = ["elu", "leaky_relu", "silu"]  # untrained decoders, one per remaining activation


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Explorer pages of tiny trained runs (one epoch) and of untrained decoders, with their runs."""
    root = tmp_path_factory.mktemp("explorer")
    out = {}
    for name, overrides in CASES.items():
        cfg = compose_train(root / name, *overrides, "trainer.max_epochs=1", "logger=none", "callbacks=none")
        train(cfg)
        (root / name / ".hydra").mkdir()
        (root / name / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
        run = load_run(root / name)  # its one checkpoint
        out[name] = (run, write_explorer(run, root / f"{name}.html"))
    for act in ACTIVATIONS:
        cfg = compose_train(root / act, f"model.activation={act}", "model.latent_dim=2")
        model, dm = instantiate(cfg.model).eval(), instantiate(cfg.data)
        dm.setup()
        run = LoadedRun(act, root, Path("untrained"), cfg, model, dm, {"model": "vae", "data": "gaussian"}, ())
        out[act] = (run, write_explorer(run, root / f"{act}.html"))
    return out


def probe_points(latents: np.ndarray, n: int = 100, seed: int = 0) -> np.ndarray:
    """Half near codes (inside the hull), half spread over three times the codes' box (mostly outside)."""
    rng = np.random.default_rng(seed)
    inside = latents[rng.choice(len(latents), n // 2)] + 0.05 * rng.normal(size=(n // 2, latents.shape[1]))
    lo, hi = latents.min(0), latents.max(0)
    span = hi - lo
    outside = rng.uniform(lo - span, hi + span, size=(n - n // 2, latents.shape[1]))
    return np.concatenate([inside, outside])


@pytest.mark.slow
@needs_chromium
def test_javascript_decoder_and_factor_fit_equal_python(pages):
    for name, (run, page_path) in pages.items():
        latents = run.model.embed(run.datamodule.images).numpy()
        z = probe_points(latents)
        want = run.model.decode_batched(z)[:, 0].numpy().reshape(len(z), -1)
        dfs = (2.0, 200.0) if "df" in run.datamodule.factors else None
        distance, fitted = realism_distance(
            want.reshape(len(z), *run.model.decode_batched(z[:1]).shape[-2:]), -3, 3, dfs
        )
        with open_page(page_path) as (page, errors):
            got = np.array(page.evaluate("zs => zs.map(z => Array.from(window.heatmapLatent.decode(z)))", z.tolist()))
            fits = page.evaluate(
                "zs => zs.map(z => window.heatmapLatent.fitFactors(window.heatmapLatent.decode(z)))", z[:30].tolist()
            )
            assert page.evaluate("window.heatmapLatent.latentDim") == latents.shape[1]
            assert errors == [], (name, errors)
        assert np.abs(got - want).max() < 1e-4, (name, np.abs(got - want).max())
        for i, fit in enumerate(fits):  # the JavaScript fit of the JavaScript decode equals Python's
            for key in ("var_x", "var_y", "rho"):
                assert fit[key] == pytest.approx(fitted[key][i], abs=1e-4, rel=1e-4), (name, i, key)
            assert fit["realism"] == pytest.approx(distance[i], abs=1e-4), (name, i)
            if dfs:
                assert fit["df"] == fitted["df"][i]


@pytest.mark.slow
@needs_chromium
def test_clicking_the_slice_decodes_that_point_on_the_page(pages, tmp_path):
    run, page_path = pages["vae-gaussian"]
    with open_page(page_path) as (page, errors):
        box = page.locator("#slice").bounding_box()
        page.mouse.move(box["x"] + 100, box["y"] + 100)
        page.mouse.click(box["x"] + 0.62 * box["width"], box["y"] + 0.35 * box["height"])
        z = np.array(page.evaluate("Array.from(window.heatmapLatent.state.lastZ)"))
        pixels = np.array(
            page.evaluate(
                "() => { const c = document.getElementById('decoded'); "
                "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"
            )
        ).reshape(-1, 4)[:, 0]
        info = page.locator("#decoded-info").inner_text()
        # path mode: two clicks decode the straight path between them as a strip
        page.locator("#path-mode").check()
        page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])
        page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.7 * box["height"])
        strip = page.locator("#strip canvas").count()
        page.locator("#shade").click()
        shade_ms = page.evaluate("window.heatmapLatent.state.shadeMs")
        page.screenshot(path=str(tmp_path / "explorer.png"))
        assert errors == []
    expected = run.model.decode_batched(z[None])[0, 0].numpy().ravel()
    assert len(pixels) == expected.size
    assert np.abs(pixels - np.round(255 * expected)).max() <= 1  # the canvas shows the Python decode
    realism = realism_distance(expected.reshape(1, 12, 12), -3, 3)[0][0]
    assert f"realism {realism:.4f}" in info
    assert strip == 10 and shade_ms < 10_000
    assert (tmp_path / "explorer.png").stat().st_size > 10_000


def test_exporter_names_a_layer_it_cannot_translate(pages):
    run, _ = pages["vae-gaussian"]
    decoder = run.model.decoder
    layers = decoder_layers(decoder)
    assert [layer["type"] for layer in layers][:3] == ["linear", "activation", "linear"]
    assert {"reshape", "conv_transpose"} <= {layer["type"] for layer in layers}
    broken = type(decoder).__new__(type(decoder))
    nn.Module.__init__(broken)
    broken.fc, broken.start_shape = decoder.fc, decoder.start_shape
    broken.deconv = nn.Sequential(decoder.deconv[0], nn.Tanh(), decoder.deconv[2])
    with pytest.raises(ExportError, match=r"decoder\.deconv\.1 \(Tanh\)"):
        decoder_layers(broken)


@pytest.mark.slow  # two subprocesses
def test_cli_writes_a_page_or_fails_in_one_line_writing_nothing(pages, tmp_path):
    run, _ = pages["ae-gaussian"]
    out = tmp_path / "page.html"
    done = subprocess.run(
        [sys.executable, "-m", "heatmap_latent.explorer", str(run.checkpoint), "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "window.heatmapLatent" in text and "<script src" not in text and "https://" not in text
    missing = subprocess.run(
        [sys.executable, "-m", "heatmap_latent.explorer", str(tmp_path / "nope"), "-o", str(tmp_path / "x.html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert missing.stderr.startswith("explorer: error:") and "does not exist" in missing.stderr
    assert not (tmp_path / "x.html").exists()


def test_page_carries_every_code_factor_and_split(pages):
    import base64
    import json

    run, page_path = pages["vae-student_t"]
    text = page_path.read_text()
    start = text.index('id="explorer-data">') + len('id="explorer-data">')
    data = json.loads(text[start : text.index("</script>", start)])
    codes = np.frombuffer(base64.b64decode(data["codes"]), dtype="<f4").reshape(data["n"], data["latent_dim"])
    np.testing.assert_allclose(codes, run.model.embed(run.datamodule.images).numpy(), atol=1e-6)
    df = np.frombuffer(base64.b64decode(data["factors"]["df"]), dtype="<f4")
    assert set(df.tolist()) == {2.0, 200.0} and data["dfs"] == [2.0, 200.0]
    split = np.frombuffer(base64.b64decode(data["split"]), dtype=np.uint8)
    assert split.sum() == len(run.datamodule.test_idx) and split[run.datamodule.test_idx].all()
    assert torch.as_tensor(codes).shape[0] == len(run.datamodule.images)
