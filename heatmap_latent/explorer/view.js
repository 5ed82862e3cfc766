// The view's frame: every frame's raw codes aligned to the last snapshot (or each in its own frame),
// optionally in the last frame's principal axes, or mapped onto another run's frames by an affine fit
// (the Latent tab's atlas); toView / toRaw between the two, and the view's codes and extent.
"use strict";
(function () {
  // the principal axes of rows of D values: their mean, variances and axes (orthonormal, by falling variance)
  function principalAxes(rows, D) {
    const n = rows.length, mean = new Float64Array(D), cov = Array.from({ length: D }, () => new Float64Array(D));
    for (const v of rows) for (let k = 0; k < D; k++) mean[k] += v[k] / n;
    for (const v of rows) for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) cov[j][k] += (v[j] - mean[j]) * (v[k] - mean[k]) / n;
    const { values, vectors } = window.heatmapLatentLinalg.symmetricEigen(cov);
    const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
    return { mean: mean, variances: order.map((k) => values[k]), axes: vectors.map((row) => order.map((k) => row[k])) };
  }
  // an atlas fit (atlas.js) one way and back: out = z @ A[:D] + A[D]; z = (out - A[D]) @ inverse
  function atlasTo(fit, z, D) {
    const A = fit.A, out = Float64Array.from(A[D]);
    for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) out[k] += z[j] * A[j][k];
    return out;
  }
  function atlasFrom(fit, v, D) {
    const { A, inverse } = fit, out = new Float64Array(D);
    for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) out[k] += (v[j] - A[D][j]) * inverse[j][k];
    return out;
  }

  window.heatmapLatentView = function (DATA, frames, imageOf, at) { // at(): the shown frame's index
    const D = DATA.latent_dim;
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
        const f = frames[last];
        pcaFits[key] = principalAxes(Array.from({ length: f.n }, (_, p) => framed(f.codes.subarray(p * D, p * D + D), last)), D);
      }
      return pcaFits[key];
    }
    // the atlas (atlas.js): replaces the alignment and the principal axes, undone before any decode
    let atlas = null, atlasKey = "", atlasCount = 0;
    function fitAtlas(ref) {
      if (!ref) { atlas = null; atlasKey = ""; return null; }
      const fits = window.heatmapLatentAtlasFit(DATA, frames, imageOf, ref);
      atlas = fits; atlasKey = "x" + (++atlasCount);
      return { images: fits.map((f) => f.images), r2: fits.map((f) => f.r2) };
    }
    function toView(z, i = at()) {
      if (atlas) return atlasTo(atlas[i], z, D);
      const v = framed(z, i);
      if (!projected) return v;
      const { mean, axes } = pca(), out = new Float64Array(D);
      for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) out[k] += (v[j] - mean[j]) * axes[j][k];
      return out;
    }
    function toRaw(v, i = at()) {
      if (atlas) return atlasFrom(atlas[i], v, D);
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
})();
