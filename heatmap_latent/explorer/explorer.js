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
  const { layersFrom, decodeWith, encode } = NET, ENCODER = NET.encoder;

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

  // the earlier frames' weights, inflated as the slider needs them (frame_weights.js)
  const { loadFrame, decodeAt } = window.heatmapLatentFrameWeights(DATA, frames, checkpointLayers, NET, bytes);
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
