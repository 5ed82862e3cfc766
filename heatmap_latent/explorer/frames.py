"""The explorer's epoch frames as bytes: the Latent tab's ``frame`` route and the static page's
inline frames carry the same blobs, which ``explorer.js`` inflates when the epoch slider needs them.

A blob is zlib-deflated (the browser's ``DecompressionStream("deflate")`` inflates it) and holds
``b"HLF1"``, the header's length (uint32, little-endian), the header (JSON, padded with spaces to
4 bytes) and the arrays it lists::

    {"arrays": [{"name": "3.w", "dtype": "<i2", "shape": [5184, 256], "offset": 0}, ...]}

A frame's weights are fixed point: each tensor is integers times a power-of-two step chosen on the
first frame (``2 ** (ceil(log2(max |w|)) - STEP_BITS)``, about 15 bits of its range), and a frame
holds its integers minus the next frame's (int16 where they fit, else int32). The chain ends at the
last frame, whose float32 weights the data carries (the checkpoint's, or the tab's latest
snapshot's): its integers are those weights at the steps, so frame k is the last frame's integers
plus blobs k to the end, times the step. Why not float16: a study decoder's blobs are 0.7-1.4 MB of
base64 each this way against 3.4 MB of deflated float16, and decode within 3e-4 of float32's
(docs/explorer.md). The steps come from the first frame and a blob from its frame and the next, so
a snapshot written later leaves every earlier blob as it was.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence

import numpy as np

MAGIC = b"HLF1"
STEP_BITS = 14  # a decode within 3e-4 of float32's on the study's decoder; the parity tests hold 1e-3


def weight_steps(first: Sequence[Sequence[np.ndarray] | None]) -> list[list[float] | None]:
    """Each layer's ``[weight step, bias step]`` from the first frame's ``[weight, bias]`` per layer."""

    def step(a: np.ndarray) -> float:
        top = float(np.abs(a).max())
        return float(2.0 ** (np.ceil(np.log2(top)) - STEP_BITS)) if top > 0 else 1.0

    return [None if pair is None else [step(a) for a in pair] for pair in first]


def quantized(weights: Sequence[Sequence[np.ndarray] | None], steps: list[list[float] | None]) -> list:
    """The integers of each layer's ``[weight, bias]`` at its steps (round half up, as ``Math.round``)."""
    return [
        None
        if pair is None
        else [np.floor(np.asarray(a, np.float64) / s + 0.5).astype(np.int64) for a, s in zip(pair, st)]
        for pair, st in zip(weights, steps)
    ]


def pack(arrays: dict[str, np.ndarray], level: int = 6) -> bytes:
    """The deflated blob of ``arrays`` (name -> array, its dtype kept); ``level``: zlib's (1: fast,
    for float32 weights, which deflate little)."""
    entries, chunks, offset = [], [], 0
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        entries.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape), "offset": offset})
        chunks.append(a.tobytes())
        offset += a.nbytes + (-a.nbytes) % 4  # each array 4-byte aligned for the typed arrays
        chunks.append(b"\0" * ((-a.nbytes) % 4))
    header = json.dumps({"arrays": entries}).encode()
    header += b" " * ((-len(header)) % 4)
    return zlib.compress(MAGIC + struct.pack("<I", len(header)) + header + b"".join(chunks), level)


def unpack(blob: bytes) -> dict[str, np.ndarray]:
    """The arrays of a blob (what ``explorer.js`` reads), for tests and tools."""
    raw = zlib.decompress(blob)
    if raw[:4] != MAGIC:
        raise ValueError("not a heatmap-latent frame blob")
    (length,) = struct.unpack("<I", raw[4:8])
    body = raw[8 + length :]
    out = {}
    for e in json.loads(raw[8 : 8 + length])["arrays"]:
        dtype = np.dtype(e["dtype"])
        count = int(np.prod(e["shape"], dtype=np.int64))
        out[e["name"]] = np.frombuffer(body, dtype, count, e["offset"]).reshape(e["shape"])
    return out


def delta_blob(current: list, following: list) -> bytes:
    """The blob of one frame: its integers minus the next frame's (of ``quantized``)."""
    arrays = {}
    for i, pair in enumerate(current):
        if pair is None:
            continue
        for part, q, after in zip("wb", pair, following[i]):
            d = q - after
            small = d.size == 0 or (d.min() >= -32768 and d.max() <= 32767)
            arrays[f"{i}.{part}"] = d.astype("<i2" if small else "<i4")
    return pack(arrays)


def weights_of(last: Sequence[Sequence[np.ndarray] | None], blobs: Sequence[bytes], steps: list) -> list:
    """The float32 ``[weight, bias]`` per layer of the frame whose chain is ``blobs`` (from it to the
    last frame's, whose float32 weights are ``last``), as ``explorer.js`` rebuilds them."""
    total = {f"{i}.{p}": q for i, pair in enumerate(quantized(last, steps)) if pair for p, q in zip("wb", pair)}
    for blob in blobs:
        for name, d in unpack(blob).items():
            total[name] = total[name] + d.astype(np.int64)
    return [
        None if st is None else [(total[f"{i}.{p}"] * s).astype(np.float32) for p, s in zip("wb", st)]
        for i, st in enumerate(steps)
    ]
