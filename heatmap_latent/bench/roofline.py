"""How far from the machine the training step runs: ``python -m heatmap_latent.bench --roofline``.

For each training variant (fp32 and bf16 autocast, on the device ``accelerator=auto`` picks), the
FLOPs of one training step (forward and backward) counted by ``torch.utils.flop_counter``, the
achieved GFLOPS over timed steps, and the machine's measured peak for the same precision: a large
square matmul (the best a dense kernel reaches here), and the fraction of it the step reaches.
Where the device has no native bf16 (an AVX2-only CPU) the bf16 "peak" is an emulated matmul, no
peak at all, and the step can exceed it: the figures say ``native: false`` beside it.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from hydra.utils import instantiate
from torch.utils.flop_counter import FlopCounterMode

from heatmap_latent.core.conf import compose_config
from heatmap_latent.core.precision import fastest_precision
from heatmap_latent.training import register_schemas

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(device: torch.device, dtype: torch.dtype, size: int = 2048, repeats: int = 10) -> float:
    """GFLOPS of a ``size`` x ``size`` matmul in ``dtype`` (median of ``repeats``)."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        a @ b
        _sync(device)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / sorted(times)[len(times) // 2] / 1e9


def _step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, dtype: torch.dtype | None) -> None:
    with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
        loss = model.loss_terms(x)["loss"]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def step_figures(overrides: list[str], steps: int = 20, batch_size: int = 64, peak_size: int = 2048) -> dict[str, Any]:
    """Per precision: FLOPs of one training step, seconds per step, achieved GFLOPS, the matmul peak
    (``peak_size`` square) and the fraction, for the model ``overrides`` configure (e.g.
    ``experiment=study``); with the device's bf16 capability."""
    register_schemas()  # the config's typed nodes (idempotent)
    cfg = compose_config("train", ["paths.output_dir=.", *overrides])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    choice = fastest_precision(device.type)
    out: dict[str, Any] = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "hardware": choice.hardware,
        "native_bf16": choice.native_bf16,
    }
    for name, dtype in PRECISIONS.items():
        torch.manual_seed(0)
        model = instantiate(cfg.model).to(device).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        size = int(cfg.data.grid.size)
        x = torch.rand(batch_size, 1, size, size, device=device)
        with FlopCounterMode(display=False) as counter:
            _step(model, optimizer, x, dtype)
        flops = counter.get_total_flops()
        for _ in range(3):
            _step(model, optimizer, x, dtype)  # warm-up
        _sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            _step(model, optimizer, x, dtype)
        _sync(device)
        per_step = (time.perf_counter() - start) / steps
        achieved = flops / per_step / 1e9
        peak = matmul_peak(device, dtype or torch.float32, size=peak_size)
        out[name] = {
            "flops_per_step": int(flops),
            "step_s": per_step,
            "gflops": achieved,
            "peak_gflops": peak,
            "fraction_of_peak": achieved / peak,
            "native": dtype is None or choice.native_bf16,
        }
    return out


def report(figures: dict[str, Any], label: str) -> None:
    print(f"\nroofline ({label}, {figures['hardware']}, batch 64): training step against a large matmul")
    for name in PRECISIONS:
        f = figures[name]
        emulated = "" if f["native"] else " (emulated: no native bf16 here, so no peak)"
        print(
            f"  {name}: {f['flops_per_step'] / 1e9:.3f} GFLOP per step in {f['step_s'] * 1e3:.1f} ms = "
            f"{f['gflops']:.1f} GFLOPS; matmul peak {f['peak_gflops']:.1f} GFLOPS; "
            f"{100 * f['fraction_of_peak']:.1f}%{emulated}",
            flush=True,
        )
