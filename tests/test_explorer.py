"""The offline explorer: the JavaScript decoder and factor fit against Python, in headless Chromium."""

from __future__ import annotations

import copy
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
from heatmap_latent.data.heatmap_fit import realism_distance
from heatmap_latent.explorer import ExportError, decoder_layers, write_explorer
from heatmap_latent.study.paths import explorer_paths
from heatmap_latent.training import train
from heatmap_latent.training.snapshots import load_snapshots
from tests.browser import needs_chromium, one_browser, open_page
from tests.conftest import ROOT, compose_train, in_process_run

# docs/explorer.md's host API, as explorer/ui.js lists it
HOST_ACTIONS = (
    "showFrame",
    "setAtlas",
    "setFactors",
    "perturbBump",
    "perturbNoise",
    "resetPerturb",
    "controlMap",
    "highlight",
    "pick",
    "scatterXY",
)

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("explorer")

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
# every other model of conf/model on both datasets, untrained: the exporters must carry each
OTHER_MODELS = [
    (model, data)
    for model in sorted(p.stem for p in (ROOT / "conf" / "model").glob("[!_]*.yaml"))
    for data in ("gaussian", "student_t")
    if f"{model}-{data}" not in CASES
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Explorer pages of tiny trained runs (one epoch) and of untrained decoders, with their runs."""
    root = tmp_path_factory.mktemp("explorer")
    out = {}
    for name, overrides in CASES.items():
        trained = in_process_run(root / name, *overrides, "trainer.max_epochs=1", "logger=none", "callbacks=none")
        run = load_run(trained)  # its one checkpoint
        out[name] = (run, write_explorer(run, root / f"{name}.html"))
    untrained = [(act, [f"model.activation={act}", "model.latent_dim=2"], "vae", "gaussian") for act in ACTIVATIONS]
    untrained += [(f"{m}-{d}", [f"model={m}", f"data={d}"], m, d) for m, d in OTHER_MODELS]
    # strided 5x5 convolutions: the encoder's scatter steps over the inputs no output reads
    untrained.append(("strided-k5", ["model.kernel_size=5", "model.stride=2", "model.pool=1"], "vae", "gaussian"))
    # disentanglement_lib's network: 4x4 stride-2 convolutions padded by 1, no pooling (16 -> 1)
    untrained.append(("dlib-conv", ["model/net=dlib_conv", "data.grid.size=16"], "vae", "gaussian"))
    for name, overrides, model_name, data in untrained:
        out[name] = untrained_page(root, name, overrides, model_name, data)
    return out


def untrained_page(root: Path, name: str, overrides: list[str], model_name: str, data: str):
    """An untrained model's run on the tiny grid and its explorer page (no training: about a second)."""
    cfg = compose_train(root / name, *overrides)
    model, dm = instantiate(cfg.model).eval(), instantiate(cfg.data)
    dm.setup()
    run = LoadedRun(name, root, Path("untrained"), cfg, model, dm, {"model": model_name, "data": data}, ())
    return run, write_explorer(run, root / f"{name}.html")


@pytest.fixture(scope="module")
def untrained_vae_student_t(tmp_path_factory):
    root = tmp_path_factory.mktemp("untrained")
    return untrained_page(root, "vae-student_t", ["model=vae", "data=student_t"], "vae", "student_t")


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
    with one_browser() as visit:
        _decode_every_page(pages, visit)


def _decode_every_page(pages, visit):
    for name, (run, page_path) in pages.items():
        latents = run.model.embed(run.datamodule.images).numpy()
        z = probe_points(latents)
        want = run.model.decode_batched(z)[:, 0].numpy().reshape(len(z), -1)
        dfs = (2.0, 200.0) if "df" in run.datamodule.factors else None
        distance, fitted = realism_distance(
            want.reshape(len(z), *run.model.decode_batched(z[:1]).shape[-2:]), -3, 3, dfs
        )
        page, errors = visit(page_path)
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
        z = np.array(page.evaluate("Array.from(window.heatmapLatent.probes.lastZ)"))
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
        shade_ms = page.evaluate("window.heatmapLatent.probes.shadeMs")
        page.screenshot(path=str(tmp_path / "explorer.png"))
        assert errors == []
    expected = run.model.decode_batched(z[None])[0, 0].numpy().ravel()
    assert len(pixels) == expected.size
    assert np.abs(pixels - np.round(255 * expected)).max() <= 1  # the canvas shows the Python decode
    realism = realism_distance(expected.reshape(1, 12, 12), -3, 3)[0][0]
    assert f"realism {realism:.4f}" in info
    assert strip == 10 and shade_ms < 10_000
    assert (tmp_path / "explorer.png").stat().st_size > 10_000


def test_exporter_names_a_layer_it_cannot_translate(untrained_vae_student_t):
    run, _ = untrained_vae_student_t
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
    assert "isovariance_spline" in text  # the study's paths, found by the heatmap_latent.page_paths entry point
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


@needs_chromium
def test_a_page_whose_data_is_of_another_version_says_so_in_one_line(untrained_vae_student_t, tmp_path):
    from heatmap_latent.explorer.page import DATA_VERSION, explorer_data, explorer_html

    run, _ = untrained_vae_student_t
    data = explorer_data(run, snapshots_every=0)
    assert data["version"] == DATA_VERSION
    assert [f["name"] for f in data["factor_declaration"]] == ["var_x", "var_y", "rho", "df"]
    assert data["factor_declaration"][3] == {"name": "df", "kind": "categorical", "values": [2.0, 200.0]}
    assert data["domain"] == "heatmaps" and list(data["colourings"]) == ["var_x-var_y"]
    # the study's paths come from the entry point that wires the study in, never from the page module
    assert data["paths"] == {}
    latents = run.model.embed(run.datamodule.images).numpy()
    with_paths = explorer_data(run, latents, snapshots_every=0, paths=explorer_paths)
    assert with_paths["paths"] == explorer_paths(
        latents, {k: np.asarray(v, float) for k, v in run.datamodule.factors.items()}
    )
    assert with_paths["paths"] and all(len(points) == 40 for points in with_paths["paths"].values())
    old = tmp_path / "old.html"
    old.write_text(explorer_html({**data, "version": DATA_VERSION - 1}))
    with open_page(old) as (page, errors):
        note = page.locator(".version-mismatch").inner_text()
        assert f"reads data version {DATA_VERSION}, the data is version {DATA_VERSION - 1}" in note
        assert "\n" not in note and len(errors) == 1 and note in errors[0]  # one line, thrown: nothing half-drawn


def test_page_carries_every_code_factor_and_split(untrained_vae_student_t):
    import base64
    import json

    run, page_path = untrained_vae_student_t
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


@pytest.fixture(scope="module")
def snapshot_page(tmp_path_factory):
    """A tiny VAE run that wrote a snapshot every epoch (4), and its explorer page."""
    root = tmp_path_factory.mktemp("snapshots")
    cfg = compose_train(root, "trainer.max_epochs=4", "logger=none", "log_latents_every_n_epochs=1")
    train(cfg)
    (root / ".hydra").mkdir()
    (root / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    run = load_run(root)
    return run, load_snapshots(root), write_explorer(run, root / "explorer.html")


def snapshot_decode(run, snapshot, z):
    """``model.decode`` with the decoder's weights of ``snapshot``."""
    decoder = copy.deepcopy(run.model.decoder)
    decoder.load_state_dict({k: torch.from_numpy(v) for k, v in snapshot.decoder.items()})
    with torch.no_grad():
        return torch.sigmoid(decoder(torch.as_tensor(z, dtype=torch.float32))).numpy().reshape(len(z), -1)


def scatter_pixels(page):
    return np.array(
        page.evaluate(
            "() => { const c = document.getElementById('scatter'); "
            "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"
        )
    )


def move_slider(page, frame):
    """Move the epoch slider to ``frame`` and wait until it is drawn (its weights load on demand)."""
    page.evaluate(
        "i => { const s = document.getElementById('epoch'); s.value = i; s.dispatchEvent(new Event('input')); }", frame
    )
    page.wait_for_function(f"window.heatmapLatent.frame === {frame}", timeout=10_000)


def test_alignment_chains_from_the_first_snapshot_and_undoes_exactly():
    from heatmap_latent.explorer.page import _alignments
    from heatmap_latent.training.snapshots import Snapshot

    rng = np.random.default_rng(0)
    first = rng.normal(size=(200, 3)) * [3.0, 1.0, 0.5]
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    frames = [first, first @ rotation + 2.0, (first @ rotation + 2.0) @ rotation.T - 1.0]
    snaps = [Snapshot(e, e, np.arange(200), c.astype(np.float32), np.zeros(200), {}, {}) for e, c in enumerate(frames)]
    align = _alignments(snaps, frames[-1].astype(np.float32))
    assert len(align) == 4 and np.allclose(align[0]["rotation"], np.eye(3))  # the first frame stays put
    for codes, a in zip(frames, align):
        c, r, o = (np.array(a[k]) for k in ("centre", "rotation", "origin"))
        view = (codes - c) @ r + o
        assert np.allclose(view, first, atol=1e-4)  # every frame drawn where the first one was
        assert np.allclose((view - o) @ r.T + c, codes)  # and undone exactly


@pytest.mark.slow
@needs_chromium
def test_the_epoch_slider_decodes_with_each_epochs_weights_and_alignment_never_changes_a_decode(snapshot_page):
    run, snapshots, page_path = snapshot_page
    assert [s.epoch for s in snapshots] == [1, 2, 3, 4]
    z = probe_points(snapshots[-1].codes.astype(np.float64), n=20)
    with open_page(page_path) as (page, errors):
        frames = page.evaluate("window.heatmapLatent.frames.map(f => f.label)")
        assert frames[:4] == ["epoch 1", "epoch 2", "epoch 3", "epoch 4"]  # 4: at the cadence, so not again at the end
        assert frames[4].startswith("checkpoint ") and page.evaluate("window.heatmapLatent.frame") == 4
        assert page.locator("#epoch-panel").is_visible()
        # an earlier frame's weights load when asked for (frames.py blobs, fixed point: 1e-3), the
        # checkpoint's are float32 (1e-4)
        assert not page.evaluate("window.heatmapLatent.isLoaded(0)")
        decode_at = "async ([i, zs]) => { const api = window.heatmapLatent; await api.loadFrame(i); "
        decode_at += "return zs.map(z => Array.from(api.decodeAt(i, z))); }"
        at = {i: np.array(page.evaluate(decode_at, [i, z.tolist()])) for i in (0, 2, 3)}
        for i in (0, 2, 3):
            assert np.abs(at[i] - snapshot_decode(run, snapshots[i], z)).max() < 1e-3
        assert np.abs(at[0] - at[2]).max() > 1e-2  # the weights differ between those epochs
        ckpt = np.array(page.evaluate(decode_at, [4, z.tolist()]))
        assert np.abs(ckpt - run.model.decode_batched(z).numpy().reshape(len(z), -1)).max() < 1e-4
        # the slider draws that epoch's codes: pixels change, and come back with the frame
        move_slider(page, 0)
        first = scatter_pixels(page)
        raw0 = np.array(
            page.evaluate(
                "(() => { const api = window.heatmapLatent; api.setAligned(false); "
                "const v = Array.from(api.viewCodes(0)); api.setAligned(true); return v; })()"
            )
        )
        assert np.array_equal(raw0.reshape(-1, 3), snapshots[0].codes)
        move_slider(page, 3)
        assert (scatter_pixels(page) != first).any()
        assert page.locator("#epoch-label").inner_text().startswith("epoch 4")
        assert "epoch 4" in page.locator("#kl-info").inner_text()
        # the scores the snapshot wrote while training, beside the KL
        shown = page.evaluate("window.heatmapLatent.probes.scoresShown")
        assert shown["label"] == "epoch 4" and shown["scores"] == pytest.approx(snapshots[3].scores, abs=1e-12)
        assert f"mig {snapshots[3].scores['mig']:.3f}" in page.locator("#scores-info").inner_text()
        move_slider(page, 0)
        assert page.evaluate("window.heatmapLatent.probes.scoresShown.label") == "epoch 1"
        assert np.array_equal(scatter_pixels(page), first)
        # aligned (the default): picking image p's drawn code decodes image p's raw code at that epoch
        move_slider(page, 1)
        p = 7
        view = page.evaluate(f"Array.from(window.heatmapLatent.viewCodes(1).subarray({3 * p}, {3 * p + 3}))")
        raw = snapshots[1].codes[p].astype(np.float64)
        assert np.abs(np.array(view) - raw).max() > 1e-3  # the aligned view moved it ...
        assert np.allclose(page.evaluate("v => Array.from(window.heatmapLatent.toRaw(v))", view), raw, atol=1e-5)
        got = np.array(
            page.evaluate("v => Array.from(window.heatmapLatent.decode(window.heatmapLatent.toRaw(v)))", view)
        )
        assert np.abs(got - snapshot_decode(run, snapshots[1], raw[None])[0]).max() < 1e-3  # ... the decode did not
        page.locator("#align").uncheck()
        raw_view = page.evaluate(f"Array.from(window.heatmapLatent.viewCodes(1).subarray({3 * p}, {3 * p + 3}))")
        assert np.allclose(raw_view, raw, atol=1e-6)  # raw coordinates one click away
        page.locator("#play").click()
        page.wait_for_function("window.heatmapLatent.frame === 4", timeout=10_000)  # plays to the checkpoint
        assert errors == []


@pytest.mark.slow
@needs_chromium
def test_a_run_without_snapshots_gives_the_page_without_a_slider(pages):
    _, page_path = pages["vae-gaussian"]
    with open_page(page_path) as (page, errors):
        assert page.evaluate("window.heatmapLatent.frames.length") == 1
        assert not page.locator("#epoch-panel").is_visible()
        assert errors == []


@pytest.mark.slow
@needs_chromium
def test_javascript_encoder_equals_model_encode_for_every_model(pages):
    assert {f"{m}-{d}" for m, d in OTHER_MODELS} <= set(pages)  # every model of conf/model, both datasets
    with one_browser() as visit:
        _encode_every_page(pages, visit)


def _encode_every_page(pages, visit):
    for name, (run, page_path) in pages.items():
        images = run.datamodule.images
        pick = np.random.default_rng(0).choice(len(images), 100, replace=False)
        batch = images[torch.from_numpy(pick)].clone()
        noise = torch.from_numpy(np.random.default_rng(1).normal(0, 0.1, size=batch[50:].shape).astype(np.float32))
        batch[50:] = (batch[50:] + noise).clamp(0, 1)  # half real, half perturbed
        want = run.model.embed(batch).numpy()
        page, errors = visit(page_path)
        encode = "xs => xs.map(x => Array.from(window.heatmapLatent.encode(x)))"
        got = np.array(page.evaluate(encode, batch[:, 0].reshape(100, -1).tolist()))
        assert errors == [], (name, errors)
        assert got.shape == want.shape and np.abs(got - want).max() < 1e-4, (name, np.abs(got - want).max())


@pytest.mark.slow
@needs_chromium
def test_a_factor_slider_marks_the_code_of_the_exact_heatmap_and_decodes_it_back(pages):
    from heatmap_latent.data.heatmaps import gaussian_heatmaps

    run, page_path = pages["vae-gaussian"]
    with open_page(page_path) as (page, errors):
        assert page.locator("#factor-panel").is_visible()
        move = "v => { const s = document.getElementById('factor-var_x'); "
        move += "s.value = v; s.dispatchEvent(new Event('input')); }"
        for value in (0.7, 2.9):  # two moves of one slider: its trace holds both codes
            page.evaluate(move, value)
        assert page.evaluate("window.heatmapLatent.probes.trace.length") == 2
        z = np.array(page.evaluate("Array.from(window.heatmapLatent.probes.factorZ)"))
        factors = page.evaluate("['var_x', 'var_y', 'rho'].map(k => +document.getElementById('factor-' + k).value)")
        info = page.locator("#factor-info").inner_text()
        assert errors == []
    image = gaussian_heatmaps(*(np.array([v]) for v in factors), size=run.model.hparams.image_size)
    want = run.model.embed(torch.from_numpy(image)[:, None]).numpy()[0]
    assert factors[0] == pytest.approx(2.9, abs=0.03) and np.abs(z - want).max() < 1e-4
    assert f"var_x {factors[0]:.3f}" in info and "fitted to the decode" in info


@pytest.mark.slow
@needs_chromium
def test_the_clicked_code_is_traversed_dimension_by_dimension(pages):
    run, page_path = pages["vae-gaussian"]
    latents = run.model.embed(run.datamodule.images).numpy().astype(np.float64)
    with open_page(page_path) as (page, errors):
        box = page.locator("#slice").bounding_box()
        page.mouse.click(box["x"] + 0.4 * box["width"], box["y"] + 0.6 * box["height"])
        traversal = page.evaluate("window.heatmapLatent.probes.traversal")
        rows = page.locator("#traversals .traversal-row")
        assert rows.count() == 3 and rows.nth(0).locator("canvas").count() == 9
        tile = np.array(
            page.evaluate(
                "() => { const c = document.querySelectorAll('#traversals .traversal-row')[1].children[8]; "
                "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"
            )
        ).reshape(-1, 4)[:, 0]
        assert errors == []
    raw = np.array(traversal["raw"])
    want = raw[:, None] + latents.std(0)[:, None] * np.linspace(-3, 3, 9)[None]
    assert np.allclose(traversal["values"], want, atol=1e-5)
    z = raw.copy()
    z[1] = want[1, 8]  # the last image of the second row
    decoded = run.model.decode_batched(z[None])[0, 0].numpy().ravel()
    assert np.abs(tile - np.round(255 * decoded)).max() <= 1


@pytest.mark.slow
@needs_chromium
def test_the_controllability_map_equals_the_python_round_trip(pages):
    from heatmap_latent.data.heatmaps import gaussian_heatmaps

    run, page_path = pages["vae-gaussian"]
    with open_page(page_path) as (page, errors):
        cells = page.evaluate(
            "(() => { const m = window.heatmapLatent.actions.controlMap('var_x', 'rho', 'rho', 4); "
            "return {xs: m.xs, ys: m.ys, values: Array.from(m.values), fixed: m.fixed, ms: m.ms}; })()"
        )
        page.locator("#map-draw").click()
        assert "round trips in" in page.locator("#map-info").inner_text()
        assert errors == []
    var_x, rho = np.meshgrid(cells["xs"], cells["ys"])  # rows: y (rho), columns: x (var_x)
    var_y = np.full(var_x.size, cells["fixed"]["var_y"])
    images = gaussian_heatmaps(var_x.ravel(), var_y, rho.ravel(), size=run.model.hparams.image_size)
    codes = run.model.embed(torch.from_numpy(images)[:, None])
    _, fitted = realism_distance(run.model.decode_batched(codes)[:, 0].numpy(), -3, 3)
    want = np.abs(fitted["rho"] - rho.ravel())
    assert np.abs(np.array(cells["values"]) - want).max() < 1e-4


@pytest.mark.slow
@needs_chromium
def test_a_brushed_or_noised_image_is_encoded_where_python_encodes_it(pages):
    from heatmap_latent.data.heatmaps import gaussian_heatmaps

    run, page_path = pages["vae-gaussian"]
    with open_page(page_path) as (page, errors):
        start = page.evaluate(
            "(() => { const api = window.heatmapLatent, act = api.actions; act.resetPerturb(); "
            "act.perturbBump(5, 7, 0.5, 1.5); "
            "return {factors: api.probes.lastNearest.factors, code: Array.from(api.probes.perturb.code)}; })()"
        )
        noised = [
            page.evaluate(
                f"(() => {{ const api = window.heatmapLatent, act = api.actions; act.resetPerturb(); "
                f"act.perturbNoise({seed}, 0.05); "
                "return Array.from(api.probes.perturb.code); })()"
            )
            for seed in (3, 3, 4)
        ]
        # the host API is exactly the documented actions, each provided by its panel; none hangs on api
        host = page.evaluate(
            "(() => { const api = window.heatmapLatent; const names = Object.keys(api.actions).sort(); "
            "return {names: names, hung: names.filter((n) => n in api)}; })()"
        )
        assert host == {"names": sorted(HOST_ACTIONS), "hung": []}
        box = page.locator("#perturbed").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the brush itself
        assert "moved" in page.locator("#perturb-info").inner_text()
        assert errors == []
    f = start["factors"]
    size = run.model.hparams.image_size
    image = gaussian_heatmaps(np.array([f["var_x"]]), np.array([f["var_y"]]), np.array([f["rho"]]), size=size)[0]
    rows, cols = np.mgrid[0:size, 0:size]
    image = image + 0.5 * np.exp(-((rows - 7) ** 2 + (cols - 5) ** 2) / (2 * 1.5**2))  # the bump at x=5, y=7
    want = run.model.embed(torch.from_numpy(image.astype(np.float32))[None, None]).numpy()[0]
    assert np.abs(np.array(start["code"]) - want).max() < 1e-4
    assert noised[0] == noised[1] and noised[0] != noised[2]  # seeded: the same seed repeats


@pytest.mark.slow
def test_analyze_writes_the_explorer_with_every_kth_snapshot_when_asked(snapshot_page, tmp_path):
    import json as _json

    from tests.conftest import analyze_in_process

    run, _, _ = snapshot_page
    for every, epochs in ((0, None), (3, [1, 4])):  # every 3rd of epochs 1-4, and always the last
        out = tmp_path / str(every)
        analyze_in_process(
            out, f"run={run.run_dir}", "figures=false", "explorer=true", f"explorer_snapshots_every={every}"
        )
        page = (out / "explorer.html").read_text()
        start = page.index('id="explorer-data">') + len('id="explorer-data">')
        data = _json.loads(page[start : page.index("</script>", start)].replace("<\\/", "</"))
        got = [f["epoch"] for f in data["snapshots"]["frames"]] if data["snapshots"] else None
        assert got == epochs


def test_every_script_reaches_the_page_and_the_tab_and_panels_record_only_through_ui_probe():
    from heatmap_latent.explorer.page import SCRIPTS

    folder = ROOT / "heatmap_latent" / "explorer"
    assert set(SCRIPTS) == {p.name for p in folder.glob("*.js")}  # every script reaches the page and the tab
    assert SCRIPTS[0] == "ui.js" and SCRIPTS[-1] == "explorer.js"  # the core first, the API that starts it last
    for name in SCRIPTS:
        source = (folder / name).read_text()
        assert "api.state" not in source, name
        if name.startswith("ui_"):
            assert "api.probes" not in source, f"{name} reads the test hook; panels record through ui.probe only"


@needs_chromium
def test_a_panel_of_ones_own_registers_from_its_file_and_draws_on_every_selection(tiny_runs, tmp_path):
    """The built-in panels and a panel script of one's own (tests/own_panel.js) register themselves
    and the core starts each; the own panel redraws on every selection, from the decoded image."""
    from heatmap_latent.core.errors import UserError
    from heatmap_latent.explorer.page import SCRIPTS

    run = load_run(tiny_runs / "1")  # the AE on gaussian
    own = ROOT / "tests" / "own_panel.js"
    page_path = write_explorer(run, tmp_path / "explorer.html", snapshots_every=0, panels=[own])
    with open_page(page_path) as (page, errors):
        names = page.evaluate("window.heatmapLatentPanels.map((p) => p.name)")
        domains = page.evaluate("Object.keys(window.heatmapLatentDomains)")
        first = page.locator("#brightness").inner_text()
        box = page.locator("#slice").bounding_box()
        page.mouse.click(box["x"] + 0.62 * box["width"], box["y"] + 0.35 * box["height"])
        raw = np.array(page.evaluate("Array.from(window.heatmapLatent.probes.lastRaw)"))
        shown = page.evaluate("window.heatmapLatent.probes.brightness")
        text = page.locator("#brightness").inner_text()
        assert errors == []
    # one registered panel per built-in panel script, then the own one; the page carries its own domain only
    assert len(names) == len([s for s in SCRIPTS if s.startswith("ui_")]) + 1 and names[-1] == "brightness"
    assert domains == ["heatmaps"]
    want = float(run.model.decode_batched(raw[None]).numpy().mean())
    assert abs(shown - want) < 1e-5 and text.startswith(f"mean brightness {shown:.6f}") and text != first
    with pytest.raises(UserError, match="no panel script"):  # a missing script: one line, nothing written
        write_explorer(run, tmp_path / "other.html", panels=[tmp_path / "missing.js"])
    assert not (tmp_path / "other.html").exists()


@pytest.mark.slow
@needs_chromium
def test_a_5d_code_is_seen_in_its_principal_axes_and_a_click_moves_the_slice_to_it(pages):
    run, page_path = pages["tcvae-gelu-5d"]
    codes = run.model.embed(run.datamodule.images).numpy().astype(np.float64)
    z = probe_points(codes, n=20)
    with open_page(page_path) as (page, errors):
        assert page.locator("#view-axes").is_visible()
        page.locator("#pca").check()
        api = "window.heatmapLatent"
        view = np.array(page.evaluate(f"Array.from({api}.viewCodes())")).reshape(-1, 5)
        # the principal axes of the codes: variances falling, the axes uncorrelated, as numpy's own
        cov = np.cov(view.T, bias=True)
        assert np.abs(cov - np.diag(np.diag(cov))).max() < 1e-4 * cov.max()
        assert np.all(np.diff(np.diag(cov)) <= 1e-9)
        want = np.sort(np.linalg.eigvalsh(np.cov(codes.T, bias=True)))[::-1]
        assert np.allclose(page.evaluate(f"{api}.pca().variances"), want, rtol=1e-3, atol=1e-9)
        # undone before any decode: a point of the view decodes as model.decode of its raw code
        to_view = f"zs => zs.map(z => Array.from({api}.toView(z)))"
        views = page.evaluate(to_view, z.tolist())
        back = np.array(page.evaluate(f"vs => vs.map(v => Array.from({api}.toRaw(v)))", views))
        assert np.abs(back - z).max() < 1e-9
        got = np.array(page.evaluate(f"vs => vs.map(v => Array.from({api}.decode({api}.toRaw(v))))", views))
        with torch.no_grad():
            expected = run.model.decode(torch.as_tensor(z, dtype=torch.float32)).reshape(len(z), -1).numpy()
        assert np.abs(got - expected).max() < 1e-4
        # a click on a code decodes it and sets the sliders of the dimensions off the slice to its values
        assert page.evaluate(f"{api}.actions.pick(42)")
        picked = np.array(page.evaluate(f"Array.from({api}.probes.lastZ)"))
        assert np.allclose(picked, view[42], atol=1e-5)
        for k in (2, 3, 4):  # the slice's plane is z0-z1
            assert float(page.locator(f"#slider-z{k}").input_value()) == pytest.approx(view[42, k], abs=1e-5)
        assert np.allclose(page.evaluate(f"Array.from({api}.probes.lastRaw)"), codes[42], atol=1e-5)
        page.locator("#pca").uncheck()
        assert np.allclose(page.evaluate(f"Array.from({api}.probes.lastRaw)"), codes[42], atol=1e-5)  # the same code
        assert errors == []


def test_the_page_and_the_tab_build_one_data_of_the_same_keys_types_and_values(tiny_runs):
    """One builder (``page.page_data``) for both: the static page from ``last.ckpt`` and the Latent
    tab from the final snapshot of the same run (the same weights and codes) agree wherever both come
    from that checkpoint or snapshot. Where they differ, it is what each source is."""
    from heatmap_latent.explorer.live import snapshot_data
    from heatmap_latent.explorer.page import explorer_data

    run_dir = tiny_runs / "1"  # the AE on gaussian: its last snapshot holds every image's code
    static = explorer_data(load_run(run_dir, "last"), snapshots_every=0)
    tab = snapshot_data(run_dir)
    assert list(static) == list(tab)
    # what tells the sources apart: names, a checkpoint against a snapshot, the snapshot's epoch and
    # positions (the static page's codes are the whole dataset, in order), the encoder's label
    differ = {"name", "checkpoint", "final_label", "final_epoch", "index", "encoder", "epochs"}
    for key in static:
        if key in differ:
            continue
        assert static[key] == tab[key], key
    for key in differ - {"final_epoch", "index"}:
        assert type(static[key]) is type(tab[key]), key
    assert static["final_epoch"] is None and tab["final_epoch"] >= 1
    assert static["index"] is None and isinstance(tab["index"], str)
    assert static["encoder"]["layers"] == tab["encoder"]["layers"]  # the same weights, only the label differs
    assert static["channels"] == 1 and static["colourings"]  # once missing from the tab's data
