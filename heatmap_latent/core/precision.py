"""The fastest precision a device runs natively, from what torch reports about the hardware.

bf16 autocast pays only where the hardware multiplies bf16 itself: a CUDA device with bf16, a CPU
with AVX512-BF16 or AMX. Elsewhere (an AVX2-only CPU) torch emulates it, far slower than fp32
(docs/performance.md), so the rule is fp32 there. A capped instruction set counts as the CPU it
caps to: torch's kernels below AVX-512 (``ATEN_CPU_CAPABILITY=avx2``) or oneDNN held below
AVX512_CORE_BF16 (``ONEDNN_MAX_CPU_ISA=AVX2``) emulate bf16 on any hardware, so the rule is fp32
there too. ``conf/recipe/fast.yaml`` asks for it as ``${fastest_precision:...}``; an explicit
``trainer.precision=...`` replaces the interpolation and always wins.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
from pathlib import Path

import torch

BF16 = "bf16-mixed"
FP32 = "32-true"


# oneDNN's instruction-set caps (its ONEDNN_MAX_CPU_ISA values) under which it still multiplies bf16 itself
ONEDNN_NATIVE_BF16 = (
    "ALL",
    "DEFAULT",
    "AVX512_CORE_BF16",
    "AVX512_CORE_FP16",
    "AVX512_CORE_AMX",
    "AVX512_CORE_AMX_FP16",
)


def onednn_cap() -> str | None:
    """oneDNN's instruction-set cap as the environment sets it (``ONEDNN_MAX_CPU_ISA``, or the older
    ``DNNL_MAX_CPU_ISA``), upper case; None when neither is set."""
    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        if os.environ.get(name):
            return os.environ[name].strip().upper()
    return None


@dataclasses.dataclass(frozen=True)
class CpuCapability:
    """What this CPU can do, as torch reports it (``torch.backends.cpu``, ``torch.cpu``), under any cap."""

    model: str  # e.g. "AMD EPYC 9B45" (/proc/cpuinfo's model name)
    isa: str  # torch's kernel level: "AVX2", "AVX512", ... (ATEN_CPU_CAPABILITY lowers it)
    avx512_bf16: bool  # the hardware's, whatever the caps
    amx: bool
    onednn_cap: str | None = None  # ONEDNN_MAX_CPU_ISA, when set

    @property
    def capped(self) -> bool:
        """Hardware bf16 that a cap hides: torch's kernels below AVX-512, or oneDNN held below bf16."""
        hardware = self.avx512_bf16 or self.amx
        held = not self.isa.upper().startswith("AVX512") or (
            self.onednn_cap is not None and self.onednn_cap not in ONEDNN_NATIVE_BF16
        )
        return hardware and held

    @property
    def native_bf16(self) -> bool:
        return (self.avx512_bf16 or self.amx) and not self.capped

    @property
    def label(self) -> str:
        """The capability that decides the precision: ``AMX``, ``AVX512-BF16`` or torch's ISA level
        (a capped CPU: the cap, e.g. ``AVX2 (capped)``)."""
        if self.capped:
            return f"{self.isa} (capped)"
        return "AMX" if self.amx else "AVX512-BF16" if self.avx512_bf16 else self.isa

    def describe(self) -> str:
        return f"{self.model} ({self.label})"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@functools.cache
def cpu_capability() -> CpuCapability:
    return CpuCapability(
        model=_cpu_model(),
        isa=torch.backends.cpu.get_cpu_capability(),
        avx512_bf16=bool(torch.cpu._is_avx512_bf16_supported()),
        amx=bool(torch.cpu._is_amx_tile_supported()),
        onednn_cap=onednn_cap(),
    )


def device_type(accelerator: str) -> str:
    """The device Lightning's ``accelerator`` will train on: ``cuda`` or ``cpu`` (``auto`` as Lightning picks it)."""
    accelerator = str(accelerator).lower()
    if accelerator in ("gpu", "cuda"):
        return "cuda"
    if accelerator == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return "cpu" if accelerator == "cpu" else accelerator


def choose(device: str, native_bf16: bool) -> str:
    """The rule: bf16 autocast where the device runs bf16 natively, fp32 everywhere else."""
    return BF16 if device in ("cpu", "cuda") and native_bf16 else FP32


@dataclasses.dataclass(frozen=True)
class PrecisionChoice:
    precision: str
    device: str  # "cpu" or "cuda"
    hardware: str  # the CPU with its capability, or the GPU's name
    native_bf16: bool

    @property
    def reason(self) -> str:
        kind = "native" if self.native_bf16 else "no native"
        return f"{kind} bf16 on {self.device} {self.hardware}"


def fastest_precision(accelerator: str = "auto") -> PrecisionChoice:
    """The fastest precision the device of ``accelerator`` runs natively, and why."""
    device = device_type(accelerator)
    if device == "cuda":
        available = torch.cuda.is_available()
        native = available and torch.cuda.is_bf16_supported(including_emulation=False)
        hardware = torch.cuda.get_device_name() if available else "(no CUDA device visible)"
    else:
        cpu = cpu_capability()
        native, hardware = (cpu.native_bf16, cpu.describe()) if device == "cpu" else (False, device)
    return PrecisionChoice(choose(device, native), device, hardware, native)


def machine() -> dict[str, object]:
    """Where a timing comes from: the CPU with its capability, torch, threads and any CUDA device;
    the header and the JSON of every benchmark."""
    cpu = cpu_capability()
    return {
        "cpu": cpu.model,
        "cpu_capability": cpu.label,
        "cpu_isa": cpu.isa,
        "avx512_bf16": cpu.avx512_bf16,
        "amx": cpu.amx,
        "native_bf16": cpu.native_bf16,
        "onednn_cap": cpu.onednn_cap,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "fastest_precision": fastest_precision("auto").precision,
    }


def describe_machine(info: dict[str, object] | None = None) -> str:
    """One line: ``AMD EPYC (AVX2: no native bf16), 2 threads, torch 2.13.0; fastest precision 32-true``."""
    m = info or machine()
    native = "native bf16" if m["native_bf16"] else "no native bf16"
    gpu = f", GPU {m['cuda']}" if m["cuda"] else ""
    return (
        f"{m['cpu']} ({m['cpu_capability']}: {native}), {m['threads']} threads, torch {m['torch']}{gpu}; "
        f"fastest precision {m['fastest_precision']}"
    )
