"""``explorer.html``: one offline page that carries a run's codes, factors and decoder weights.

The decoder is exported layer by layer (``decoder_layers``) and run by ``explorer.js``, this
project's own JavaScript implementation of ``Decoder.forward``. The page needs no network, no
server and no model runtime.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import torch
from markupsafe import Markup
from omegaconf import OmegaConf
from scipy.linalg import orthogonal_procrustes
from scipy.spatial import cKDTree
from torch import nn

from heatmap_latent.analysis.loading import LoadedRun
from heatmap_latent.core.errors import UserError
from heatmap_latent.core.subsample import evenly_spaced
from heatmap_latent.data.factors import FactorDeclaration, declaration_of
from heatmap_latent.explorer.frames import delta_blob, quantized, weight_steps
from heatmap_latent.models.backbone import Decoder, Encoder
from heatmap_latent.training.snapshots import Snapshot, load_snapshots

# the page data's version: explorer.js refuses data of another version in one line
# 5: frames' weights are blobs (frames.py), inflated when the slider needs them; 4: the encoder says
# whose it is; 3: frames carry scores
DATA_VERSION = 5


class ExportError(UserError):
    """A decoder the exporter cannot write out in JavaScript; the message names the layer."""


def _b64(array: np.ndarray | torch.Tensor) -> str:
    data = torch.as_tensor(array).detach().float().contiguous().cpu().numpy().astype("<f4")
    return base64.b64encode(data.tobytes()).decode()


def _conv(what: str, module: nn.Conv2d | nn.ConvTranspose2d, kind: str, channels: list[int]) -> dict[str, Any]:
    """A square, undilated, ungrouped (transposed) convolution with a bias, as ``explorer.js`` runs it."""
    k, s, p = module.kernel_size, module.stride, module.padding
    plain = module.groups == 1 and module.dilation == (1, 1) and isinstance(p, tuple)
    if isinstance(module, nn.ConvTranspose2d):
        plain = plain and module.output_padding == (0, 0)
    else:
        plain = plain and module.padding_mode == "zeros"
    if not (plain and k[0] == k[1] and s[0] == s[1] and p[0] == p[1] and module.bias is not None):
        raise ExportError(f"cannot export {what} ({module}): only square, undilated, ungrouped")
    return {
        "type": kind,
        "shape": [*channels, k[0]],
        "stride": s[0],
        "padding": p[0],
        "weight": _b64(module.weight),
        "bias": _b64(module.bias),
    }


def _layer(name: str, module: nn.Module) -> dict[str, Any]:
    if isinstance(module, nn.Linear):
        return {
            "type": "linear",
            "shape": list(module.weight.shape),
            "weight": _b64(module.weight),
            "bias": _b64(module.bias),
        }
    if isinstance(module, nn.ConvTranspose2d):
        return _conv(f"decoder layer {name}", module, "conv_transpose", [module.in_channels, module.out_channels])
    if isinstance(module, nn.Conv2d):
        return _conv(f"encoder layer {name}", module, "conv", [module.out_channels, module.in_channels])
    if isinstance(module, nn.MaxPool2d):
        k, s = module.kernel_size, module.stride
        if module.padding not in (0, (0, 0)) or module.dilation not in (1, (1, 1)) or module.ceil_mode:
            raise ExportError(f"cannot export encoder layer {name} ({module}): only unpadded floor-mode pooling")
        if not (isinstance(k, int) and isinstance(s, int)):
            raise ExportError(f"cannot export encoder layer {name} ({module}): only square pooling")
        return {"type": "max_pool", "kernel": k, "stride": s}
    if isinstance(module, nn.Flatten):
        return {"type": "flatten"}
    if isinstance(module, nn.LeakyReLU):
        return {"type": "activation", "name": "leaky_relu", "negative_slope": module.negative_slope}
    if isinstance(module, nn.ELU):
        return {"type": "activation", "name": "elu", "alpha": module.alpha}
    if isinstance(module, nn.GELU):
        return {"type": "activation", "name": "gelu", "approximate": module.approximate}
    for cls, act in ((nn.ReLU, "relu"), (nn.SiLU, "silu")):
        if type(module) is cls:
            return {"type": "activation", "name": act}
    raise ExportError(f"cannot export decoder layer {name} ({type(module).__name__}): no JavaScript implementation")


def _decoder_modules(decoder: nn.Module) -> list[tuple[str, nn.Module | None]]:
    """``Decoder.forward``'s modules in order, named; None for the reshape between fc and deconv."""
    if not isinstance(decoder, Decoder):
        raise ExportError(f"cannot export decoder {type(decoder).__name__}: not the project's Decoder")
    return [
        *((f"decoder.fc.{i}", m) for i, m in enumerate(decoder.fc)),
        ("reshape", None),
        *((f"decoder.deconv.{i}", m) for i, m in enumerate(decoder.deconv)),
    ]


