// The view's frame: every frame's raw codes aligned to the last snapshot (or each in its own frame),
// optionally in the last frame's principal axes, or mapped onto another run's frames by an affine fit
// (the Latent tab's atlas); toView / toRaw between the two, and the view's codes and extent.
"use strict";
window.heatmapLatentView = function (DATA, frames, imageOf, at) { // at(): the shown frame's index
  const D = DATA.latent_dim, { symmetricEigen, solve } = window.heatmapLatentLinalg;
  let aligned = true, projected = false;
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
  function toView(z, i = at()) {
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
  function toRaw(v, i = at()) {
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
  function viewCodes(i = at()) {
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

  return {
    toView: toView, toRaw: toRaw, viewCodes: viewCodes, extent: extent, pca: pca, fitAtlas: fitAtlas,
    get atlas() { return atlas; },
    get aligned() { return aligned; },
    setAligned: (on) => { aligned = !!on; },
    get projected() { return projected; },
    setProjected: (on) => { projected = !!on; }, // the principal axes of the last frame (pca())
  };
};
