// The explorer's scatter: a rotatable 3-D scatter of the codes (drag to rotate, click a code to decode
// it: the slice (ui_slice.js) moves to it, hover to link a run beside it). A classic script that
// registers itself in window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function scatter(api, DATA, ui) {
  const { $, D, view } = ui;

  function axisSelect(id, value) {
    const s = $(id);
    for (let k = 0; k < D; k++) s.add(new Option("z" + k, k, k === value, k === value));
    return s;
  }
  const axes = [axisSelect("ax0", 0), axisSelect("ax1", Math.min(1, D - 1)), axisSelect("ax2", Math.min(2, D - 1))];
  if (D <= 3) $("view-axes").style.display = "none";
  // more than 3 dimensions: the view in the principal axes of the last frame's codes (undone before a decode)
  $("pca").addEventListener("change", (e) => ui.setProjected(e.target.checked));
  if (D === 2) $("scatter-panel").style.display = "none";
  const { ringAt } = ui;
  // another view (a run side by side) can highlight an image (both panels ring it) and be told which one is hovered
  let highlighted = -1;
  ui.provide("highlight", (image) => { ui.emit("highlight", ui.probe("highlighted", image)); ui.draw(); });

  // ------------------------------------------------------------------ 3-D scatter
  const sc = $("scatter"), sctx = sc.getContext("2d");
  let yaw = 0.7, pitch = 0.45, projected = new Float32Array(2 * view.n);
  function project(z, out, o) {
    const ax = axes.map((s) => +s.value);
    const p = ax.map((k) => (z[k] - view.mean[k]) / ((view.hi[k] - view.lo[k]) || 1));
    const x1 = p[0] * Math.cos(yaw) - p[1] * Math.sin(yaw), y1 = p[0] * Math.sin(yaw) + p[1] * Math.cos(yaw);
    const y2 = y1 * Math.sin(pitch) + p[2] * Math.cos(pitch);
    out[o] = sc.width / 2 + 0.8 * sc.width * x1 / 1.2;
    out[o + 1] = sc.height / 2 - 0.8 * sc.height * y2 / 1.2;
  }
  function drawScatter() {
    if (D === 2 || !view.colours) return;
    const N = view.n, C = view.codes;
    if (projected.length !== 2 * N) projected = new Float32Array(2 * N);
    sctx.fillStyle = "#fff"; sctx.fillRect(0, 0, sc.width, sc.height);
    const z = new Float64Array(D);
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < D; k++) z[k] = C[i * D + k];
      project(z, projected, 2 * i);
      sctx.fillStyle = view.colours[i];
      sctx.fillRect(projected[2 * i] - 1, projected[2 * i + 1] - 1, 2, 2);
    }
    if (api.selection.z) {
      const p = [0, 0]; project(api.selection.z, p, 0);
      ringAt(sctx, p, "#d62728", 6);
    }
    const row = highlighted >= 0 ? api.rowOf(highlighted) : -1;
    if (row >= 0) ringAt(sctx, [projected[2 * row], projected[2 * row + 1]], "#ff7f0e");
    ui.emit("marks", sctx, (v) => { const p = [0, 0]; project(v, p, 0); return p; }); // other panels' marks
  }
  function pickAt(x, y) { // the image whose drawn code is within 8 px of a pixel of the scatter, or -1
    let best = -1, bd = 64;
    for (let i = 0; i < view.n; i++) {
      const d = (projected[2 * i] - x) ** 2 + (projected[2 * i + 1] - y) ** 2;
      if (d < bd) { bd = d; best = i; }
    }
    return best;
  }
  const codeOf = (row) => Float64Array.from(view.codes.subarray(row * D, row * D + D));
  function pickRow(row) { // decode a code; the slice moves to it: its other dimensions' sliders take its values
    const z = codeOf(row);
    view.fixed.set(z);
    ui.emit("fixed"); // the slice's other dimensions take its values
    ui.select(z);
  }
  ui.provide("scatterXY", (row) => [projected[2 * row], projected[2 * row + 1]]); // where a code is drawn
  ui.provide("pick", (image) => {
    const row = api.rowOf(image);
    if (row >= 0) pickRow(row);
    return row >= 0;
  });
  let drag = null;
  sc.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, y: e.offsetY, moved: false }; });
  sc.addEventListener("mousemove", (e) => {
    if (!drag) {
      const row = pickAt(e.offsetX, e.offsetY);
      if (row >= 0 && api.onHover) api.onHover(api.imageOf(row));
      return;
    }
    const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
    yaw += dx * 0.01; pitch = Math.max(-1.5, Math.min(1.5, pitch + dy * 0.01));
    drag.x = e.offsetX; drag.y = e.offsetY;
    drawScatter();
  });
  sc.addEventListener("mouseup", (e) => {
    const click = drag && !drag.moved;
    drag = null;
    if (!click) return;
    const best = ui.probe("lastPicked", pickAt(e.offsetX, e.offsetY));
    if (best >= 0) pickRow(best);
    if (best >= 0 && api.onPick) api.onPick(api.imageOf(best));
  });
  axes.forEach((s) => s.addEventListener("change", drawScatter));

  ui.on("draw", drawScatter);
  ui.on("highlight", (image) => { highlighted = image; });
});
