// The heatmaps' domain in the page: exact heatmaps (data/heatmaps.py) and the factor fit
// (data/heatmap_fit.py) in JavaScript, on the pixel grid and over the df the heatmap data modules
// declare (their declaration's page_domain). A classic script that registers the domain "heatmaps" in
// window.heatmapLatentDomains; explorer.js builds it when a page's data names that domain.
"use strict";
(window.heatmapLatentDomains = window.heatmapLatentDomains || {}).heatmaps = function heatmaps(DATA, lib) {
  const S = DATA.image_size, LOW = DATA.grid.low, HIGH = DATA.grid.high;
  const G = Array.from({ length: S }, (_, i) => LOW + ((HIGH - LOW) * i) / (S - 1));
  const MAX_VARIANCE = 100.0;

  function heatmap(vx, vy, rho, df) {
    const cov = rho * Math.sqrt(vx * vy), det = vx * vy - cov * cov;
    const a = vy / det, b = (-2 * cov) / det, c = vx / det;
    const img = new Float64Array(S * S);
    let best = df == null ? -Infinity : Infinity;
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) {
      const x = G[j], y = G[i], q = a * x * x + b * x * y + c * y * y;
      const v = df == null ? -0.5 * q : df + q;
      img[i * S + j] = v;
      best = df == null ? Math.max(best, v) : Math.min(best, v);
    }
    for (let p = 0; p < img.length; p++) {
      img[p] = df == null ? Math.exp(img[p] - best) : Math.exp(-0.5 * (df + 2) * Math.log(img[p] / best));
      img[p] = Math.fround(img[p]);
    }
    return img;
  }

  function fitOne(image, df, floor = 1e-3) {
    let mx = 0;
    for (const v of image) mx = Math.max(mx, v);
    mx = Math.max(mx, 1e-12);
    const A = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], r = [0, 0, 0, 0];
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) {
      const sc = image[i * S + j] / mx;
      const w = sc > floor ? sc : 0;
      if (w === 0) continue;
      const cl = Math.max(sc, floor);
      const t = df == null ? Math.log(cl) : Math.pow(cl, -2 / (df + 2));
      const x = G[j], y = G[i], f = [x * x, x * y, y * y, 1];
      for (let a = 0; a < 4; a++) { r[a] += w * f[a] * t; for (let b = 0; b < 4; b++) A[a][b] += w * f[a] * f[b]; }
    }
    for (let a = 0; a < 4; a++) A[a][a] += 1e-9;
    const c = lib.solve(A, r.map((v) => [v])).map((row) => row[0]);
    let p00, p01, p11;
    if (df == null) { p00 = -2 * c[0]; p01 = -c[1]; p11 = -2 * c[2]; }
    else {
      const sc = df / (Math.abs(c[3]) > 1e-12 ? c[3] : 1e-12);
      p00 = c[0] * sc; p01 = 0.5 * c[1] * sc; p11 = c[2] * sc;
    }
    // eigen-decomposition of the 2x2 precision; eigenvalues clipped at 1 / MAX_VARIANCE
    const tr = (p00 + p11) / 2, dd = Math.sqrt(((p00 - p11) / 2) ** 2 + p01 * p01);
    const evals = [tr - dd, tr + dd];
    let vecs;
    if (p01 === 0) vecs = p00 <= p11 ? [[1, 0], [0, 1]] : [[0, 1], [1, 0]];
    else vecs = evals.map((e) => { const v = [p01, e - p00], n = Math.hypot(v[0], v[1]); return [v[0] / n, v[1] / n]; });
    let cxx = 0, cxy = 0, cyy = 0;
    for (let k = 0; k < 2; k++) {
      const inv = 1 / Math.max(evals[k], 1 / MAX_VARIANCE), [u, v] = vecs[k];
      cxx += inv * u * u; cxy += inv * u * v; cyy += inv * v * v;
    }
    const rho = Math.min(0.999, Math.max(-0.999, cxy / Math.sqrt(cxx * cyy)));
    return { var_x: cxx, var_y: cyy, rho: rho };
  }

  function heatmapFit(image) {
    let best = null;
    for (const df of DATA.dfs || [null]) {
      const f = fitOne(image, df);
      const r = heatmap(f.var_x, f.var_y, f.rho, df);
      let d = 0;
      for (let p = 0; p < r.length; p++) d += (image[p] - r[p]) ** 2;
      d = Math.sqrt(d);
      if (best === null || d < best.realism) best = Object.assign(f, df == null ? {} : { df: df }, { realism: d });
    }
    return best;
  }
  // continuous: any factor value in the data's range renders (a table renders its rows only)
  return { render: (f) => heatmap(f.var_x, f.var_y, f.rho, f.df), fit: heatmapFit, continuous: true };
};
