// heatmap-latent explorer: the run's decoder, written out in JavaScript, decodes any latent point
// in the page. No network and no server: the page carries the codes, factors and decoder weights,
// and those of every snapshot the run wrote while it trained (one frame per epoch).
// A classic script: heatmapLatentStart(DATA) takes its data as an argument (the static page passes
// its embedded JSON), so the same file runs from file:// and inside other hosts.
"use strict";
// the data contract this script reads: explorer/page.py DATA_VERSION, in the page's meta tag (page.html.j2;
// a meta tag, not an inline script, which TensorBoard's content security policy would refuse)
const HEATMAP_LATENT_DATA_VERSION = Number(document.querySelector("meta[name=heatmap-latent-data-version]").content);
// the blobs of explorer/frames.py: deflated, HLF1, the header's length, a JSON header, the arrays it lists
async function heatmapLatentInflate(data) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
const HEATMAP_LATENT_TYPED = { "<i2": Int16Array, "<i4": Int32Array, "<f4": Float32Array, "|u1": Uint8Array };
function heatmapLatentUnpack(raw) {
  if (String.fromCharCode(raw[0], raw[1], raw[2], raw[3]) !== "HLF1") throw new Error("heatmap-latent explorer: not a frame blob");
  const length = new DataView(raw.buffer, raw.byteOffset).getUint32(4, true), body = raw.byteOffset + 8 + length;
  const out = {};
  for (const e of JSON.parse(new TextDecoder().decode(raw.subarray(8, 8 + length))).arrays) {
    const T = HEATMAP_LATENT_TYPED[e.dtype], count = e.shape.reduce((a, b) => a * b, 1);
    out[e.name] = new T(raw.buffer.slice(body + e.offset, body + e.offset + count * T.BYTES_PER_ELEMENT));
  }
  return out;
}
// a host that fetched a blob (the Latent tab's panel): its arrays by name
window.heatmapLatentBlob = async (data) => heatmapLatentUnpack(await heatmapLatentInflate(data));

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

  // ---------------------------------------------------------------- the decoder (Decoder.forward)
  function erf(x) {
    // Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, far inside the decoder's 1e-4 tolerance
    const t = 1 / (1 + 0.3275911 * Math.abs(x));
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    const r = 1 - poly * Math.exp(-x * x);
    return x < 0 ? -r : r;
  }

  const ACTS = {
    relu: () => (v) => (v > 0 ? v : 0),
    leaky_relu: (a) => (v) => (v >= 0 ? v : v * a.negative_slope),
    elu: (a) => (v) => (v > 0 ? v : a.alpha * Math.expm1(v)),
    gelu: (a) => a.approximate === "tanh"
      ? (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))
      : (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
    silu: () => (v) => v / (1 + Math.exp(-v)),
  };

  // the layers of Decoder.forward with one set of weights: [weight, bias] typed arrays per layer (null: none)
  function layersFrom(weights) {
    return DATA.decoder.layers.map((l, i) => {
      const out = Object.assign({}, l);
      if (weights[i]) { out.w = weights[i][0]; out.b = weights[i][1]; }
      if (l.type === "activation") out.fn = ACTS[l.name](l);
      return out;
    });
  }

  function linear(l, x) {
    const [nOut, nIn] = l.shape;
    const y = new Float64Array(nOut);
    for (let o = 0; o < nOut; o++) {
      let s = l.b[o];
      const row = o * nIn;
      for (let i = 0; i < nIn; i++) s += l.w[row + i] * x[i];
      y[o] = s;
    }
    return y;
  }

  function convTranspose(l, x, c, h) {
    // weight (C_in, C_out, k, k); out side (h - 1) * stride - 2 * padding + k
    const [cIn, cOut, k] = l.shape;
    const s = l.stride, p = l.padding;
    const H = (h - 1) * s - 2 * p + k;
    const y = new Float64Array(cOut * H * H);
    for (let o = 0; o < cOut; o++) y.fill(l.b[o], o * H * H, (o + 1) * H * H);
    for (let ci = 0; ci < cIn; ci++) {
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < h; ix++) {
          const v = x[(ci * h + iy) * h + ix];
          if (v === 0) continue;
          for (let o = 0; o < cOut; o++) {
            const wBase = ((ci * cOut + o) * k) * k;
            const yBase = o * H * H;
            for (let ky = 0; ky < k; ky++) {
              const oy = iy * s - p + ky;
              if (oy < 0 || oy >= H) continue;
              for (let kx = 0; kx < k; kx++) {
                const ox = ix * s - p + kx;
                if (ox < 0 || ox >= H) continue;
                y[yBase + oy * H + ox] += v * l.w[wBase + ky * k + kx];
              }
            }
          }
        }
      }
    }
    return [y, cOut, H];
  }

  function decodeWith(LAYERS, z) {
    let x = Float64Array.from(z);
    let c = 0, h = 0;
    for (const l of LAYERS) {
      if (l.type === "linear") x = linear(l, x);
      else if (l.type === "activation") for (let i = 0; i < x.length; i++) x[i] = l.fn(x[i]);
      else if (l.type === "reshape") { [c, h] = [l.shape[0], l.shape[1]]; }
      else if (l.type === "conv_transpose") [x, c, h] = convTranspose(l, x, c, h);
    }
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
    return out;
  }

  // ------------------------------------------------------------ the encoder (model.encode)
  // Both of its layer kinds scatter each input value that is not zero (ReLU and max pooling leave
  // many) into the outputs it reaches, along a contiguous run of output channels: weights are laid
  // out input-major once (wT), outputs channel-innermost. 2.3x faster than a loop per output row
  // (docs/explorer.md, "Speed of the encoder")
  function conv(l, x, c, h) {
    // weight (C_out, C_in, k, k) as wT (C_in, k, k, C_out); zero padding; out side floor((h + 2p - k) / s) + 1;
    // output (oy, ox) reads input (oy * s - p + ky, ox * s - p + kx)
    const [cOut, cIn, k] = l.shape, s = l.stride, p = l.padding, wT = l.wT;
    const H = Math.floor((h + 2 * p - k) / s) + 1, HH = H * H;
    const acc = new Float64Array(HH * cOut); // (H, W, C_out)
    for (let q = 0; q < HH; q++) acc.set(l.b, q * cOut);
    for (let ci = 0; ci < cIn; ci++) for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < h; ix++) {
      const v = x[(ci * h + iy) * h + ix];
      if (v === 0) continue;
      for (let ky = 0; ky < k; ky++) {
        const ty = iy + p - ky;
        if (ty < 0 || ty % s !== 0 || ty / s >= H) continue;
        for (let kx = 0; kx < k; kx++) {
          const tx = ix + p - kx;
          if (tx < 0 || tx % s !== 0 || tx / s >= H) continue;
          const out = ((ty / s) * H + tx / s) * cOut, w = ((ci * k + ky) * k + kx) * cOut;
          for (let o = 0; o < cOut; o++) acc[out + o] += v * wT[w + o];
        }
      }
    }
    const y = new Float64Array(cOut * HH); // back to (C_out, H, W), as the next layers and Flatten read it
    for (let q = 0; q < HH; q++) for (let o = 0; o < cOut; o++) y[o * HH + q] = acc[q * cOut + o];
    return [y, cOut, H];
  }

  function linearSparse(l, x) { // Linear with wT (in, out): the zero inputs skipped
    const [nOut, nIn] = l.shape, wT = l.wT, y = Float64Array.from(l.b);
    for (let i = 0; i < nIn; i++) {
      const v = x[i];
      if (v === 0) continue;
      const row = i * nOut;
      for (let o = 0; o < nOut; o++) y[o] += v * wT[row + o];
    }
    return y;
  }

  function inputMajor(w, nOut, inner) { // (nOut, inner) row-major -> (inner, nOut)
    const t = new Float32Array(w.length);
    for (let o = 0; o < nOut; o++) for (let i = 0; i < inner; i++) t[i * nOut + o] = w[o * inner + i];
    return t;
  }

  function maxPool(l, x, c, h) {
    const k = l.kernel, s = l.stride, H = Math.floor((h - k) / s) + 1;
    const y = new Float64Array(c * H * H);
    for (let ch = 0; ch < c; ch++) for (let oy = 0; oy < H; oy++) for (let ox = 0; ox < H; ox++) {
      let m = -Infinity;
      for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) m = Math.max(m, x[(ch * h + oy * s + ky) * h + ox * s + kx]);
      y[(ch * H + oy) * H + ox] = m;
    }
    return [y, c, H];
  }

  const ENCODER = DATA.encoder ? DATA.encoder.layers.map((l) => {
    const out = Object.assign({}, l);
    if (l.weight) { const w = f32(l.weight); out.b = f32(l.bias); out.wT = inputMajor(w, l.shape[0], w.length / l.shape[0]); }
    if (l.type === "activation") out.fn = ACTS[l.name](l);
    return out;
  }) : null;

  // an (S*S) image, row-major as the decoder emits it, to its code (a VAE: the posterior mean)
  function encode(image) {
    if (!ENCODER) throw new Error("this page carries no encoder");
    let x = Float64Array.from(image), c = 1, h = DATA.image_size;
    for (const l of ENCODER) {
      if (l.type === "conv") [x, c, h] = conv(l, x, c, h);
      else if (l.type === "max_pool") [x, c, h] = maxPool(l, x, c, h);
      else if (l.type === "activation") for (let i = 0; i < x.length; i++) x[i] = l.fn(x[i]);
      else if (l.type === "linear") x = linearSparse(l, x);
      else if (l.type === "take") x = x.slice(0, l.n);
      // flatten: (C, H, W) is already laid out row-major
    }
    return x;
  }

  const S = DATA.image_size;
  // ---------------------------------------------------------------- frames: snapshots, then the checkpoint
  const D = DATA.latent_dim;
  const ALL = {
    codes: f32(DATA.codes),
    factors: Object.fromEntries(Object.entries(DATA.factors).map(([k, v]) => [k, f32(v)])),
    colourings: Object.fromEntries(Object.entries(DATA.colourings || {}).map(([k, v]) => [k, f64(v)])),
    split: Uint8Array.from(atob(DATA.split), (ch) => ch.charCodeAt(0)), // 1: test
  };
  // render(factors object) -> image, fitFactors(image) -> factors and realism; null without a renderer:
  // the domain the dataset declares, a script registered in window.heatmapLatentDomains (domain_*.js)
  const DOMAINS = window.heatmapLatentDomains || {};
  if (DATA.domain && !DOMAINS[DATA.domain]) throw new Error("heatmap-latent explorer: no script of this page renders the domain " + DATA.domain);
  const DOMAIN = DATA.domain ? DOMAINS[DATA.domain](DATA, { factors: ALL.factors, bytes: bytes, solve: solve }) : null;
  const render = DOMAIN ? DOMAIN.render : null, fitFactors = DOMAIN ? DOMAIN.fit : null;
  const SPLIT_NAMES = ["train", "validation", "test"];
  // the row of ALL that holds a dataset position: itself, or (the tab: ALL is the latest snapshot's
  // images, DATA.index their positions) its row among them
  const allRows = DATA.index ? new Map(Array.from(i32(DATA.index), (v, r) => [v, r])) : null;
  const rowInAll = (i) => (allRows ? allRows.get(i) : i);
  const frames = [];
  for (const f of DATA.snapshots ? DATA.snapshots.frames : []) {
    const index = i32(f.index), rows = Int32Array.from(index, rowInAll);
    frames.push({
      label: "epoch " + f.epoch + (f.final ? " (end of training)" : ""),
      epoch: f.epoch, kl: f.kl, scores: f.scores || null, align: f.align, n: index.length, index: index, codes: f32(f.codes),
      factors: Object.fromEntries(Object.entries(ALL.factors).map(([k, v]) => [k, Float32Array.from(rows, (r) => v[r])])),
      colourings: Object.fromEntries(Object.entries(ALL.colourings).map(([k, v]) => [k, Float64Array.from(rows, (r) => v[r])])),
      split: Array.from(bytes(f.split), (v) => SPLIT_NAMES[v]),
      weights: f.weights, decode: null, // loadFrame(i) sets it
    });
  }
  const checkpointLayers = layersFrom(DATA.decoder.layers.map((l) => (l.weight ? [f32(l.weight), f32(l.bias)] : null)));
  frames.push({
    label: DATA.final_label || "checkpoint " + DATA.checkpoint.split(/[\\/]/).pop(),
    epoch: DATA.final_epoch == null ? null : DATA.final_epoch, kl: DATA.final_kl || null, checkpoint: true,
    align: DATA.snapshots ? DATA.snapshots.checkpoint_align : null, n: DATA.n, codes: ALL.codes,
    index: DATA.index ? i32(DATA.index) : null,
    factors: ALL.factors, colourings: ALL.colourings, split: Array.from(ALL.split, (v) => (v ? "test" : "train")),
    decode: (z) => decodeWith(checkpointLayers, z),
  });

  // -------------------------------------- the earlier frames' weights: blobs of explorer/frames.py, on demand
  // A blob is deflated: HLF1, the header's length, a JSON header, the arrays it lists. Frame i's
  // integers are the last frame's (its float32 weights at the steps) plus blobs i to the end; its
  // weights are those integers times the first frame's steps.
  function blobOf(i) { // inline in the static page; fetched from the Latent tab's frame route
    const w = frames[i].weights;
    if (w.blob) return Promise.resolve(bytes(w.blob));
    return fetch(w.url).then((r) => {
      if (!r.ok) throw new Error("heatmap-latent explorer: the weights of " + frames[i].label + ": HTTP " + r.status);
      return r.arrayBuffer();
    }).then((b) => new Uint8Array(b));
  }
  const chain = [];
  function integers(i) { // every blob from frame i to the last is fetched at once, then summed
    if (!chain[i]) {
      if (i === frames.length - 1) {
        const steps = DATA.snapshots.steps, out = {};
        checkpointLayers.forEach((l, k) => {
          if (!steps[k]) return;
          out[k + ".w"] = Int32Array.from(l.w, (v) => Math.floor(v / steps[k][0] + 0.5));
          out[k + ".b"] = Int32Array.from(l.b, (v) => Math.floor(v / steps[k][1] + 0.5));
        });
        chain[i] = Promise.resolve(out);
      } else {
        const mine = blobOf(i).then(heatmapLatentInflate).then(heatmapLatentUnpack);
        chain[i] = Promise.all([integers(i + 1), mine]).then(([after, delta]) => {
          const out = {};
          for (const [name, d] of Object.entries(delta)) {
            const sum = new Int32Array(d.length), a = after[name];
            for (let k = 0; k < d.length; k++) sum[k] = a[k] + d[k];
            out[name] = sum;
          }
          return out;
        });
      }
    }
    return chain[i];
  }
  const scaled = (q, step) => Float32Array.from(q, (v) => v * step);
  const loading = [];
  function loadFrame(i) { // resolves once frames[i].decode exists
    const f = frames[i];
    if (f.decode) return Promise.resolve();
    if (!loading[i]) {
      loading[i] = integers(i).then((q) => {
        const steps = DATA.snapshots.steps;
        const layers = layersFrom(steps.map((st, l) => (st ? [scaled(q[l + ".w"], st[0]), scaled(q[l + ".b"], st[1])] : null)));
        f.decode = (z) => decodeWith(layers, z);
      });
    }
    return loading[i];
  }
  function decodeAt(i, z) {
    if (!frames[i].decode) throw new Error("heatmap-latent explorer: the weights of " + frames[i].label + " are not loaded: await loadFrame(" + i + ")");
    return frames[i].decode(z);
  }
  let current = frames.length - 1, aligned = true, projected = false;

  // the frame: (raw - centre) @ rotation + origin in the aligned view; raw itself otherwise
  function framed(z, i) {
    const a = frames[i].align;
    if (!aligned || !a) return Float64Array.from(z);
    const v = Float64Array.from(a.origin);
    for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) v[k] += (z[j] - a.centre[j]) * a.rotation[j][k];
    return v;
  }
  function unframed(v, i) {
    const a = frames[i].align;
    if (!aligned || !a) return Float64Array.from(v);
    const z = Float64Array.from(a.centre);
    for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) z[j] += (v[k] - a.origin[k]) * a.rotation[j][k];
    return z;
  }
  // principal axes, fitted once on the last frame's codes (in the aligned or the raw frame) and
  // applied to every frame: view = (framed - mean) @ axes, axes orthonormal by falling variance
  const pcaFits = {};
  function pca() {
    const key = aligned ? "a" : "r", last = frames.length - 1;
    if (!pcaFits[key]) {
      const f = frames[last], mean = new Float64Array(D), cov = Array.from({ length: D }, () => new Float64Array(D));
      const rows = Array.from({ length: f.n }, (_, p) => framed(f.codes.subarray(p * D, p * D + D), last));
      for (const v of rows) for (let k = 0; k < D; k++) mean[k] += v[k] / f.n;
      for (const v of rows) for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) cov[j][k] += (v[j] - mean[j]) * (v[k] - mean[k]) / f.n;
      const { values, vectors } = symmetricEigen(cov);
      const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
      pcaFits[key] = { mean: mean, variances: order.map((k) => values[k]), axes: vectors.map((row) => order.map((k) => row[k])) };
    }
    return pcaFits[key];
  }
  // the atlas (the Latent tab's runs in one frame): frame i's raw codes mapped by an affine fit
  // view = [z, 1] @ A onto a reference run's codes of the same images at the same epoch (least
  // squares), undone before any decode; it replaces the alignment and the principal axes
  let atlas = null, atlasKey = "", atlasCount = 0;
  function fitAtlas(ref) {
    if (!ref) { atlas = null; atlasKey = ""; return null; }
    if (ref.dataset !== DATA.dataset) throw new Error("another dataset than the reference run's: its images are not the same");
    const fits = frames.map((f, i) => {
      const r = ref.frameFor(f.epoch), other = ref.codesAt(r), X = [], Y = [];
      for (let p = 0; p < f.n; p++) {
        const q = ref.rowOf(imageOf(p, i), r);
        if (q < 0) continue;
        X.push([...f.codes.subarray(p * D, p * D + D), 1]); Y.push(other.subarray(q * D, q * D + D));
      }
      if (X.length < 2 * (D + 1)) return null;
      const XtX = Array.from({ length: D + 1 }, (_, a) => Array.from({ length: D + 1 }, (_, b) => X.reduce((s, x) => s + x[a] * x[b], 0)));
      const XtY = Array.from({ length: D + 1 }, (_, a) => Array.from({ length: D }, (_, k) => X.reduce((s, x, n) => s + x[a] * Y[n][k], 0)));
      const A = solve(XtX, XtY), M = A.slice(0, D);
      // how much of the reference's spread the fit explains: 1 when this run is an affine copy of it
      const mean = Array.from({ length: D }, (_, k) => Y.reduce((t, y) => t + y[k], 0) / Y.length);
      let res = 0, tot = 0;
      X.forEach((x, n) => {
        for (let k = 0; k < D; k++) {
          let v = 0;
          for (let j = 0; j <= D; j++) v += x[j] * A[j][k];
          res += (v - Y[n][k]) ** 2; tot += (Y[n][k] - mean[k]) ** 2;
        }
      });
      const eye = Array.from({ length: D }, (_, a) => Array.from({ length: D }, (_, b) => (a === b ? 1 : 0)));
      return { A: A, inverse: solve(M, eye), images: X.length, r2: 1 - res / (tot || 1) };
    });
    if (fits.some((f) => !f)) throw new Error("heatmap-latent explorer: too few images in common with the reference run for an atlas");
    atlas = fits; atlasKey = "x" + (++atlasCount);
    return { images: fits.map((f) => f.images), r2: fits.map((f) => f.r2) };
  }
  function toView(z, i = current) {
    if (atlas) {
      const A = atlas[i].A, out = Float64Array.from(A[D]);
      for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) out[k] += z[j] * A[j][k];
      return out;
    }
    const v = framed(z, i);
    if (!projected) return v;
    const { mean, axes } = pca(), out = new Float64Array(D);
    for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) out[k] += (v[j] - mean[j]) * axes[j][k];
    return out;
  }
  function toRaw(v, i = current) {
    if (atlas) {
      const { A, inverse } = atlas[i], out = new Float64Array(D);
      for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) out[k] += (v[j] - A[D][j]) * inverse[j][k];
      return out;
    }
    if (!projected) return unframed(v, i);
    const { mean, axes } = pca(), w = Float64Array.from(mean);
    for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) w[j] += axes[j][k] * v[k];
    return unframed(w, i);
  }
  const viewCache = new Map();
  function viewCodes(i = current) {
    const key = i + (atlasKey || (aligned ? "a" : "r") + (projected ? "p" : ""));
    if (!viewCache.has(key)) {
      const f = frames[i], out = new Float32Array(f.n * D);
      for (let p = 0; p < f.n; p++) out.set(toView(f.codes.subarray(p * D, p * D + D), i), p * D);
      viewCache.set(key, out);
    }
    return viewCache.get(key);
  }
  function extent() {
    // over every frame, so that the axes stay put while the slider moves
    const lo = new Float64Array(D).fill(Infinity), hi = new Float64Array(D).fill(-Infinity);
    frames.forEach((f, i) => {
      const v = viewCodes(i);
      for (let p = 0; p < f.n; p++) for (let k = 0; k < D; k++) {
        lo[k] = Math.min(lo[k], v[p * D + k]); hi[k] = Math.max(hi[k], v[p * D + k]);
      }
    });
    return { lo: lo, hi: hi };
  }

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

  // an image's dataset position <-> its row in a frame (frames of snapshots hold a subset)
  const imageOf = (p, i = current) => (frames[i].index ? frames[i].index[p] : p);
  const rows = new Map();
  function rowOf(image, i = current) {
    const f = frames[i];
    if (!f.index) return image < f.n ? image : -1;
    if (!rows.has(i)) rows.set(i, new Map(Array.from(f.index, (v, p) => [v, p])));
    const p = rows.get(i).get(image);
    return p === undefined ? -1 : p;
  }

  const api = {
    imageOf: imageOf, rowOf: rowOf,
    decode: (z) => decodeAt(current, z), // raw coordinates of the current frame
    encode: encode, hasEncoder: !!ENCODER, // the last frame's encoder (the checkpoint's, or the tab's latest snapshot's)
    encoderLabel: ENCODER ? DATA.encoder.label || "the checkpoint's" : null,
    noEncoder: ENCODER ? null : DATA.no_encoder || "this page carries no encoder",
    decodeAt: decodeAt, loadFrame: loadFrame, isLoaded: (i) => !!frames[i].decode,
    nearest: nearest, fitFactors: fitFactors, render: render, toView: toView, toRaw: toRaw,
    declaration: DATA.factor_declaration, lead: DATA.lead, noRender: render ? null : DATA.no_render || "the dataset declares no renderer",
    viewCodes: viewCodes, extent: extent, latentDim: D, imageSize: S,
    frames: frames.map((f) => ({ label: f.label, epoch: f.epoch, kl: f.kl, scores: f.scores || null, n: f.n })),
    get frame() { return current; },
    get n() { return frames[current].n; },
    get codes() { return frames[current].codes; },
    get factors() { return frames[current].factors; },
    get colourings() { return frames[current].colourings; },
    get aligned() { return aligned; },
    setFrame: (i) => { current = Math.max(0, Math.min(frames.length - 1, i)); },
    setAligned: (on) => { aligned = !!on; },
    get projected() { return projected; },
    setProjected: (on) => { projected = !!on; }, // the principal axes of the last frame (pca())
    fitAtlas: fitAtlas, get atlas() { return atlas; }, // ui.setAtlas(ref) refits and redraws
    dataset: DATA.dataset, // a digest of the data config: the same images in the same positions
    frameFor: (epoch) => { const i = frames.findIndex((f) => f.epoch === epoch); return i < 0 ? frames.length - 1 : i; },
    codesAt: (i) => frames[i].codes,
    pca: pca,
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

// The eigenvalues and eigenvectors (columns of ``vectors``) of a small symmetric matrix, by cyclic
// Jacobi rotations: exact to rounding for the latent dimensions a page has (a few to a few tens).
function symmetricEigen(matrix) {
  const n = matrix.length, a = matrix.map((row) => Float64Array.from(row));
  const v = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) {
      if (Math.abs(a[p][q]) < 1e-300) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < n; k++) { // a <- a J (columns p, q), then J^T a (rows p, q); v <- v J
        const akp = a[k][p], akq = a[k][q];
        a[k][p] = c * akp - s * akq; a[k][q] = s * akp + c * akq;
      }
      for (let k = 0; k < n; k++) {
        const apk = a[p][k], aqk = a[q][k];
        a[p][k] = c * apk - s * aqk; a[q][k] = s * apk + c * aqk;
      }
      for (let k = 0; k < n; k++) {
        const vkp = v[k][p], vkq = v[k][q];
        v[k][p] = c * vkp - s * vkq; v[k][q] = s * vkp + c * vkq;
      }
    }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i][i]), vectors: v };
}

// A X = B by Gauss-Jordan with partial pivoting; A (n x n), B (n x m): the factor fit's 4x4 normal
// equations and the atlas's affine fits
function solve(A, B) {
  const n = A.length, M = A.map((row, i) => [...row, ...B[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    if (Math.abs(M[c][c]) < 1e-300) throw new Error("heatmap-latent explorer: a singular linear system");
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k < M[r].length; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row.slice(n).map((v) => v / M[i][i]));
}
