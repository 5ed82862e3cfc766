// The explorer's controllability map: the round trip (render, encode, decode, fit) over a grid of two
// factors, the other factors held at the factor panel's values, coloured by |fitted - set| of one
// factor. Needs a renderer, an inverse and the encoder; a classic script that registers itself in
// window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function controllability(api, DATA, ui) {
  const { $, last, ramp, REALISM } = ui;
  if (!(api.hasEncoder && api.render && ui.factorValues)) return; // the factor panel says why
  const F = DATA.factors_range;
  // the controllability map: the round trip over a grid of two factors
  const names = api.declaration.filter((f) => f.kind !== "categorical").map((f) => f.name);
  // the first ordered factor across, the lead factor (else the last) up and coloured
  const up = names.includes(api.lead) ? api.lead : names[names.length - 1];
  const picks = [names[0], up, up];
  for (const [id, pick] of [["map-x", picks[0]], ["map-y", picks[1]], ["map-factor", picks[2]]]) {
    for (const n of names) $(id).add(new Option(n, n, n === pick, n === pick));
  }
  function controlMap(xName, yName, factor, n) {
    const xs = Array.from({ length: n }, (_, i) => F[xName][0] + ((F[xName][1] - F[xName][0]) * i) / (n - 1));
    const ys = Array.from({ length: n }, (_, i) => F[yName][0] + ((F[yName][1] - F[yName][0]) * i) / (n - 1));
    const out = new Float64Array(n * n), t0 = performance.now();
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      const set = Object.assign({}, ui.factorValues, { [xName]: xs[c], [yName]: ys[r] });
      const image = Float32Array.from(api.render(set));
      const fit = api.fitFactors(api.decodeAt(last, api.encode(image)));
      out[r * n + c] = Math.abs(fit[factor] - set[factor]);
    }
    return { x: xName, y: yName, factor: factor, n: n, xs: xs, ys: ys, values: out, fixed: Object.assign({}, ui.factorValues), ms: performance.now() - t0 };
  }
  ui.provide("controlMap", controlMap);
  $("map-draw").addEventListener("click", () => {
    const xName = $("map-x").value, yName = $("map-y").value, factor = $("map-factor").value;
    if (xName === yName) { $("map-info").textContent = "pick two different factors"; return; }
    const m = controlMap(xName, yName, factor, Math.max(2, Math.min(40, +$("map-n").value)));
    ui.probe("controlMap", m);
    const canvas = $("control-map"), ctx = canvas.getContext("2d"), cw = canvas.width / m.n, ch = canvas.height / m.n;
    const scale = 0.25 * (F[factor][1] - F[factor][0]); // red at a quarter of the factor's range
    for (let r = 0; r < m.n; r++) for (let c = 0; c < m.n; c++) {
      ctx.fillStyle = "rgb(" + ramp(m.values[r * m.n + c] / scale, REALISM).join(",") + ")";
      ctx.fillRect(c * cw, canvas.height - (r + 1) * ch, cw + 1, ch + 1); // y grows upwards
    }
    const mean = m.values.reduce((a, b) => a + b, 0) / m.values.length;
    $("map-info").textContent = m.n + "x" + m.n + " round trips in " + Math.round(m.ms) + " ms; mean |fitted - set| of " +
      factor + " " + mean.toFixed(3) + "; red at >= " + scale.toFixed(2) + "; x: " + xName + ", y: " + yName;
  });
});
