// The explorer's scatter and slice: a rotatable 3-D scatter of the codes (drag to rotate, click a code
// to decode it, hover to link a run beside it) and a 2-D slice through the latent space (click
// anywhere to decode it, in path mode two clicks decode the straight path between them; realism
// shading decodes a grid of it). A classic script that registers itself in window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function scatterAndSlice(api, DATA, ui) {
  const { $, D, view, ramp, REALISM } = ui;

  function axisSelect(id, value) {
    const s = $(id);
    for (let k = 0; k < D; k++) s.add(new Option("z" + k, k, k === value, k === value));
    return s;
  }
  const axes = [axisSelect("ax0", 0), axisSelect("ax1", Math.min(1, D - 1)), axisSelect("ax2", Math.min(2, D - 1))];
  const plane = [axisSelect("plane-a", 0), axisSelect("plane-b", Math.min(1, D - 1))];
  if (D <= 3) $("view-axes").style.display = "none";
  // more than 3 dimensions: the view in the principal axes of the last frame's codes (undone before a decode)
  $("pca").addEventListener("change", (e) => ui.setProjected(e.target.checked));
  if (D === 2) $("scatter-panel").style.display = "none";
  function ringAt(ctx, xy, colour, r) {
    ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(xy[0], xy[1], r || 7, 0, 7); ctx.stroke();
  }
  // another view (a run side by side) can highlight an image and be told which one is hovered
  let highlighted = -1;
  ui.provide("highlight", (image) => { highlighted = ui.probe("highlighted", image); ui.draw(); });

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
    shade = null;
    buildSliders();
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

  // ------------------------------------------------------------------ the 2-D slice and its sliders
  const slc = $("slice"), lctx = slc.getContext("2d");
  let shade = null, pathStart = null, shownPath = null;
  function buildSliders() { // one slider per axis off the slice's plane
    const box = $("others"), a = +plane[0].value, b = +plane[1].value;
    box.innerHTML = "";
    for (let k = 0; k < D; k++) {
      if (k === a || k === b) continue;
      const label = document.createElement("label"), input = document.createElement("input"), out = document.createElement("output");
      const { lo, hi, fixed } = view;
      Object.assign(input, { type: "range", min: lo[k], max: hi[k], step: (hi[k] - lo[k]) / 200, value: fixed[k], id: "slider-z" + k });
      out.textContent = fixed[k].toFixed(2);
      input.addEventListener("input", () => { fixed[k] = +input.value; out.textContent = fixed[k].toFixed(2); shade = null; drawSlice(); });
      label.append("z" + k + " ", input, out);
      box.append(label);
    }
  }
  const toLatent = (px, py) => {
    const a = +plane[0].value, b = +plane[1].value, z = Float64Array.from(view.fixed), { lo, hi } = view;
    z[a] = lo[a] + (px / slc.width) * (hi[a] - lo[a]);
    z[b] = hi[b] - (py / slc.height) * (hi[b] - lo[b]);
    return z;
  };
  const toPixel = (z) => {
    const a = +plane[0].value, b = +plane[1].value, { lo, hi } = view;
    return [((z[a] - lo[a]) / (hi[a] - lo[a])) * slc.width, ((hi[b] - z[b]) / (hi[b] - lo[b])) * slc.height];
  };
  function drawSlice() {
    if (!view.colours) return;
    const a = +plane[0].value, b = +plane[1].value, N = view.n, C = view.codes, { lo, hi, fixed } = view;
    lctx.fillStyle = "#fff"; lctx.fillRect(0, 0, slc.width, slc.height);
    if (shade) {
      const n = shade.n, cw = slc.width / n, ch = slc.height / n;
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
        lctx.fillStyle = "rgb(" + ramp(shade.values[r * n + c] / shade.scale, REALISM).join(",") + ")";
        lctx.fillRect(c * cw, r * ch, cw + 1, ch + 1);
      }
    }
    // codes near the slice (within 5% of each off-plane axis) in colour, the rest faint
    for (let pass = 0; pass < 2; pass++) for (let i = 0; i < N; i++) {
      let near = true;
      for (let k = 0; k < D; k++) if (k !== a && k !== b && Math.abs(C[i * D + k] - fixed[k]) > 0.05 * (hi[k] - lo[k])) near = false;
      if (near !== (pass === 1)) continue;
      const [x, y] = toPixel(C.subarray(i * D, i * D + D));
      lctx.fillStyle = near ? view.colours[i] : "rgba(120,120,120,0.12)";
      lctx.fillRect(x - 1, y - 1, near ? 3 : 2, near ? 3 : 2);
    }
    if (shownPath) {
      lctx.strokeStyle = "#111"; lctx.lineWidth = 2; lctx.beginPath();
      shownPath.forEach((z, i) => { const [x, y] = toPixel(z); i ? lctx.lineTo(x, y) : lctx.moveTo(x, y); });
      lctx.stroke();
    }
    const hl = highlighted >= 0 ? api.rowOf(highlighted) : -1;
    if (hl >= 0) ringAt(lctx, toPixel(C.subarray(hl * D, hl * D + D)), "#ff7f0e");
    ui.emit("marks", lctx, (v) => toPixel(v));
    for (const [z, colour] of [[pathStart, "#1f77b4"], [api.selection.z, "#d62728"]]) if (z) ringAt(lctx, toPixel(z), colour, 6);
  }
  const eventLatent = (e) => toLatent(e.offsetX * slc.width / slc.clientWidth, e.offsetY * slc.height / slc.clientHeight);
  slc.addEventListener("click", (e) => {
    const z = eventLatent(e);
    if (!$("path-mode").checked) { ui.select(z); return; }
    if (!pathStart) { pathStart = z; ui.select(z); return; }
    const a = pathStart, n = Math.max(2, +$("path-n").value);
    pathStart = null;
    ui.emit("path", Array.from({ length: n }, (_, i) => a.map((v, k) => v + (i / (n - 1)) * (z[k] - v))), "straight path");
  });
  slc.addEventListener("mousemove", (e) => {
    $("cursor").textContent = "(" + Array.from(eventLatent(e), (v) => v.toFixed(2)).join(", ") + ")";
  });
  plane.forEach((s) => s.addEventListener("change", () => { shade = null; buildSliders(); drawSlice(); }));

  // ------------------------------------------------------------------ realism shading of the slice
  if (!api.fitFactors) {
    $("shade").disabled = true;
    $("shade-info").textContent = "realism shading off: " + api.noRender;
  }
  $("shade").addEventListener("click", () => {
    if (!api.fitFactors) return;
    const n = Math.max(4, Math.min(60, +$("grid-n").value)), values = new Float64Array(n * n);
    const t0 = performance.now();
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      const z = toLatent(((c + 0.5) / n) * slc.width, ((r + 0.5) / n) * slc.height);
      values[r * n + c] = api.fitFactors(api.decode(api.toRaw(z))).realism;
    }
    shade = { n: n, values: values, scale: DATA.realism_scale };
    const ms = ui.probe("shadeMs", performance.now() - t0);
    $("shade-info").textContent = n + "x" + n + " decodes in " + Math.round(ms) + " ms; green: realism 0, red: >= " + DATA.realism_scale.toFixed(2);
    drawSlice();
  });

  ui.on("draw", () => { drawScatter(); drawSlice(); });
  ui.on("extent", buildSliders);
  ui.on("frame", () => { shade = null; });
  ui.on("path-shown", (points) => { shownPath = points; drawSlice(); });
});
