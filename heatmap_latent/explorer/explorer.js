// heatmap-latent explorer: the run's decoder, written out in JavaScript, decodes any latent point
// in the page. No network and no server: the page carries the codes, factors and decoder weights,
// and those of every snapshot the run wrote while it trained (one frame per epoch).
// A classic script: heatmapLatentStart(DATA) takes its data as an argument (the static page passes
// its embedded JSON), so the same file runs from file:// and inside other hosts.
"use strict";
// the data contract this script reads: explorer/page.py DATA_VERSION, in the page's meta tag (page.html.j2;
// a meta tag, not an inline script, which TensorBoard's content security policy would refuse)
const HEATMAP_LATENT_DATA_VERSION = Number(document.querySelector("meta[name=heatmap-latent-data-version]").content);
window.heatmapLatentStart = function (DATA) {
  if (!DATA || DATA.version !== HEATMAP_LATENT_DATA_VERSION) {
    const got = DATA && DATA.version !== undefined ? DATA.version : "none";
    const message = "heatmap-latent explorer: this page's script reads data version " + HEATMAP_LATENT_DATA_VERSION +
      ", the data is version " + got + "; rewrite the page with the installed heatmap-latent";
    const note = document.createElement("p");
    note.className = "version-mismatch"; note.textContent = message;
    document.body.prepend(note);
    throw new Error(message);
  }
  function bytes(b64) {
    const raw = atob(b64);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  const f32 = (v) => (typeof v === "string" ? new Float32Array(bytes(v).buffer) : v); // base64, or filled in by a host
  const f64 = (b64) => Float64Array.from(f32(b64));
  const i32 = (b64) => new Int32Array(bytes(b64).buffer);

  // the run's decoder and encoder in JavaScript (network.js)
  const NET = window.heatmapLatentNetwork(DATA, f32);
  const { encode } = NET, ENCODER = NET.encoder;

  const S = DATA.image_size;
  const D = DATA.latent_dim;
  // the frames (frames.js) and the view's frame over them (view.js)
  const F = window.heatmapLatentFrames(DATA, NET, { bytes: bytes, f32: f32, f64: f64, i32: i32 });
  const { ALL, frames, checkpointLayers } = F;
  // render(factors object) -> image, fitFactors(image) -> factors and realism; null without a renderer:
  // the domain the dataset declares, a script registered in window.heatmapLatentDomains (domain_*.js)
  const DOMAINS = window.heatmapLatentDomains || {};
  if (DATA.domain && !DOMAINS[DATA.domain]) throw new Error("heatmap-latent explorer: no script of this page renders the domain " + DATA.domain);
  const solve = window.heatmapLatentLinalg.solve;
  const DOMAIN = DATA.domain ? DOMAINS[DATA.domain](DATA, { factors: ALL.factors, bytes: bytes, solve: solve }) : null;
  const render = DOMAIN ? DOMAIN.render : null, fitFactors = DOMAIN ? DOMAIN.fit : null;

  // the earlier frames' weights, inflated as the slider needs them (frame_weights.js)
  const { loadFrame, decodeAt } = window.heatmapLatentFrameWeights(DATA, frames, checkpointLayers, NET, bytes);
  let current = frames.length - 1;
  const imageOf = (p, i = current) => F.imageOf(p, i), rowOf = (image, i = current) => F.rowOf(image, i);
  const V = window.heatmapLatentView(DATA, frames, imageOf, () => current);

  function nearest(z) {
    const f = frames[current], C = f.codes;
    let bi = -1, bd = Infinity;
    for (let i = 0; i < f.n; i++) {
      let d = 0;
      for (let k = 0; k < D; k++) { const t = C[i * D + k] - z[k]; d += t * t; }
      if (d < bd) { bd = d; bi = i; }
    }
    const factors = {};
    for (const k of Object.keys(f.factors)) factors[k] = f.factors[k][bi];
    return { index: f.index ? f.index[bi] : bi, distance: Math.sqrt(bd), factors: factors, split: f.split[bi] };
  }

  const api = {
    imageOf: imageOf, rowOf: rowOf,
    decode: (z) => decodeAt(current, z), // raw coordinates of the current frame
    encode: encode, hasEncoder: !!ENCODER, // the last frame's encoder (the checkpoint's, or the tab's latest snapshot's)
    encoderLabel: ENCODER ? DATA.encoder.label || "the checkpoint's" : null,
    noEncoder: ENCODER ? null : DATA.no_encoder || "this page carries no encoder",
    decodeAt: decodeAt, loadFrame: loadFrame, isLoaded: (i) => !!frames[i].decode,
    nearest: nearest, fitFactors: fitFactors, render: render, continuous: !!(DOMAIN && DOMAIN.continuous), toView: V.toView, toRaw: V.toRaw,
    declaration: DATA.factor_declaration, lead: DATA.lead, noRender: render ? null : DATA.no_render || "the dataset declares no renderer",
    viewCodes: V.viewCodes, extent: V.extent, latentDim: D, imageSize: S,
    frames: frames.map((f) => ({ label: f.label, epoch: f.epoch, kl: f.kl, scores: f.scores || null, n: f.n })),
    get frame() { return current; },
    get n() { return frames[current].n; },
    get codes() { return frames[current].codes; },
    get factors() { return frames[current].factors; },
    get colourings() { return frames[current].colourings; },
    get aligned() { return V.aligned; },
    setFrame: (i) => { current = Math.max(0, Math.min(frames.length - 1, i)); },
    setAligned: V.setAligned,
    get projected() { return V.projected; },
    setProjected: V.setProjected, // the principal axes of the last frame (pca())
    fitAtlas: V.fitAtlas, get atlas() { return V.atlas; }, // ui's setAtlas(ref) refits and redraws
    dataset: DATA.dataset, // a digest of the data config: the same images in the same positions
    frameFor: (epoch) => { const i = frames.findIndex((f) => f.epoch === epoch); return i < 0 ? frames.length - 1 : i; },
    codesAt: (i) => frames[i].codes,
    pca: V.pca,
    // the selected point, shared by the panels (ui.js sets it): z in view and raw coordinates, its
    // decode, nearest image and fitted factors
    selection: { z: null, raw: null, decoded: null, nearest: null, fit: null },
    // the one test hook: what the panels record for a test to read (the last decode, timings, traces);
    // no panel reads it back (docs/explorer.md)
    probes: {},
  };
  window.heatmapLatent = api;
  if (window.heatmapLatentUI) window.heatmapLatentUI(api, DATA);
  return api;
};

