"""The explorer's frame blobs (explorer/frames.py): fixed-point deltas that decode like the float32 weights."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from heatmap_latent.explorer.frames import (
    STEP_BITS,
    delta_blob,
    pack,
    quantized,
    unpack,
    weight_steps,
    weights_of,
)


def drifting_weights(rng, frames=4):
    """A decoder-like list per frame: [weight, bias] of three layers and a layer without weights."""
    shapes = [((64, 3), (64,)), None, ((300, 64), (300,)), ((8, 4, 4, 4), (4,))]
    first = [None if s is None else [rng.normal(0, 0.2, a).astype(np.float32) for a in s] for s in shapes]
    out = [first]
    for _ in range(frames - 1):
        out.append(
            [None if p is None else [a + rng.normal(0, 0.002, a.shape).astype(np.float32) for a in p] for p in out[-1]]
        )
    return out


def test_steps_are_powers_of_two_within_the_first_frames_range():
    rng = np.random.default_rng(0)
    steps = weight_steps(drifting_weights(rng)[0])
    assert steps[1] is None
    for st in (s for s in steps if s):
        for step in st:
            assert np.log2(step) == int(np.log2(step))
    top = np.abs(drifting_weights(np.random.default_rng(0))[0][0][0]).max()
    assert top / 2**STEP_BITS <= steps[0][0] < 2 * top / 2**STEP_BITS


def test_the_chain_of_blobs_gives_each_frames_weights_to_half_a_step():
    rng = np.random.default_rng(1)
    frames = drifting_weights(rng, 5)
    *earlier, last = frames  # the last frame's float32 weights end the chain (the checkpoint's)
    steps = weight_steps(frames[0])
    ints = [quantized(f, steps) for f in frames]
    blobs = [delta_blob(q, ints[k + 1]) for k, q in enumerate(ints[:-1])]
    for k, frame in enumerate(earlier):
        got = weights_of(last, blobs[k:], steps)  # frame k: blobs k to the end
        for pair, want, st in zip(got, frame, steps):
            assert (pair is None) == (want is None)
            if want is None:
                continue
            for g, w, s in zip(pair, want, st):
                assert g.dtype == np.float32 and g.shape == w.shape
                assert np.abs(g.astype(np.float64) - w).max() <= s / 2 + 1e-7
    # a delta of small drift is int16 and far smaller than a frame's integers
    assert all(a.dtype == np.int16 for a in unpack(blobs[2]).values())
    whole = delta_blob(ints[2], [None if p is None else [np.zeros_like(a) for a in p] for p in ints[2]])
    assert len(blobs[2]) < 0.7 * len(whole)
    # a frame appended at the end leaves every earlier blob as it was
    later = [None if p is None else [a + 0.001 for a in p] for p in last]
    assert delta_blob(ints[2], ints[3]) == blobs[2]
    assert weights_of(later, [delta_blob(ints[-1], quantized(later, steps))], steps)[0][0] == pytest.approx(
        last[0][0], abs=steps[0][0]
    )


def test_a_delta_too_large_for_int16_is_int32_and_exact():
    steps = [[2.0**-14, 2.0**-14]]
    small = [[np.zeros(5, np.float32), np.zeros(2, np.float32)]]
    big = [[np.array([0, 3.0, -3.0, 0.5, 0], np.float32), np.zeros(2, np.float32)]]  # 3 / 2**-14 > 32767
    blob = delta_blob(quantized(big, steps), quantized(small, steps))
    assert unpack(blob)["0.w"].dtype == np.int32
    assert np.array_equal(weights_of(small, [blob], steps)[0][0], big[0][0])


def test_a_blob_is_deflated_with_a_header_naming_each_array():
    arrays = {"a": np.arange(5, dtype="<i2"), "b": np.ones((2, 3), "<f4"), "c": np.array([7], "<i4")}
    blob = pack(arrays)
    raw = zlib.decompress(blob)
    assert raw[:4] == b"HLF1"
    back = unpack(blob)
    assert list(back) == ["a", "b", "c"]
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v)
    with pytest.raises(ValueError, match="not a heatmap-latent frame blob"):
        unpack(zlib.compress(b"XXXX" + raw[4:]))


def test_a_decoder_from_its_blob_decodes_within_1e_3_of_its_float32_weights():
    from hydra.utils import instantiate

    from heatmap_latent.core.conf import compose_config
    from heatmap_latent.explorer.page import decoder_weights

    torch.manual_seed(0)
    model = instantiate(compose_config("train", []).model).eval()
    decoder = model.decoder
    weights = decoder_weights(decoder)
    steps = weight_steps(weights)
    zero = [None if p is None else [np.zeros_like(a) for a in p] for p in weights]
    got = weights_of(zero, [delta_blob(quantized(weights, steps), quantized(zero, steps))], steps)
    modules = [m for m in [*decoder.fc, None, *decoder.deconv] if m is None or hasattr(m, "weight")]
    assert len([w for w in weights if w is not None]) == len([m for m in modules if m is not None])
    z = torch.randn(50, model.hparams.latent_dim) * 2
    with torch.no_grad():
        want = model.decode(z)
        layers = [m for m in [*decoder.fc, None, *decoder.deconv]]
        for m, pair in zip(layers, got):
            if pair is not None:
                m.weight.copy_(torch.from_numpy(pair[0]))
                m.bias.copy_(torch.from_numpy(pair[1]))
        assert (model.decode(z) - want).abs().max() < 1e-3
