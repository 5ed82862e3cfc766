// The explorer's scatter: a rotatable 3-D scatter of the codes (drag to rotate, click a code to decode
// it: the slice (ui_slice.js) moves to it, hover to link a run beside it). A classic script that
// registers itself in window.heatmapLatentPanels.
"use strict";
(function () {
  function axisControls(ui) { // the three shown axes (more than 3 dimensions: a picker each, and principal axes)
    const { $, D } = ui;
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
    return axes;
  }

  // drag to rotate, click a code to pick it, hover to tell the host which image is under the pointer
  function mouse(api, ui, sc, st, pickAt, pickRow, drawScatter) {
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
      st.yaw += dx * 0.01; st.pitch = Math.max(-1.5, Math.min(1.5, st.pitch + dy * 0.01));
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
  }

  (window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function scatter(api, DATA, ui) {
    const { $, D, view, ringAt } = ui;
    const axes = axisControls(ui);
    // another view (a run side by side) can highlight an image (both panels ring it) and be told which one is hovered
    const st = { yaw: 0.7, pitch: 0.45, projected: new Float32Array(2 * view.n), highlighted: -1 };
    ui.provide("highlight", (image) => { ui.emit("highlight", ui.probe("highlighted", image)); ui.draw(); });

    const sc = $("scatter"), sctx = sc.getContext("2d");
    function project(z, out, o) {
      const ax = axes.map((s) => +s.value);
      const p = ax.map((k) => (z[k] - view.mean[k]) / ((view.hi[k] - view.lo[k]) || 1));
      const x1 = p[0] * Math.cos(st.yaw) - p[1] * Math.sin(st.yaw), y1 = p[0] * Math.sin(st.yaw) + p[1] * Math.cos(st.yaw);
      const y2 = y1 * Math.sin(st.pitch) + p[2] * Math.cos(st.pitch);
      out[o] = sc.width / 2 + 0.8 * sc.width * x1 / 1.2;
      out[o + 1] = sc.height / 2 - 0.8 * sc.height * y2 / 1.2;
    }
    function drawScatter() {
      if (D === 2 || !view.colours) return;
      const N = view.n, C = view.codes;
      if (st.projected.length !== 2 * N) st.projected = new Float32Array(2 * N);
      const P = st.projected, z = new Float64Array(D);
      sctx.fillStyle = "#fff"; sctx.fillRect(0, 0, sc.width, sc.height);
      for (let i = 0; i < N; i++) {
        for (let k = 0; k < D; k++) z[k] = C[i * D + k];
        project(z, P, 2 * i);
        sctx.fillStyle = view.colours[i];
        sctx.fillRect(P[2 * i] - 1, P[2 * i + 1] - 1, 2, 2);
      }
      if (api.selection.z) { const p = [0, 0]; project(api.selection.z, p, 0); ringAt(sctx, p, "#d62728", 6); }
      const row = st.highlighted >= 0 ? api.rowOf(st.highlighted) : -1;
      if (row >= 0) ringAt(sctx, [P[2 * row], P[2 * row + 1]], "#ff7f0e");
      ui.emit("marks", sctx, (v) => { const p = [0, 0]; project(v, p, 0); return p; }); // other panels' marks
    }
    function pickAt(x, y) { // the image whose drawn code is within 8 px of a pixel of the scatter, or -1
      let best = -1, bd = 64;
      for (let i = 0; i < view.n; i++) {
        const d = (st.projected[2 * i] - x) ** 2 + (st.projected[2 * i + 1] - y) ** 2;
        if (d < bd) { bd = d; best = i; }
      }
      return best;
    }
    function pickRow(row) { // decode a code; the slice moves to it: its other dimensions' sliders take its values
      const z = Float64Array.from(view.codes.subarray(row * D, row * D + D));
      view.fixed.set(z);
      ui.emit("fixed");
      ui.select(z);
    }
    ui.provide("scatterXY", (row) => [st.projected[2 * row], st.projected[2 * row + 1]]); // where a code is drawn
    ui.provide("pick", (image) => {
      const row = api.rowOf(image);
      if (row >= 0) pickRow(row);
      return row >= 0;
    });
    mouse(api, ui, sc, st, pickAt, pickRow, drawScatter);
    axes.forEach((s) => s.addEventListener("change", drawScatter));
    ui.on("draw", drawScatter);
    ui.on("highlight", (image) => { st.highlighted = image; });
  });
})();
