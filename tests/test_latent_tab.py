"""The Latent tab: a real TensorBoard server over real runs, the tab in Chromium."""

from __future__ import annotations

import copy
import json
import shutil
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tensorboard.plugins.base_plugin import TBContext

from heatmap_latent.latent_tab.bench import tensorboard
from heatmap_latent.latent_tab.plugin import LatentTabPlugin
from heatmap_latent.training import train
from heatmap_latent.training.snapshots import DIRNAME, load_snapshots, write_snapshot
from tests.browser import CHROMIUM, needs_chromium
from tests.conftest import compose_train, in_process_run
from tests.test_dsprites_file import write_dsprites

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("latent_tab")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    """``logs/runs/a``: a tiny VAE trained 3 epochs with a snapshot each; ``b``: a copy of it (a
    second run to put beside it); ``old``: a run without snapshots; ``sprites``: a colour sprites
    beta-VAE (32x32x3, another domain) with 2 snapshots; ``dsprites_file``: a VAE with
    disentanglement_lib's network on a tiny dSprites file (64x64), one snapshot; ``outside``: a run
    outside the log directory, with a symlink ``logs/runs/link`` to it."""
    root = tmp_path_factory.mktemp("tab")
    run = root / "logs" / "runs" / "a"
    # snapshots of fewer images than the dataset has: their positions are not their rows
    snaps = ["log_latents_every_n_epochs=1", "callbacks.latent_snapshots.max_points=60"]
    cfg = compose_train(run, "trainer.max_epochs=3", "logger=none", *snaps)
    train(cfg)
    (run / ".hydra").mkdir()
    (run / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    (run / ".hydra" / "overrides.yaml").write_text("- model=vae\n- seed=42\n")
    shutil.copytree(run, run.parent / "b")
    shutil.copytree(run, run.parent / "old")
    shutil.rmtree(run.parent / "old" / DIRNAME)
    shutil.copytree(run, root / "outside")
    (run.parent / "link").symlink_to(root / "outside", target_is_directory=True)
    sprites = ["data=sprites", "data.colour=true", "data.scale.size=2", "data.position.size=3", "model=beta_vae"]
    in_process_run(
        run.parent / "sprites",
        *sprites,
        "trainer.max_epochs=2",
        "logger=none",
        "log_latents_every_n_epochs=1",
        tiny=False,
    )
    # a run on a file dataset with disentanglement_lib's network (stride-2 convolutions, no pooling, 64x64)
    in_process_run(
        run.parent / "dsprites_file",
        "data=dsprites_file",
        f"data.path={write_dsprites(root / 'dsprites_tiny.npz')}",
        "model=vae",
        "model/net=dlib_conv",
        "model.latent_dim=3",
        "trainer.max_epochs=1",
        "logger=none",
        "log_latents_every_n_epochs=1",
        tiny=False,
    )
    # a 2x2 sweep (model x seed) for the atlas, laid out as Hydra's multirun: 0..3 with their overrides
    for job, (model, seed) in enumerate((m, s) for m in ("vae", "ae") for s in (1, 2)):
        in_process_run(
            root / "logs" / "runs" / "sweep" / str(job),
            f"model={model}",
            f"seed={seed}",
            "trainer.max_epochs=2",
            "logger=none",
            *snaps,
        )
    return root / "logs"


@pytest.fixture(scope="module")
def server(logdir):
    """``tensorboard --logdir <logdir>`` on 127.0.0.1 and a free port; stopped after the tests."""
    with tensorboard(logdir) as url:
        yield url


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.slow
def test_the_tab_is_registered_and_lists_runs_with_and_without_snapshots(server):
    _, listing = get(server + "/data/plugins_listing")
    tab = listing["heatmap_latent"]
    assert tab["enabled"] and tab["tab_name"] == "Latent"
    assert tab["loading_mechanism"] == {"type": "IFRAME", "module_path": "/data/plugin/heatmap_latent/index.js"}
    status, runs = get(server + "/data/plugin/heatmap_latent/runs")
    by_run = {r["run"]: r for r in runs["runs"]}
    assert status == 200 and set(by_run) == {
        "runs/a",
        "runs/b",
        "runs/old",
        "runs/sprites",
        "runs/dsprites_file",
        *(f"runs/sweep/{job}" for job in range(4)),
    }  # the symlink is not followed
    assert by_run["runs/a"]["epochs"] == [1, 2, 3] and by_run["runs/a"]["label"] == "model=vae seed=42"
    assert by_run["runs/old"]["epochs"] == [] and "no snapshots" in by_run["runs/old"]["problem"]


@pytest.mark.slow
def test_the_backend_reads_only_inside_its_log_directory(server, logdir):
    base = server + "/data/plugin/heatmap_latent/data?run="
    status, data = get(base + "runs/a")
    assert status == 200 and data["final_epoch"] == 3 and [f["epoch"] for f in data["snapshots"]["frames"]] == [1, 2]
    outside = logdir.parent / "outside"
    for run in ("../outside", str(outside), "runs/link", "runs/../../outside", "", "runs/old"):
        status, body = get(base + urllib.request.quote(run))
        assert status == 404 and set(body) == {"error"}, run
    assert "not a run inside the log directory" in get(base + "runs/link")[1]["error"]
    assert "has no snapshots" in get(base + "runs/old")[1]["error"]
    # the earlier frames' weights: a binary blob per epoch (explorer/frames.py), fetched as needed
    from heatmap_latent.explorer.frames import weights_of
    from heatmap_latent.explorer.page import decoder_weights

    frames, steps = data["snapshots"]["frames"], data["snapshots"]["steps"]
    assert [f["weights"] for f in frames] == [{"url": f"frame?run=runs/a&epoch={e}"} for e in (1, 2)]
    plugin = server + "/data/plugin/heatmap_latent/"
    blobs = [urllib.request.urlopen(plugin + f["weights"]["url"], timeout=30).read() for f in frames]
    model = instantiate(OmegaConf.load(logdir / "runs" / "a" / ".hydra" / "config.yaml").model)
    snaps = load_snapshots(logdir / "runs" / "a")

    def weights(snap):
        model.decoder.load_state_dict({name: torch.from_numpy(v) for name, v in snap.decoder.items()})
        return decoder_weights(model.decoder)

    latest = weights(snaps[-1])  # the chain ends at the latest snapshot's float32 weights, in the data
    for k, snap in enumerate(snaps[:2]):
        for got, want, st in zip(weights_of(latest, blobs[k:], steps), weights(snap), steps):
            assert (got is None) == (want is None)
            for g, w, step in zip(got or (), want or (), st or ()):
                assert np.abs(g.astype(np.float64) - w).max() <= step / 2 + 1e-7
    assert "latest snapshot: its weights are in the data" in get(plugin + "frame?run=runs/a&epoch=3")[1]["error"]
    # the latest snapshot's float32 weights: not in the data's layers, binary from the weights route
    from heatmap_latent.explorer.frames import unpack

    assert data["weights_url"] == "weights?run=runs/a&epoch=3"
    assert not any("weight" in layer for layer in data["decoder"]["layers"] + data["encoder"]["layers"])
    arrays = unpack(urllib.request.urlopen(plugin + "weights?run=runs/a&epoch=latest", timeout=30).read())
    assert arrays["epoch"].tolist() == [3]
    for i, pair in enumerate(latest):
        if pair is not None:
            assert np.array_equal(arrays[f"decoder.{i}.w"], pair[0].ravel())
            assert np.array_equal(arrays[f"decoder.{i}.b"], pair[1].ravel())
    assert {k.split(".")[0] for k in arrays} == {"epoch", "decoder", "encoder"}
    assert get(plugin + "weights?run=runs/a&epoch=7")[0] == 422
    assert get(plugin + "frame?run=runs/a&epoch=99") == (
        422,
        {"error": f"{logdir / 'runs' / 'a'} has no snapshot at epoch 99"},
    )
    assert get(plugin + "frame?run=runs/a&epoch=x")[0] == 400
    assert get(plugin + "frame?run=../outside&epoch=1")[0] == 404


def test_is_active_only_with_a_run_that_has_snapshots(tmp_path):
    from heatmap_latent.training.snapshots import Snapshot

    run = tmp_path / "runs" / "a"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text("model: {}\ndata: {}\n")
    assert not LatentTabPlugin(TBContext(logdir=str(tmp_path))).is_active()  # a run, but no snapshot
    assert not LatentTabPlugin(TBContext(logdir=str(tmp_path / "missing"))).is_active()
    snap = Snapshot(1, 5, np.arange(3), np.zeros((3, 2)), np.zeros(3), {}, {"w": np.ones(2)})
    write_snapshot(run, snap, {"seconds": 0.0, "final": True})
    assert LatentTabPlugin(TBContext(logdir=str(tmp_path))).is_active()


@pytest.mark.slow  # its logdir fixture trains
def test_the_tab_encodes_with_the_latest_snapshots_encoder_or_says_why_not(logdir, tmp_path):
    from heatmap_latent.core.errors import UserError
    from heatmap_latent.explorer.live import snapshot_data
    from heatmap_latent.training.snapshots import read_index

    run = tmp_path / "a"
    shutil.copytree(logdir / "runs" / "a", run)
    data = snapshot_data(run)
    assert data["encoder"]["label"] == f"the latest snapshot's (epoch {read_index(run)[-1]['epoch']})"
    assert data["no_encoder"] is None and [layer["type"] for layer in data["encoder"]["layers"]][0] == "conv"
    latest = load_snapshots(run)[-1]
    latest.encoder = {}  # written with latent_snapshots.encoder=false
    write_snapshot(run, latest, {"seconds": 0.0, "final": True})
    data = snapshot_data(run)
    assert data["encoder"] is None and "hold no encoder" in data["no_encoder"]
    latest.encoder = {"encoder.conv.0.weight": np.zeros((1, 1, 3, 3), dtype=np.float32)}  # another model's
    write_snapshot(run, latest, {"seconds": 0.0, "final": True})
    with pytest.raises(UserError, match="other encoder weights than its config builds"):
        snapshot_data(run)


def decode_with(logdir: Path, snapshot, z: np.ndarray, run: str = "a") -> np.ndarray:
    from hydra.utils import instantiate

    cfg = OmegaConf.load(logdir / "runs" / run / ".hydra" / "config.yaml")
    decoder = copy.deepcopy(instantiate(cfg.model).decoder)
    decoder.load_state_dict({k: torch.from_numpy(v) for k, v in snapshot.decoder.items()})
    with torch.no_grad():
        return torch.sigmoid(decoder(torch.as_tensor(z, dtype=torch.float32))).numpy().reshape(len(z), -1)


def encode_with(logdir: Path, snapshot, images: np.ndarray, run: str = "a") -> np.ndarray:
    """``model.encode`` of ``images`` (N, S, S) with the snapshot's encoder weights."""
    from hydra.utils import instantiate

    model = instantiate(OmegaConf.load(logdir / "runs" / run / ".hydra" / "config.yaml").model).eval()
    assert set(snapshot.encoder) == set(model.encoding_state_dict()) and snapshot.encoder
    model.load_state_dict({k: torch.from_numpy(v) for k, v in snapshot.encoder.items()}, strict=False)
    return model.embed(torch.as_tensor(images, dtype=torch.float32)[:, None]).numpy()


@contextmanager
def open_tab(server: str, width: int, height: int):
    """The Latent tab in headless Chromium, and the list its JavaScript errors go to."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM or "chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("pageerror", lambda err: errors.append(f"uncaught: {err}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
            page.goto(server + "/#heatmap_latent")
            yield page, errors
        finally:
            browser.close()


def panel(page, run: str, timeout_s: float = 30):
    """The frame of ``run``'s panel once its explorer has started."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if f"run={run.replace('/', '%2F')}" in frame.url and frame.evaluate("!!window.heatmapLatent"):
                return frame
        page.wait_for_timeout(200)
    raise AssertionError(f"no panel of {run} started")


@pytest.mark.slow
@needs_chromium
def test_the_latent_tab_decodes_with_each_epochs_weights_shows_new_snapshots_and_links_runs(server, logdir):
    from heatmap_latent.data.heatmaps import gaussian_heatmaps

    snapshots = load_snapshots(logdir / "runs" / "a")
    z = np.random.default_rng(0).normal(size=(10, 3)) * 2
    with open_tab(server, 1600, 1400) as (page, errors):
        a = panel(page, "runs/a")  # the first run with snapshots opens by itself
        labels = a.evaluate("window.heatmapLatent.frames.map(f => f.label)")
        assert labels == ["epoch 1", "epoch 2", "epoch 3 (latest snapshot)"]
        decode = "zs => zs.map(z => Array.from(window.heatmapLatent.decode(z)))"
        assert np.abs(np.array(a.evaluate(decode, z.tolist())) - decode_with(logdir, snapshots[-1], z)).max() < 1e-4
        # the encoder in the tab: the latest snapshot's, equal to model.encode with its weights
        assert a.locator("#encoder-label").inner_text() == "the latest snapshot's (epoch 3)"
        assert a.locator("#factor-panel").is_visible() and a.locator("#factor-sliders input").count() == 3
        size = a.evaluate("window.heatmapLatent.imageSize")
        heatmaps = gaussian_heatmaps(
            np.array([0.5, 1.5, 2.5]), np.array([2.0, 0.7, 1.1]), np.array([0.3, -0.6, 0.0]), size=size
        )
        noisy = np.clip(heatmaps + np.random.default_rng(1).normal(0, 0.1, heatmaps.shape), 0, 1).astype(np.float32)
        batch = np.concatenate([heatmaps, noisy])
        encode = "xs => xs.map(x => Array.from(window.heatmapLatent.encode(x)))"
        got = np.array(a.evaluate(encode, batch.reshape(len(batch), -1).tolist()))
        assert np.abs(got - encode_with(logdir, snapshots[-1], batch)).max() < 1e-4
        # the factor panel: set factors, the code of their exact heatmap is marked and decoded
        a.evaluate("window.heatmapLatent.actions.setFactors({var_x: 0.5, var_y: 2.0, rho: 0.3})")
        marked = np.array(a.evaluate("Array.from(window.heatmapLatent.probes.factorZ)"))
        assert np.abs(marked - encode_with(logdir, snapshots[-1], heatmaps[:1])[0]).max() < 1e-4
        a.evaluate("window.heatmapLatent.actions.perturbNoise(3, 0.1)")  # the brush's encode runs in the tab too
        assert a.evaluate("window.heatmapLatent.probes.perturb.code.length") == 3
        # an earlier epoch: its weights fetched from the frame route when the slider needs them
        assert not a.evaluate("window.heatmapLatent.isLoaded(0)")
        a.evaluate("window.heatmapLatent.actions.showFrame(0)")
        assert np.abs(np.array(a.evaluate(decode, z.tolist())) - decode_with(logdir, snapshots[0], z)).max() < 1e-3
        # the run writes another snapshot while the tab is open: it appears in the slider
        later = copy.deepcopy(snapshots[-1])
        later.epoch, later.step = 4, later.step + 1
        later.decoder = {k: v * 1.01 for k, v in later.decoder.items()}
        write_snapshot(logdir / "runs" / "a", later, {"seconds": 0.0, "final": True})
        a = None
        deadline = time.monotonic() + 20
        while a is None and time.monotonic() < deadline:
            frame = panel(page, "runs/a")
            if frame.evaluate("window.heatmapLatent.frames.length") == 4:
                a = frame
            page.wait_for_timeout(300)
        assert a is not None and a.evaluate("window.heatmapLatent.frames[3].label") == "epoch 4 (latest snapshot)"
        assert np.abs(np.array(a.evaluate(decode, z.tolist())) - decode_with(logdir, later, z)).max() < 1e-4
        # a second run beside it: hovering an image's code in one highlights it in the other
        tab = next(f for f in page.frames if "plugin_entry" in f.url)
        tab.locator('label[data-run="runs/b"] input').check()
        b = panel(page, "runs/b")
        row = 17
        image = a.evaluate(f"window.heatmapLatent.imageOf({row})")
        x, y = a.evaluate(f"window.heatmapLatent.actions.scatterXY({row})")
        canvas = a.locator("#scatter").bounding_box()
        page.mouse.move(canvas["x"] + x, canvas["y"] + y)
        page.wait_for_timeout(200)
        assert b.evaluate("window.heatmapLatent.probes.highlighted") == image
        page.mouse.click(canvas["x"] + x, canvas["y"] + y)  # picking it: the other run decodes its own code
        picked = b.evaluate("window.heatmapLatent.nearest(window.heatmapLatent.probes.lastRaw).index")
        assert picked == image
        # a run of another domain (colour sprites, 3 channels): decoded with each epoch's weights
        tab.locator('label[data-run="runs/sprites"] input').check()
        sp = panel(page, "runs/sprites")
        assert sp.evaluate("window.heatmapLatent.frames.map(f => f.label)") == [
            "epoch 1",
            "epoch 2 (latest snapshot)",
        ]
        sprite_snaps = load_snapshots(logdir / "runs" / "sprites")
        got = np.array(sp.evaluate(decode, z.tolist()))
        assert got.shape == (10, 3 * 32 * 32)
        assert np.abs(got - decode_with(logdir, sprite_snaps[-1], z, "sprites")).max() < 1e-4
        sp.evaluate("window.heatmapLatent.actions.showFrame(0)")
        # the scores written with each snapshot, drawn in the tab beside the KL (scores/timeline.py)
        shown = sp.evaluate("window.heatmapLatent.probes.scoresShown")
        assert shown["label"] == "epoch 1" and set(shown["scores"]) >= {"mig", "sap", "beta_vae", "factor_vae"}
        assert shown["scores"] == pytest.approx(sprite_snaps[0].scores, abs=1e-12)
        assert (
            np.abs(np.array(sp.evaluate(decode, z.tolist())) - decode_with(logdir, sprite_snaps[0], z, "sprites")).max()
            < 1e-3
        )
        # a run on a file dataset with disentanglement_lib's network: the file's factors in the panel, its
        # decoder and encoder (stride-2 convolutions without pooling) equal to torch's
        tab.locator('label[data-run="runs/dsprites_file"]').locator("input").check()
        ds = panel(page, "runs/dsprites_file")
        names = ds.evaluate("window.heatmapLatent.declaration.map(f => f.name)")
        assert names == ["shape", "scale", "orientation", "posX", "posY"]
        file_snaps = load_snapshots(logdir / "runs" / "dsprites_file")
        got = np.array(ds.evaluate(decode, z.tolist()))
        assert got.shape == (10, 64 * 64)
        assert np.abs(got - decode_with(logdir, file_snaps[-1], z, "dsprites_file")).max() < 1e-4
        sprites_64 = np.random.default_rng(2).random((2, 64, 64)).round().astype(np.float32)
        coded = np.array(ds.evaluate(encode, sprites_64.reshape(2, -1).tolist()))
        assert np.abs(coded - encode_with(logdir, file_snaps[-1], sprites_64, "dsprites_file")).max() < 1e-4
        old = tab.locator('label[data-run="runs/old"]')
        assert old.locator("input").is_disabled() and "no snapshots" in old.inner_text()
        assert errors == []


@pytest.mark.slow
@needs_chromium
def test_the_first_frame_bench_reports_the_panels_draw_and_its_downloads(logdir):
    from heatmap_latent.latent_tab.bench import measure

    figures = measure(logdir / "runs" / "b", CHROMIUM, repeats=1)  # b: 3 snapshots, none added later
    assert figures["snapshots"] == 3 and len(figures["first_draw_ms"]) == 1 and figures["first_draw_ms"][0] > 0
    assert 0 < figures["data_bytes"] and len(figures["frame_bytes"]) == 2  # the two earlier epochs, fetched
    assert figures["slider_to_first_epoch_ms"][0] > 0


@pytest.mark.slow
@needs_chromium
def test_the_atlas_puts_a_2x2_sweep_in_one_frame_linked_image_by_image(server, logdir):
    sweep = [f"runs/sweep/{job}" for job in range(4)]
    snaps = {run: load_snapshots(logdir / run) for run in sweep}
    with open_tab(server, 1800, 1400) as (page, errors):
        panel(page, "runs/a")  # the first run opens by itself: close it, open the sweep
        tab = next(f for f in page.frames if "plugin_entry" in f.url)
        tab.locator('label[data-run="runs/a"] input').uncheck()
        for run in sweep:
            tab.locator(f'label[data-run="{run}"] input').check()
        frames = {run: panel(page, run) for run in sweep}
        tab.locator("#atlas").check()
        state = tab.evaluate("window.heatmapLatentTab.atlas")
        assert state["runs"] == sweep and state["problems"] == [] and set(state["varying"]) == {"model", "seed"}
        assert "coloured by" in tab.locator("#atlas-info").inner_text()
        ref = snaps[sweep[0]][-1]
        for run, frame in frames.items():
            assert frame.evaluate("document.body.classList.contains('compact')")
            label, fit = frame.locator("header h1").inner_text().split(" · ")
            assert label in {f"model={m} seed={s}" for m in ("vae", "ae") for s in (1, 2)}
            # the latest frame's codes, mapped onto the reference's codes of the same images by least squares
            latest = snaps[run][-1]
            assert np.array_equal(latest.index, ref.index)  # one dataset: the same snapshot images
            x = np.hstack([latest.codes.astype(np.float64), np.ones((len(latest.codes), 1))])
            coef = np.linalg.lstsq(x, ref.codes.astype(np.float64), rcond=None)[0]
            view = np.array(frame.evaluate("Array.from(window.heatmapLatent.viewCodes())")).reshape(-1, 3)
            assert np.abs(view - x @ coef).max() < 1e-3
            # the label says how much of the reference's spread the fit explains (1: an affine copy)
            target = ref.codes.astype(np.float64)
            r2 = 1 - ((x @ coef - target) ** 2).sum() / ((target - target.mean(0)) ** 2).sum()
            assert fit == f"R² {r2:.3f}" and (run != sweep[0] or fit == "R² 1.000")
            if run == sweep[0]:
                assert np.abs(view - ref.codes).max() < 1e-4  # the reference stays where it is
        # hover an image's code in one run: every other run rings the same image
        row = 11
        first = frames[sweep[0]]
        image = first.evaluate(f"window.heatmapLatent.imageOf({row})")
        x, y = first.evaluate(f"window.heatmapLatent.actions.scatterXY({row})")
        box = first.locator("#scatter").bounding_box()
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(200)
        for run in sweep[1:]:
            assert frames[run].evaluate("window.heatmapLatent.probes.highlighted") == image
        # a click: each run decodes its own code of that image, with its own decoder
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(200)
        for run in sweep[1:]:
            api = "window.heatmapLatent"
            raw = np.array(frames[run].evaluate(f"Array.from({api}.probes.lastRaw)"))
            latest = snaps[run][-1]
            position = int(np.flatnonzero(latest.index == image)[0])
            assert np.abs(raw - latest.codes[position]).max() < 1e-4
            got = np.array(frames[run].evaluate(f"Array.from({api}.probes.lastDecoded)"))
            assert np.abs(got - decode_with(logdir, latest, raw[None], f"../{run}")[0]).max() < 1e-4
        # one epoch for all: the tab's slider moves every run to epoch 1, still in the atlas
        slide = "() => { const s = document.getElementById('atlas-epoch'); s.value = 0; "
        tab.evaluate(slide + "s.dispatchEvent(new Event('input')); }")
        for frame in frames.values():
            frame.wait_for_function("window.heatmapLatent.frame === 0", timeout=10_000)
            assert frame.evaluate("window.heatmapLatent.frames[0].epoch") == 1
        # a run of another dataset (its positions name other images) is left out, with the reason
        tab.locator('label[data-run="runs/sprites"] input').check()
        panel(page, "runs/sprites")
        tab.wait_for_function("window.heatmapLatentTab.atlas.runs.length === 5", timeout=10_000)
        problems = tab.evaluate("window.heatmapLatentTab.atlas.problems")
        assert len(problems) == 1 and problems[0].startswith("runs/sprites: another dataset")
        assert "another dataset" in tab.locator("#atlas-info").inner_text()
        tab.locator("#atlas").uncheck()
        assert not frames[sweep[1]].evaluate("document.body.classList.contains('compact')")
        assert errors == []
