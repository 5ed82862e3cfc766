// The table domain in the page: a dataset small enough to carry its own images (explorer/page.py
// domain_data) renders a set of factors as the image of the nearest factor row and reads an image as
// the factors of the nearest dataset image. A classic script that registers the domain "table" in
// window.heatmapLatentDomains; lib: the page's decoded factors and its base64 reader.
"use strict";
(window.heatmapLatentDomains = window.heatmapLatentDomains || {}).table = function table(DATA, lib) {
  const S = DATA.image_size;
  const NAMES = DATA.factor_declaration.map((f) => f.name);
  // the dataset's images, sent as bytes (1/255 steps): a quarter of float32's size
  const TABLE = DATA.table ? Float32Array.from(lib.bytes(DATA.table.images_u8), (v) => v / 255) : null;
  const P = S * S * (DATA.channels || 1);
  function tableRender(f) { // the image of the factor row nearest to f (in units of each factor's range)
    let bi = 0, bd = Infinity;
    for (let i = 0; i < DATA.n; i++) {
      let d = 0;
      for (const k of NAMES) {
        const r = DATA.factors_range[k], t = (lib.factors[k][i] - f[k]) / (r[1] - r[0] || 1);
        d += t * t;
      }
      if (d < bd) { bd = d; bi = i; }
    }
    return TABLE.subarray(bi * P, bi * P + P);
  }
  function tableFit(image) { // the factors of the dataset image nearest to image; realism: its distance
    let bi = 0, bd = Infinity;
    for (let i = 0; i < DATA.table.n; i++) {
      let d = 0;
      for (let p = 0; p < P; p++) { const t = image[p] - TABLE[i * P + p]; d += t * t; }
      if (d < bd) { bd = d; bi = i; }
    }
    const out = {};
    for (const k of NAMES) out[k] = lib.factors[k][bi];
    out.realism = Math.sqrt(bd);
    return out;
  }
  return { render: tableRender, fit: tableFit };
};
