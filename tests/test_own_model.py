"""A model of the user's own in two files (tests/own_model.py, tests/own_conf/model/sparse_ae.yaml),
without a line of the package changed: it trains with train.py's config and its loss falls, logs its own
term, is refused by the analysis until trusted (the config's allow-list or the entry-point group), is
then analysed, and its explorer page decodes as torch does."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from heatmap_latent.analysis.loading import RunLoadError, load_run
from heatmap_latent.models.plugins import ENTRY_POINT_GROUP, registered_models
from heatmap_latent.training import train
from tests.browser import needs_chromium, open_page
from tests.conftest import ROOT, analyze_in_process, compose_train, in_process_run
from tests.own_model import SparseAE

OWN_CONF = ROOT / "tests" / "own_conf"
SPARSE = [f"hydra.searchpath=[file://{OWN_CONF}]", "model=sparse_ae"]
TARGET = "tests.own_model.SparseAE"


@pytest.fixture(scope="module")
def sparse_run(tmp_path_factory):
    """Two epochs of the model of one's own on the tiny grid, trained in this process."""
    run_dir = tmp_path_factory.mktemp("sparse") / "run"
    return in_process_run(run_dir, *SPARSE, "trainer.max_epochs=2", "logger=none")


def test_a_model_of_ones_own_trains_from_its_yaml_and_its_loss_falls(tmp_path):
    cfg = compose_train(tmp_path, *SPARSE, "debug=overfit", "trainer.max_epochs=8", "logger=none")
    assert cfg.model._target_ == TARGET and cfg.model.l1 == 0.01 and cfg.model.optimizer.lr == 1e-3  # the backbone's
    torch.manual_seed(cfg.seed)
    dm = instantiate(cfg.data)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))["image"]
    with torch.no_grad():
        initial = instantiate(cfg.model).eval().loss_terms(batch)["loss"].item()
    metrics = train(cfg)
    assert 0 < metrics["train/loss"] < initial
    assert math.isfinite(metrics["train/sparsity"]) and math.isfinite(metrics["test/sparsity"])  # its own term


def test_a_model_of_ones_own_is_refused_in_one_line_until_trusted_then_analysed(sparse_run, tmp_path):
    with pytest.raises(RunLoadError, match=r"model\._target_=tests\.own_model\.SparseAE is not a class") as err:
        load_run(sparse_run)
    assert ENTRY_POINT_GROUP in str(err.value) and "trust_models" in str(err.value)
    run = load_run(sparse_run, trusted_model=[TARGET])
    assert isinstance(run.model, SparseAE) and run.model.kind == "sparse_ae" and run.model.hparams.l1 == 0.01
    result = analyze_in_process(tmp_path, f"run={sparse_run}", f"trust_models=[{TARGET}]", "figures=false")
    (metrics,) = result["runs"].values()
    assert metrics["run"]["model"] == "sparse_ae" and metrics["run"]["model_class"] == "SparseAE"
    assert metrics["reconstruction"]["mean"] > 0 and len(metrics["traversals"]["image_change"]) == 3
    assert [g["role"] for g in result["groups"]] == ["sparse_ae@gaussian"]


def test_a_trusted_name_that_is_no_model_is_still_refused(sparse_run, tmp_path):
    from heatmap_latent.analysis.loading import load_config

    (tmp_path / ".hydra").mkdir()
    text = (sparse_run / ".hydra" / "config.yaml").read_text().replace(TARGET, "collections.OrderedDict")
    (tmp_path / ".hydra" / "config.yaml").write_text(text)
    with pytest.raises(RunLoadError, match="collections.OrderedDict is not a class this project configures"):
        load_config(tmp_path, trusted_model=["collections.OrderedDict"])


def test_an_installed_package_trusts_its_model_by_the_entry_point_group(sparse_run, tmp_path, monkeypatch):
    info = tmp_path / "own_models-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: own-models\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nsparse_ae = tests.own_model:SparseAE\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registered_models() == {"sparse_ae": TARGET}
    assert isinstance(load_run(sparse_run).model, SparseAE)


@needs_chromium
def test_a_model_of_ones_own_opens_in_the_explorer_and_decodes_as_torch(sparse_run, tmp_path):
    from heatmap_latent.explorer import write_explorer

    run = load_run(sparse_run, trusted_model=[TARGET])
    page_path = write_explorer(run, tmp_path / "explorer.html")
    latents = run.model.embed(run.datamodule.images).numpy()
    z = latents[:8] + 0.1
    with open_page(page_path) as (page, errors):
        got = np.array(page.evaluate("zs => zs.map(z => Array.from(window.heatmapLatent.decode(z)))", z.tolist()))
        assert errors == []
    want = run.model.decode_batched(z).numpy().reshape(len(z), -1)
    assert np.abs(got - want).max() < 1e-4
