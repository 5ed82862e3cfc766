"""A job's config hash: what ``job.json`` records, and what resume and the frozen sweeps compare."""

from __future__ import annotations

import hashlib
import json

from omegaconf import DictConfig, OmegaConf

# keys that do not change what a job computes (data.num_workers: the same batches drawn elsewhere; a
# run from before the key existed keeps its hash)
UNHASHED_KEYS = ("resume", "ckpt_path", "paths", "break_lock", "data.num_workers")


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of the config as written (interpolations unresolved, so a job's own output paths,
    which the callbacks interpolate, do not enter it) without the keys that do not change the result."""
    container = OmegaConf.to_container(cfg, resolve=False)
    for key in UNHASHED_KEYS:
        *parents, last = key.split(".")
        node = container
        for parent in parents:
            node = node.get(parent) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return hashlib.sha256(json.dumps(container, sort_keys=True, default=str).encode()).hexdigest()
