"""The shared conv encoder and transposed-conv decoder."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def _mlp(dims: Sequence[int], act: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for d_in, d_out in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(d_in, d_out), activation(act)]
    return layers


class Encoder(nn.Module):
    """Conv blocks (conv + activation + max-pool) then fully connected layers to ``out_dim`` features.

    ``padding`` is each conv's zero padding: ``kernel_size // 2`` when None (an odd kernel keeps the
    side; the study's 3x3 blocks), else as given (disentanglement_lib's 4x4 stride-2 convs pad 1 and
    halve the side). ``pool=1`` is no pooling (an identity ``MaxPool2d(1)``, kept so that the
    modules, and the checkpoints' keys, are the same for every choice).
    """

    def __init__(
        self,
        image_size: int,
        channels: Sequence[int],
        hidden_dims: Sequence[int],
        kernel_size: int = 3,
        stride: int = 1,
        pool: int = 2,
        act: str = "relu",
        image_channels: int = 1,
        padding: int | None = None,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        c_in = image_channels
        pad = kernel_size // 2 if padding is None else padding
        for c_out in channels:
            blocks += [
                nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=pad),
                activation(act),
                nn.MaxPool2d(pool),
            ]
            c_in = c_out
        self.conv = nn.Sequential(*blocks)
        side = image_size  # each block's output side, by Conv2d's and MaxPool2d's formulas
        for k, _ in enumerate(channels):
            side = (side + 2 * pad - kernel_size) // stride + 1
            side = side // pool if side >= 1 else side
            if side < 1:
                raise ValueError(
                    f"the encoder's conv blocks shrink a {image_size}x{image_size} image to nothing at block "
                    f"{k + 1} of {len(channels)} (kernel {kernel_size}, stride {stride}, padding {pad}, pool "
                    f"{pool}): give the data a larger side (data.image_size) or the model fewer model.channels"
                )
        with torch.no_grad():
            flat = self.conv(torch.zeros(1, image_channels, image_size, image_size)).numel()
        self.fc = nn.Sequential(nn.Flatten(), *_mlp([flat, *hidden_dims], act))
        self.out_dim = hidden_dims[-1] if hidden_dims else flat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x))  # (B, C, S, S) -> (B, out_dim)


class Decoder(nn.Module):
    """Fully connected layers, then transposed convs that upsample back to exactly ``image_size``.

    Each transposed conv (kernel ``f + 2``, stride ``f``, padding 1) multiplies the side by
    ``f = stride * pool``, mirroring one encoder block, so the decoder starts from a
    ``image_size / f**n_blocks`` square, which must be a whole number.
    """

    def __init__(
        self,
        image_size: int,
        latent_dim: int,
        channels: Sequence[int],
        hidden_dims: Sequence[int],
        stride: int = 1,
        pool: int = 2,
        act: str = "relu",
        image_channels: int = 1,
    ) -> None:
        super().__init__()
        factor = stride * pool
        start, remainder = divmod(image_size, factor ** len(channels))
        if remainder or start < 1:
            raise ValueError(
                f"the decoder cannot rebuild a {image_size}x{image_size} image (data.grid.size) with {len(channels)} "
                f"upsampling blocks (model.channels) of factor {factor} (model.stride x model.pool): "
                f"{image_size} is not a multiple of {factor ** len(channels)}"
            )
        rev = list(channels)[::-1]
        self.start_shape = (rev[0], start, start)
        self.fc = nn.Sequential(
            *_mlp([latent_dim, *list(hidden_dims)[::-1]], act),
            nn.Linear(hidden_dims[0] if hidden_dims else latent_dim, rev[0] * start * start),
            activation(act),
        )
        ups: list[nn.Module] = []
        for c_in, c_out in zip(rev, rev[1:] + [image_channels]):
            ups += [nn.ConvTranspose2d(c_in, c_out, factor + 2, stride=factor, padding=1), activation(act)]
        self.deconv = nn.Sequential(*ups[:-1])  # no activation after the last layer: it emits logits

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, *self.start_shape)  # (B, C_last, s, s)
        return self.deconv(h)  # (B, C, S, S) logits