def _encoder_modules(model: nn.Module) -> list[tuple[str, nn.Module | None]]:
    """``model.encode``'s modules in order, named; None for a posterior's "take" of its mean."""
    encoder, bottleneck = getattr(model, "encoder", None), getattr(model, "bottleneck", None)
    if not isinstance(encoder, Encoder) or not isinstance(bottleneck, nn.Linear):
        what = type(model).__name__
        raise ExportError(f"cannot export the encoder of {what}: not the project's Encoder and bottleneck")
    modules = [
        *((f"encoder.conv.{i}", m) for i, m in enumerate(encoder.conv)),
        *((f"encoder.fc.{i}", m) for i, m in enumerate(encoder.fc)),
        ("bottleneck", bottleneck),
    ]
    if bottleneck.out_features != int(model.hparams.latent_dim):  # (mu, logvar): the code is the mean
        modules.append(("take", None))
    return modules


def decoder_layers(decoder: nn.Module) -> list[dict[str, Any]]:
    """``Decoder.forward`` as a list of layers: ``fc``, reshape to ``start_shape``, ``deconv``."""
    modules = _decoder_modules(decoder)  # fails first if the decoder is foreign
    reshape = {"type": "reshape", "shape": [int(v) for v in decoder.start_shape]}
    return [reshape if m is None else _layer(name, m) for name, m in modules]


def encoder_layers(model: nn.Module) -> list[dict[str, Any]]:
    """``model.encode`` as a list of layers: the conv blocks, the fully connected layers, the
    bottleneck, and for a model with a posterior its mean (the first ``latent_dim`` outputs)."""
    modules = _encoder_modules(model)  # fails first if the encoder is foreign
    take = {"type": "take", "n": int(model.hparams.latent_dim)}
    return [take if m is None else _layer(name, m) for name, m in modules]


def _weights(modules: list[tuple[str, nn.Module | None]]) -> list[list[np.ndarray] | None]:
    """``[weight, bias]`` (float32 copies) of each module that has them, None for the others."""
    return [
        [m.weight.detach().float().cpu().numpy().copy(), m.bias.detach().float().cpu().numpy().copy()]
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))
        else None
        for _, m in modules
    ]


def decoder_weights(decoder: nn.Module) -> list[list[np.ndarray] | None]:
    """``[weight, bias]`` (float32) of each layer of ``decoder_layers(decoder)``, None for one without."""
    return _weights(_decoder_modules(decoder))


def encoder_weights(model: nn.Module) -> list[list[np.ndarray] | None]:
    """``[weight, bias]`` (float32) of each layer of ``encoder_layers(model)``, None for one without."""
    return _weights(_encoder_modules(model))


def snapshot_decoder_weights(decoder: nn.Module, snap: Snapshot) -> list[list[np.ndarray] | None]:
    """``decoder_weights`` of ``decoder`` with ``snap``'s decoder state loaded (into ``decoder``: pass a copy)."""
    decoder.load_state_dict({k: torch.from_numpy(v) for k, v in snap.decoder.items()})
    return decoder_weights(decoder)


