// The atlas (the Latent tab's runs in one frame): each frame's raw codes mapped by an affine fit
// view = [z, 1] @ A onto a reference run's codes of the same images at the same epoch (least squares,
// linalg.js), with its inverse for the decode and how much of the reference's spread it explains.
"use strict";
window.heatmapLatentAtlasFit = function (DATA, frames, imageOf, ref) {
  const D = DATA.latent_dim, solve = window.heatmapLatentLinalg.solve;
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
  return fits;
};
