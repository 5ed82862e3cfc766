"""One source per default: the constructors' signatures. The schemas are derived from them, and the
YAML sets only what a constructor cannot know or what makes an option what it is."""

import dataclasses
import inspect
import re

import pytest
from hydra.core.config_store import ConfigStore
from hydra.utils import get_class
from omegaconf import OmegaConf

from heatmap_latent.core.conf import CONF_DIR
from heatmap_latent.training.schema import TrainSchema, constructor_defaults
from tests.conftest import compose_train

# what the YAML may set that no constructor owns: interpolations and the injected partials
INJECTED = {"image_size", "image_channels", "optimizer", "scheduler"}
OPTIONS = [(group, p.stem) for group in ("model", "data") for p in sorted((CONF_DIR / group).glob("[!_]*.yaml"))]


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _own_keys(group: str, option: str) -> set[str]:
    """The keys an option's own file sets (not those its defaults list brings in)."""
    raw = OmegaConf.to_container(OmegaConf.load(CONF_DIR / group / f"{option}.yaml"))
    return {k for k in raw if k not in ("defaults", "_target_")}


@pytest.mark.parametrize(("group", "option"), OPTIONS)
def test_the_yaml_and_the_schema_follow_the_constructor(tmp_path, group, option):
    cfg = compose_train(tmp_path, f"{group}={option}", tiny=False)[group]
    composed = OmegaConf.to_container(cfg, resolve=True)
    written = OmegaConf.to_container(cfg, resolve=False)
    params = constructor_defaults(get_class(cfg._target_))
    own = _own_keys(group, option)
    for key, param in params.items():
        assert key in composed, f"{group}={option}: {key} is not in the composed config"
        interpolated = isinstance(written[key], str) and written[key].startswith("${")
        if param.default is inspect.Parameter.empty or key in INJECTED or interpolated:
            continue  # a required argument (the dataset's grid), an injected node, ${seed}: the YAML's
        if key in own:  # the option's own file sets it: only to make the option what it is
            assert composed[key] != _plain(param.default), f"{option}.yaml repeats the default {key}={param.default}"
        else:
            assert composed[key] == _plain(param.default), f"{group}={option}: {key} disagrees with the constructor"
    unknown = set(composed) - set(params) - {"_target_", "_recursive_", "_convert_"}
    assert not unknown, f"{group}={option} sets keys no constructor takes: {unknown}"


def test_the_shared_backbone_sets_no_hyperparameter():
    raw = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / "_backbone.yaml"))
    assert set(raw) - {"defaults", "_recursive_", "_convert_"} <= INJECTED  # how Hydra builds it, not what
    assert raw["_recursive_"] is False and raw["_convert_"] == "all"
    assert raw["image_size"] == "${oc.select:data.image_size,${oc.select:data.grid.size,null}}"
    assert raw["image_channels"] == "${oc.select:data.image_channels,1}"


SCHEMAS = [
    "_schema_ae",
    "_schema_vae",
    "_schema_tcvae",
    "_schema_mmd_vae",
    "_schema_capacity_vae",
    "_schema_factor_vae",
]


DATA_SCHEMAS = ("_schema", "_schema_sprites", "_schema_dsprites_file", "_schema_shapes3d", "_schema_mpi3d")


@pytest.mark.parametrize("name", [*SCHEMAS, *DATA_SCHEMAS])
def test_every_schema_default_is_its_constructors(name):
    group = "data" if name in DATA_SCHEMAS else "model"
    node = ConfigStore.instance().repo[group][f"{name}.yaml"].node
    option = next(
        o for g, o in OPTIONS if g == group and re.search(rf"- {name}$", (CONF_DIR / g / f"{o}.yaml").read_text(), re.M)
    )
    cls = get_class(OmegaConf.load(CONF_DIR / group / f"{option}.yaml")._target_)
    params = constructor_defaults(cls)
    keys = [k for k in node if k not in ("_target_", "_recursive_", "_convert_")]
    assert keys == list(params), f"{name}: the schema's keys are not the constructor's"
    for key, param in params.items():
        if param.default is not inspect.Parameter.empty:
            assert OmegaConf.to_container(node)[key] == _plain(param.default), f"{name}.{key}"


def test_channels_last_has_one_value_everywhere(tmp_path):
    from heatmap_latent.models import LatentAutoencoder

    cfg = compose_train(tmp_path, tiny=False)
    node = ConfigStore.instance().repo["model"]["_schema_vae.yaml"].node
    default = inspect.signature(LatentAutoencoder.__init__).parameters["channels_last"].default
    assert cfg.model.channels_last is node.channels_last is default is True


def test_train_yaml_holds_its_own_values():
    """The top-level keys' values are in train.yaml; the schema only types them."""
    nodes = ("paths", "data", "model", "trainer", "callbacks", "logger")
    scalar = [f for f in dataclasses.fields(TrainSchema) if f.name not in nodes]
    assert all(f.default == "???" for f in scalar), [f.name for f in scalar if f.default != "???"]
    raw = OmegaConf.load(CONF_DIR / "train.yaml")
    assert all(f.name in raw for f in scalar)
