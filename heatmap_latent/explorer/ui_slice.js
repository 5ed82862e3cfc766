// The explorer's 2-D slice through the latent space: click anywhere to decode it, in path mode two
// clicks decode the straight path between them; one slider per axis off its plane; realism shading
// decodes a grid of it. A classic script that registers itself in window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function slice(api, DATA, ui) {
  const { $, D, view, ramp, REALISM, ringAt } = ui;
  function axisSelect(id, value) {
    const s = $(id);
    for (let k = 0; k < D; k++) s.add(new Option("z" + k, k, k === value, k === value));
    return s;
  }
  const plane = [axisSelect("plane-a", 0), axisSelect("plane-b", Math.min(1, D - 1))];
  let highlighted = -1;
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

  ui.on("draw", drawSlice);
  ui.on("extent", buildSliders);
  ui.on("fixed", () => { shade = null; buildSliders(); });
  ui.on("highlight", (image) => { highlighted = image; });
  ui.on("frame", () => { shade = null; });
  ui.on("path-shown", (points) => { shownPath = points; drawSlice(); });
});