def _alignments(snapshots: list[Snapshot], final: np.ndarray) -> list[dict[str, Any]]:
    """Per frame (each snapshot, then the final one): ``view = (z - centre) @ rotation + origin``.

    An orthogonal Procrustes fit of each frame's codes to the previous frame's aligned codes (the
    same images), chained from the first snapshot: the first frame never moves, and a snapshot
    added while a run trains does not move the earlier ones. ``final``: the last frame's codes of
    the snapshots' images (the checkpoint's, or the latest snapshot's while a run trains). Decoding
    undoes it (``raw = (view - origin) @ rotation.T + centre``).
    """
    frames = [s.codes.astype(np.float64) for s in snapshots] + [final.astype(np.float64)]
    origin = frames[0].mean(0)
    previous = frames[0] - origin
    out = []
    for codes in frames:
        centre = codes.mean(0)
        rotation = orthogonal_procrustes(codes - centre, previous)[0]
        previous = (codes - centre) @ rotation
        out.append({"centre": centre.tolist(), "rotation": rotation.tolist(), "origin": origin.tolist()})
    return out


def snapshot_frames(run: LoadedRun, latents: np.ndarray, every: int = 1) -> dict[str, Any] | None:
    """The run's snapshots as the page's epoch frames (every ``every``-th, always the last), or None."""
    snapshots = load_snapshots(run.run_dir, every) if every > 0 else []
    if not snapshots:
        return None
    return epoch_frames(run.model.decoder, snapshots, latents[snapshots[-1].index], every)


def epoch_frames(
    decoder: nn.Module,
    snapshots: list[Snapshot],
    final: np.ndarray,
    every: int,
    url: Callable[[int], str] | None = None,
) -> dict[str, Any]:
    """The page's ``snapshots``: a frame per snapshot (codes, images, split, KL, scores, alignment and
    its decoder weights as a blob of ``frames.py``, inline; or, given ``url(epoch)``, where the page
    fetches it, as the Latent tab does) and the alignment of the final frame (``final``: its codes
    of the same images). ``steps``: the blobs' fixed-point step per layer."""
    anchor = decoder_weights(decoder)  # the last frame's float32 weights, where the chain ends
    decoder = copy.deepcopy(decoder)
    weights = lambda snap: snapshot_decoder_weights(decoder, snap)  # noqa: E731
    steps = weight_steps(weights(snapshots[0]))
    blobs: list[dict[str, str]] = []
    if url is None:  # each frame's integers minus the next one's, from the last snapshot back
        following = quantized(anchor, steps)
        for snap in reversed(snapshots):
            ints = quantized(weights(snap), steps)
            blobs.insert(0, {"blob": base64.b64encode(delta_blob(ints, following)).decode()})
            following = ints
    frames = []
    for k, snap in enumerate(snapshots):
        source = blobs[k] if url is None else {"url": url(snap.epoch)}
        frames.append(
            {
                "epoch": snap.epoch,
                "step": snap.step,
                "final": bool(snap.info.get("final")),
                "codes": _b64(snap.codes),
                "index": base64.b64encode(snap.index.astype("<i4").tobytes()).decode(),
                "split": base64.b64encode(snap.split.astype(np.uint8).tobytes()).decode(),
                "kl": snap.kl_per_dim.tolist() if snap.kl_per_dim is not None else None,
                "scores": snap.scores or None,  # scores/timeline.py, written while training
                "weights": source,
            }
        )
    align = _alignments(snapshots, final)
    for frame, a in zip(frames, align):
        frame["align"] = a
    return {"frames": frames, "steps": steps, "checkpoint_align": align[-1], "every": every}


def frame_blob(decoder: nn.Module, first: Snapshot, snap: Snapshot, following: Snapshot) -> bytes:
    """The blob of ``snap``'s frame: its integers minus those of ``following`` (the next snapshot),
    at the steps of ``first`` (the first snapshot): what ``epoch_frames`` inlines for it."""
    decoder = copy.deepcopy(decoder)
    weights = lambda s: snapshot_decoder_weights(decoder, s)  # noqa: E731
    steps = weight_steps(weights(first))
    return delta_blob(quantized(weights(snap), steps), quantized(weights(following), steps))


