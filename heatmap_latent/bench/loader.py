"""How fast the training loader serves batches: ``python -m heatmap_latent.bench --loader``.

A dataset drawn batch by batch (``data=dsprites``: 737,280 images that would be 12 GB in memory)
costs CPU time per batch, which bounds a GPU run's steps per second however fast its GPU is. For
``data.num_workers`` = 0 (the training process draws), 1, 2, 4, ... up to the machine's cores, the
batches per second of the training loader alone (no model), after its first batch (the workers'
start-up).
"""

from __future__ import annotations

import os
import time
from itertools import islice
from typing import Any

from hydra.errors import HydraException
from hydra.utils import instantiate
from omegaconf.errors import OmegaConfBaseException

from heatmap_latent.core.conf import compose_config
from heatmap_latent.core.errors import UserError, one_line
from heatmap_latent.training import register_schemas


def worker_counts(cores: int | None = None) -> list[int]:
    """0, then powers of two below the machine's cores, then the cores themselves."""
    cores = cores or os.cpu_count() or 1
    counts, n = [0], 1
    while n < cores:
        counts.append(n)
        n *= 2
    return [*counts, cores]


def loader_rates(overrides: list[str], workers: list[int], batches: int = 50) -> dict[str, Any]:
    """Batches per second of the training loader of ``data`` composed with ``overrides`` for each
    number of loader processes in ``workers``."""
    register_schemas()
    rates: dict[str, float] = {}
    batch_size = None
    for n in workers:
        try:
            cfg = compose_config("train", [*overrides, f"data.num_workers={n}"])
            datamodule = instantiate(cfg.data)
            datamodule.setup("fit")
        except (HydraException, OmegaConfBaseException, ValueError) as err:  # the overrides' mistakes
            raise UserError(one_line(err)) from err
        batch_size = datamodule.batch_size
        train = datamodule.train_dataloader()
        loader = iter(train)
        next(loader)  # the workers start and draw their first batches
        start = time.perf_counter()
        served = sum(1 for _ in islice(loader, batches))
        rates[str(train.num_workers)] = round(served / (time.perf_counter() - start), 1)  # as the loader has it
        del loader  # stops the persistent workers
    return {"data": overrides, "batch_size": batch_size, "batches": batches, "batches_per_s": rates}


def report(figures: dict[str, Any]) -> None:
    rates = figures["batches_per_s"]
    print(f"training loader of {' '.join(figures['data'])} (batches of {figures['batch_size']}):")
    for n, rate in rates.items():
        print(f"  num_workers={n}: {rate:7.1f} batches/s ({rate / rates['0']:.1f}x the training process alone)")
