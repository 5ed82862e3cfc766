// The explorer's traversals: one row per latent dimension, the selected code moved along it over
// +-3 std of the shown frame's codes and decoded by the shown epoch's decoder. A classic script that
// registers itself in window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function traversals(api, DATA, ui) {
  const { $, S, D, paint } = ui;
  const STEPS = 9, SPAN = 3;
  ui.on("select", (s) => {
    const raw = s.raw, C = api.codes, n = api.n, std = new Float64Array(D), mu = new Float64Array(D);
    for (let i = 0; i < n; i++) for (let k = 0; k < D; k++) mu[k] += C[i * D + k] / n;
    for (let i = 0; i < n; i++) for (let k = 0; k < D; k++) std[k] += (C[i * D + k] - mu[k]) ** 2 / n;
    const box = $("traversals"), rows = [];
    box.innerHTML = "";
    for (let d = 0; d < D; d++) {
      const row = document.createElement("div"), values = [];
      row.className = "traversal-row";
      row.append("z" + d + " ");
      for (let t = 0; t < STEPS; t++) {
        const z = Float64Array.from(raw);
        z[d] = raw[d] + Math.sqrt(std[d]) * (-SPAN + (2 * SPAN * t) / (STEPS - 1));
        const c = document.createElement("canvas");
        c.width = c.height = S; c.className = "tile"; c.title = "z" + d + " = " + z[d].toFixed(3);
        paint(c, api.decode(z));
        row.append(c);
        values.push(z[d]);
      }
      box.append(row);
      rows.push(values);
    }
    ui.probe("traversal", { raw: Array.from(raw), values: rows });
  });
});
