"""The OmegaConf resolvers that ``conf/`` uses (``${resume_run_dir:...}``, ``${digest:...}``, ...)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from heatmap_latent.core.precision import fastest_precision as _fastest


def resume_run_dir(ckpt_path: Any, default: str) -> str:
    """``hydra.run.dir`` of a run: a checkpoint inside ``<run>/checkpoints/`` resumes in ``<run>``."""
    if isinstance(ckpt_path, str) and ckpt_path.endswith(".ckpt"):
        path = Path(ckpt_path).expanduser()
        if path.parent.name == "checkpoints":
            return str(path.parent.parent)
    return default


def digest(text: str) -> str:
    """``${digest:TEXT}``: 10 hex digits of SHA-256, a short directory name for a set of overrides."""
    return hashlib.sha256(str(text).encode()).hexdigest()[:10]


def fastest_precision(accelerator: str) -> str:
    """``${fastest_precision:ACCELERATOR}``: ``bf16-mixed`` where that device runs bf16 natively
    (a CUDA device with bf16, a CPU with AVX512-BF16 or AMX), else ``32-true`` (core/precision.py)."""
    return _fastest(accelerator).precision


def colour_channels(colour: Any) -> int:
    """``${colour_channels:COLOUR}``: an image's channels, 3 in colour and 1 in grey (``conf/data/sprites.yaml``)."""
    return 3 if bool(colour) else 1


RESOLVERS = {
    "colour_channels": colour_channels,
    "resume_run_dir": resume_run_dir,
    "digest": digest,
    "fastest_precision": fastest_precision,
}


def register_resolvers() -> None:
    for name, fn in RESOLVERS.items():
        OmegaConf.register_new_resolver(name, fn, replace=True)
