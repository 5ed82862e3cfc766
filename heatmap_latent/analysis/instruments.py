"""The instruments' constants, read from ``conf/analyze.yaml``'s ``instruments`` section and nowhere
else: an analysis passes its own (``analyze.py instruments.far_factor=4`` included) through
``EncodedRun.instruments``; a function called without one (a test, a notebook) reads the file's. A
default written into the code would be a second copy that a verdict could silently depend on."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from omegaconf import OmegaConf

from heatmap_latent.core.conf import CONF_DIR


@functools.cache
def configured() -> dict[str, Any]:
    """``conf/analyze.yaml``'s ``instruments`` section (read once; OmegaConf alone, not Hydra, so that
    it can be read inside a running Hydra application)."""
    return OmegaConf.to_container(OmegaConf.load(CONF_DIR / "analyze.yaml").instruments)  # type: ignore[return-value]


def instrument(name: str, value: Any = None, given: Mapping[str, Any] | None = None) -> Any:
    """``value`` when given, else ``given[name]`` (an analysis's section), else the file's."""
    if value is not None:
        return value
    source = given if given is not None else configured()
    if name not in source:
        raise KeyError(f"conf/analyze.yaml has no instruments.{name}")
    return source[name]
