// The explorer's 2-D slice through the latent space: click anywhere to decode it, in path mode two
// clicks decode the straight path between them; one slider per axis off its plane; realism shading
// decodes a grid of it. A classic script that registers itself in window.heatmapLatentPanels.
"use strict";
(function () {
  function buildSliders(ui, st, onMove) { // one slider per axis off the slice's plane
    const { $, D, view } = ui, box = $("others"), a = +st.plane[0].value, b = +st.plane[1].value;
    box.innerHTML = "";
    for (let k = 0; k < D; k++) {
      if (k === a || k === b) continue;
      const label = document.createElement("label"), input = document.createElement("input"), out = document.createElement("output");
      const { lo, hi, fixed } = view;
      Object.assign(input, { type: "range", min: lo[k], max: hi[k], step: (hi[k] - lo[k]) / 200, value: fixed[k], id: "slider-z" + k });
      out.textContent = fixed[k].toFixed(2);
      input.addEventListener("input", () => { fixed[k] = +input.value; out.textContent = fixed[k].toFixed(2); onMove(); });
      label.append("z" + k + " ", input, out);
      box.append(label);
    }
  }

  function paintShade(ctx, canvas, shade, ui) { // the realism grid under the codes
    const n = shade.n, cw = canvas.width / n, ch = canvas.height / n;
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      ctx.fillStyle = "rgb(" + ui.ramp(shade.values[r * n + c] / shade.scale, ui.REALISM).join(",") + ")";
      ctx.fillRect(c * cw, r * ch, cw + 1, ch + 1);
    }
  }

  function paintCodes(ctx, ui, a, b, toPixel) { // codes near the slice (within 5% of each off-plane axis) in colour, the rest faint
    const { D, view } = ui, N = view.n, C = view.codes, { lo, hi, fixed } = view;
    for (let pass = 0; pass < 2; pass++) for (let i = 0; i < N; i++) {
      let near = true;
      for (let k = 0; k < D; k++) if (k !== a && k !== b && Math.abs(C[i * D + k] - fixed[k]) > 0.05 * (hi[k] - lo[k])) near = false;
      if (near !== (pass === 1)) continue;
      const [x, y] = toPixel(C.subarray(i * D, i * D + D));
      ctx.fillStyle = near ? view.colours[i] : "rgba(120,120,120,0.12)";
      ctx.fillRect(x - 1, y - 1, near ? 3 : 2, near ? 3 : 2);
    }
  }

  // realism shading of the slice: decode a grid of it and fit each decode
  function shading(api, DATA, ui, st, canvas, toLatent, drawSlice) {
    const { $ } = ui;
    if (!api.fitFactors) {
      $("shade").disabled = true;
      $("shade-info").textContent = "realism shading off: " + api.noRender;
    }
    $("shade").addEventListener("click", () => {
      if (!api.fitFactors) return;
      const n = Math.max(4, Math.min(60, +$("grid-n").value)), values = new Float64Array(n * n);
      const t0 = performance.now();
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
        const z = toLatent(((c + 0.5) / n) * canvas.width, ((r + 0.5) / n) * canvas.height);
        values[r * n + c] = api.fitFactors(api.decode(api.toRaw(z))).realism;
      }
      st.shade = { n: n, values: values, scale: DATA.realism_scale };
      const ms = ui.probe("shadeMs", performance.now() - t0);
      $("shade-info").textContent = n + "x" + n + " decodes in " + Math.round(ms) + " ms; green: realism 0, red: >= " + DATA.realism_scale.toFixed(2);
      drawSlice();
    });
  }

  function clicks(ui, st, canvas, eventLatent) { // click: decode; in path mode two clicks decode the straight path between them
    const { $ } = ui;
    canvas.addEventListener("click", (e) => {
      const z = eventLatent(e);
      if (!$("path-mode").checked) { ui.select(z); return; }
      if (!st.pathStart) { st.pathStart = z; ui.select(z); return; }
      const a = st.pathStart, n = Math.max(2, +$("path-n").value);
      st.pathStart = null;
      ui.emit("path", Array.from({ length: n }, (_, i) => a.map((v, k) => v + (i / (n - 1)) * (z[k] - v))), "straight path");
    });
    canvas.addEventListener("mousemove", (e) => {
      $("cursor").textContent = "(" + Array.from(eventLatent(e), (v) => v.toFixed(2)).join(", ") + ")";
    });
  }

  (window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function slice(api, DATA, ui) {
    const { $, D, view, ringAt } = ui;
    function axisSelect(id, value) {
      const s = $(id);
      for (let k = 0; k < D; k++) s.add(new Option("z" + k, k, k === value, k === value));
      return s;
    }
    const st = { plane: [axisSelect("plane-a", 0), axisSelect("plane-b", Math.min(1, D - 1))],
      highlighted: -1, shade: null, pathStart: null, shownPath: null };
    const slc = $("slice"), lctx = slc.getContext("2d");
    const axesAB = () => [+st.plane[0].value, +st.plane[1].value];
    const toLatent = (px, py) => {
      const [a, b] = axesAB(), z = Float64Array.from(view.fixed), { lo, hi } = view;
      z[a] = lo[a] + (px / slc.width) * (hi[a] - lo[a]);
      z[b] = hi[b] - (py / slc.height) * (hi[b] - lo[b]);
      return z;
    };
    const toPixel = (z) => {
      const [a, b] = axesAB(), { lo, hi } = view;
      return [((z[a] - lo[a]) / (hi[a] - lo[a])) * slc.width, ((hi[b] - z[b]) / (hi[b] - lo[b])) * slc.height];
    };
    function drawSlice() {
      if (!view.colours) return;
      const [a, b] = axesAB(), C = view.codes;
      lctx.fillStyle = "#fff"; lctx.fillRect(0, 0, slc.width, slc.height);
      if (st.shade) paintShade(lctx, slc, st.shade, ui);
      paintCodes(lctx, ui, a, b, toPixel);
      if (st.shownPath) {
        lctx.strokeStyle = "#111"; lctx.lineWidth = 2; lctx.beginPath();
        st.shownPath.forEach((z, i) => { const [x, y] = toPixel(z); i ? lctx.lineTo(x, y) : lctx.moveTo(x, y); });
        lctx.stroke();
      }
      const hl = st.highlighted >= 0 ? api.rowOf(st.highlighted) : -1;
      if (hl >= 0) ringAt(lctx, toPixel(C.subarray(hl * D, hl * D + D)), "#ff7f0e");
      ui.emit("marks", lctx, (v) => toPixel(v));
      for (const [z, colour] of [[st.pathStart, "#1f77b4"], [api.selection.z, "#d62728"]]) if (z) ringAt(lctx, toPixel(z), colour, 6);
    }
    const rebuild = () => buildSliders(ui, st, () => { st.shade = null; drawSlice(); });
    clicks(ui, st, slc, (e) => toLatent(e.offsetX * slc.width / slc.clientWidth, e.offsetY * slc.height / slc.clientHeight));
    st.plane.forEach((s) => s.addEventListener("change", () => { st.shade = null; rebuild(); drawSlice(); }));
    shading(api, DATA, ui, st, slc, toLatent, drawSlice);

    ui.on("draw", drawSlice);
    ui.on("extent", rebuild);
    ui.on("fixed", () => { st.shade = null; rebuild(); });
    ui.on("highlight", (image) => { st.highlighted = image; });
    ui.on("frame", () => { st.shade = null; });
    ui.on("path-shown", (points) => { st.shownPath = points; drawSlice(); });
  });
})();