# pixels: a dataset this small carries its images (one byte each, 1/255 steps: 6.7 MB for the
# default sprites, 9 MB of base64), the page's renderer and inverse
TABLE_BUDGET = 8_000_000


def dataset_digest(data_cfg: Any, declaration: FactorDeclaration) -> str:
    """Which images a run's positions name: a digest of its data module, factor grid and pixel grid
    (not its seed or split: those leave the images where they are), so that runs are linked image by
    image only on one dataset."""
    grid = data_cfg.get("grid")
    what = {
        "target": data_cfg.get("_target_"),
        "factors": factor_panel_data(declaration),
        "grid": OmegaConf.to_container(grid, resolve=True) if grid is not None else None,
        "image_size": data_cfg.get("image_size"),
        "colour": data_cfg.get("colour"),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def factor_panel_data(declaration: FactorDeclaration) -> list[dict[str, Any]]:
    """The factor declaration as the page's sliders, pickers and colourings read it."""
    return [{"name": f.name, "kind": f.kind.value, "values": [float(v) for v in f.values]} for f in declaration.factors]


def nearest_distance(images: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The Frobenius distance of each image to the closest image of ``table`` (the dataset's own)."""
    flat = lambda a: np.asarray(a, dtype=np.float64).reshape(len(a), -1)  # noqa: E731
    return cKDTree(flat(table)).query(flat(images))[0]


def domain_data(declaration: FactorDeclaration, images: np.ndarray | None) -> dict[str, Any]:
    """What the page renders and inverts with: the domain the dataset declares (``page_domain``: a
    script of the page registers its renderer and fit, e.g. the heatmaps'), ``"table"`` (a dataset
    small enough to carry its images: the renderer is the image of the nearest factor row, the inverse
    the factors of the nearest image) or ``None`` (no renderer: the panels that need one say so)."""
    scripted = declaration.page_domain is not None
    if scripted and not (declaration.missing("render") or declaration.missing("invert")):
        return {"grid": None, "dfs": None, "table": None, **declaration.page_domain}
    if declaration.render is None or images is None or images[0].size * len(images) > TABLE_BUDGET:
        reason = declaration.missing("render") or f"the dataset's images exceed the page's {TABLE_BUDGET:,} pixels"
        return {"domain": None, "grid": None, "dfs": None, "table": None, "no_render": reason}
    quantized = np.clip(np.rint(np.asarray(images, dtype=np.float32) * 255), 0, 255).astype(np.uint8)
    table = {"images_u8": base64.b64encode(quantized.tobytes()).decode(), "n": int(len(images))}
    return {"domain": "table", "grid": None, "dfs": None, "table": table}


def realism_scale(
    declaration: FactorDeclaration, domain: dict[str, Any], decoded: np.ndarray, images: np.ndarray | None
) -> float | None:
    """Where the realism shading saturates: twice the p90 realism of decoded codes (with a renderer and
    an inverse, the distance to the rendering of the factors read off the image, as the heatmaps' fit
    gives it; a table: to the dataset's closest image)."""
    if domain["domain"] not in (None, "table"):  # a domain the page's scripts render and invert
        again = np.asarray(declaration.render(declaration.invert(decoded)), dtype=np.float64)
        realism = np.linalg.norm((decoded.astype(np.float64) - again).reshape(len(decoded), -1), axis=1)
    elif domain["domain"] == "table":
        realism = nearest_distance(decoded, images)
    else:
        return None
    return float(max(2 * np.quantile(realism, 0.9), 1e-3))


@dataclass(frozen=True)
class PageSource:
    """What one page's data is built from: a checkpoint with its dataset (the static page) or a run's
    latest snapshot (the Latent tab). ``model`` (eval mode) holds the last frame's decoder and, where
    ``encoder_label`` names one, its encoder; ``test`` marks each code of the test split; ``images``:
    the dataset's images where they travel (the static page; a table domain needs them)."""

    name: str
    checkpoint: str
    final_label: str
    model: Any
    codes: np.ndarray
    factors: dict[str, np.ndarray]
    test: np.ndarray
    declaration: FactorDeclaration
    data_cfg: Any
    images: np.ndarray | None
    encoder_label: str | None
    no_encoder: str | None = None
    final_epoch: int | None = None
    final_kl: list[float] | None = None
    index: np.ndarray | None = None  # each code's position in the dataset, where the codes are a subset
    paths: dict[str, list] = field(default_factory=dict)
    snapshots: dict[str, Any] | None = None
    weights_url: str | None = None  # the latest weights are fetched from here (not inline)
    epochs: list[int] | None = None
    decoder_layers: list[dict[str, Any]] | None = None  # the decoder as exported, where the caller has it


def page_data(src: PageSource) -> dict[str, Any]:
    """The data ``explorer.js`` reads (version ``DATA_VERSION``): the one builder of the static page's
    and the Latent tab's data, so that the two cannot drift."""
    domain = domain_data(src.declaration, src.images)
    factors = {k: np.asarray(v, dtype=np.float64) for k, v in src.factors.items()}
    colourings = {k: v for k, v in src.declaration.colour_by(factors).items() if k not in factors}
    layers = src.decoder_layers if src.decoder_layers is not None else decoder_layers(src.model.decoder)
    encoder = {"layers": encoder_layers(src.model), "label": src.encoder_label} if src.encoder_label else None
    if src.weights_url is not None:  # the host fetches the latest weights as binary (latest_weights)
        for layer in layers + (encoder["layers"] if encoder else []):
            layer.pop("weight", None), layer.pop("bias", None)
    decoded = src.model.decode_batched(src.codes[evenly_spaced(len(src.codes), 300)]).numpy()  # for the shading
    index = None if src.index is None else base64.b64encode(src.index.astype("<i4").tobytes()).decode()
    return {
        "version": DATA_VERSION,
        "name": src.name,
        "checkpoint": src.checkpoint,
        "final_label": src.final_label,
        "final_epoch": src.final_epoch,
        "final_kl": src.final_kl,
        "model": type(src.model).__name__,
        "latent_dim": int(src.codes.shape[1]),
        "image_size": int(src.model.hparams.image_size),
        "channels": int(src.model.hparams.get("image_channels", 1)),
        **domain,
        "factor_declaration": factor_panel_data(src.declaration),
        "lead": src.declaration.lead,
        "dataset": dataset_digest(src.data_cfg, src.declaration),
        "n": int(len(src.codes)),
        "index": index,
        "codes": _b64(src.codes),
        "factors": {k: _b64(v) for k, v in factors.items()},
        "colourings": {k: _b64(np.asarray(v, dtype=np.float64)) for k, v in colourings.items()},
        "factors_range": {k: [float(v.min()), float(v.max())] for k, v in factors.items()},
        "split": base64.b64encode(np.asarray(src.test, dtype=np.uint8).tobytes()).decode(),
        "paths": src.paths,
        "realism_scale": realism_scale(src.declaration, domain, decoded, src.images),
        "decoder": {"layers": layers},
        "encoder": encoder,
        "no_encoder": None if encoder else src.no_encoder,
        "snapshots": src.snapshots,
        "weights_url": src.weights_url,
        "epochs": src.epochs,
    }


def explorer_data(
    run: LoadedRun,
    latents: np.ndarray | None = None,
    snapshots_every: int = 1,
    paths: Callable[[np.ndarray, dict[str, np.ndarray]], dict[str, list]] | None = None,
) -> dict[str, Any]:
    """Everything the page carries: decoder, codes with factors and split, the factor declaration,
    the domain's renderer, and the run's snapshots (every ``snapshots_every``-th; 0: none) for the
    epoch slider. ``paths(latents, factors)``: a study's named paths for the path picker, given by
    the entry point that knows the study (``analyze.py``, ``python -m heatmap_latent.explorer``)."""
    model, dm = run.model, run.datamodule
    layers = decoder_layers(model.decoder)  # fails before any encoding if the decoder is foreign
    if latents is None:
        latents = model.embed(dm.images).numpy()
    factors = {k: np.asarray(v, dtype=np.float64) for k, v in dm.factors.items()}
    test = np.zeros(len(latents), dtype=bool)
    test[np.asarray(dm.test_idx)] = True
    frames = snapshot_frames(run, latents, snapshots_every)
    source = PageSource(
        name=run.name,
        checkpoint=str(run.checkpoint),
        final_label=f"checkpoint {Path(str(run.checkpoint)).name}",
        model=model,
        codes=latents,
        factors=factors,
        test=test,
        declaration=declaration_of(dm),
        data_cfg=run.cfg.data,
        images=dm.images.numpy(),
        # the checkpoint's encoder, the last frame's (the page encodes with it at every epoch)
        encoder_label="the checkpoint's",
        decoder_layers=layers,
        paths=paths(latents, factors) if paths else {},
        snapshots=frames,
        epochs=[frame["epoch"] for frame in frames["frames"]] if frames else [],
    )
    return page_data(source)


SCRIPTS = (  # classic scripts, in this order (docs/explorer.md): the core, its panels, then the API that starts them
    "ui.js",
    "ui_scatter.js",
    "ui_slice.js",
    "ui_decode.js",
    "ui_traversals.js",
    "ui_paths.js",
    "ui_epochs.js",
    "ui_factors.js",
    "ui_control.js",
    "domain_heatmaps.js",  # the domains' renderers and fits: each registers itself; a page carries its own
    "domain_table.js",
    "network.js",  # the decoder and encoder, the frames, the earlier frames' weights, the view: explorer.js builds them
    "linalg.js",
    "frames.js",
    "frame_weights.js",
    "atlas.js",
    "view.js",
    "explorer.js",
)


def page_scripts(domain: str | None) -> list[str]:
    """The scripts of a page whose data names ``domain``: every one but the other domains'."""
    return [name for name in SCRIPTS if not name.startswith("domain_") or name == f"domain_{domain}.js"]


def _asset(name: str) -> str:
    return files("heatmap_latent.explorer").joinpath(name).read_text()


_PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("heatmap_latent.explorer", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
# the page tells its script which data version it reads: the version is written here only
_PAGES.globals["data_version"] = DATA_VERSION
PAGE = _PAGES.get_template("page.html.j2")


def explorer_html(data: dict[str, Any], panels: Sequence[Path] = ()) -> str:
    """The page: its template with the run's data as JSON and the explorer's own scripts inline, then
    ``panels``: scripts of one's own, each registering a panel as the built-in ones do (docs/explorer.md)."""
    missing = [str(p) for p in panels if not Path(p).is_file()]
    if missing:
        raise UserError(f"no panel script {', '.join(missing)}")
    scripts = [_asset(name) for name in page_scripts(data["domain"])]
    scripts[-1:-1] = [Path(p).read_text() for p in panels]  # before explorer.js, which starts them
    meta = f"{data['model']}, latent_dim {data['latent_dim']}, {data['n']} codes, checkpoint {data['checkpoint']}"
    return PAGE.render(
        title=f"heatmap-latent explorer: {data['name']}",
        meta=meta,
        style=Markup(_asset("explorer.css")),
        # inside <script>, only "</" could end the element early
        data_json=Markup(json.dumps(data).replace("</", "<\\/")),
        # the core UI, the panels that register themselves in it, then the decoder that starts them
        script=Markup("\n".join(scripts)),
        start=Markup("window.heatmapLatentStart(JSON.parse(document.getElementById('explorer-data').textContent));"),
    )
