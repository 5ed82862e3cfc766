// The explorer's page: a rotatable scatter of the codes, a 2-D slice to click anywhere, the decoded
// heatmap beside its nearest real image, realism shading and decoded paths, and with snapshots an
// epoch slider over them. Uses window.heatmapLatent. Everything drawn is in view coordinates (the
// aligned frame, or raw); every decode goes through api.toRaw first.
"use strict";
window.heatmapLatentUI = function (api, DATA) {
  const D = api.latentDim, S = api.imageSize;
  let N = api.n, CODES = api.viewCodes();
  const $ = (id) => document.getElementById(id);
  for (const id of ["decoded", "nearest"]) { $(id).width = S; $(id).height = S; }
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const ramp = (t, stops) => {
    t = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
    return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
  };
  const REALISM = [[26, 152, 80], [166, 217, 106], [254, 224, 139], [244, 109, 67], [165, 0, 38]];

  // per-axis extent of the codes over every frame, with a margin; the centre of the view
  const lo = new Float64Array(D), hi = new Float64Array(D), mean = new Float64Array(D);
  function setExtent() {
    const e = api.extent();
    for (let k = 0; k < D; k++) {
      const m = 0.08 * (e.hi[k] - e.lo[k] || 1);
      lo[k] = e.lo[k] - m; hi[k] = e.hi[k] + m; mean[k] = (lo[k] + hi[k]) / 2;
    }
  }
  setExtent();

  // ------------------------------------------------------------------ colouring factor
  // the dataset's factors, then its declared colourings (data/factors.py)
  const colourNames = Object.keys(api.factors).concat(Object.keys(api.colourings));
  const colourValues = (name) => (name in api.factors ? api.factors[name] : api.colourings[name]);
  const firstColour = colourNames.includes("rho") ? "rho" : colourNames[0];
  const sel = $("colour");
  for (const n of colourNames) sel.add(new Option(n, n, n === firstColour, n === firstColour));
  let colours = null;
  function recolour() {
    const v = colourValues(sel.value);
    let mn = Infinity, mx = -Infinity;
    for (const x of v) { mn = Math.min(mn, x); mx = Math.max(mx, x); }
    colours = Array.from(v, (x) => "rgb(" + ramp((x - mn) / (mx - mn || 1), VIRIDIS).join(",") + ")");
    $("colour-range").textContent = sel.value + ": " + mn.toFixed(2) + " (purple) to " + mx.toFixed(2) + " (yellow)";
    drawScatter(); drawSlice();
  }

  // ------------------------------------------------------------------ axis pickers and sliders
  function axisSelect(id, value) {
    const s = $(id);
    for (let k = 0; k < D; k++) s.add(new Option("z" + k, k, k === value, k === value));
    return s;
  }
  const view = [axisSelect("ax0", 0), axisSelect("ax1", Math.min(1, D - 1)), axisSelect("ax2", Math.min(2, D - 1))];
  const plane = [axisSelect("plane-a", 0), axisSelect("plane-b", Math.min(1, D - 1))];
  const fixed = new Float64Array(D); // the coordinates of the slice off its plane: the codes' mean
  for (let i = 0; i < N; i++) for (let k = 0; k < D; k++) fixed[k] += CODES[i * D + k] / N;
  function buildSliders() {
    const box = $("others");
    box.innerHTML = "";
    const a = +plane[0].value, b = +plane[1].value;
    for (let k = 0; k < D; k++) {
      if (k === a || k === b) continue;
      const label = document.createElement("label");
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: lo[k], max: hi[k], step: (hi[k] - lo[k]) / 200, value: fixed[k], id: "slider-z" + k });
      const out = document.createElement("output");
      out.textContent = fixed[k].toFixed(2);
      input.addEventListener("input", () => { fixed[k] = +input.value; out.textContent = fixed[k].toFixed(2); shade = null; drawSlice(); });
      label.append("z" + k + " ", input, out);
      box.append(label);
    }
  }
  if (D <= 3) $("view-axes").style.display = "none";
  if (D === 2) $("scatter-panel").style.display = "none";

  // ------------------------------------------------------------------ 3-D scatter (drag to rotate)
  const sc = $("scatter"), sctx = sc.getContext("2d");
  let yaw = 0.7, pitch = 0.45, projected = new Float32Array(2 * N);
  function project(z, out, o) {
    const ax = view.map((s) => +s.value);
    const p = ax.map((k) => (z[k] - mean[k]) / ((hi[k] - lo[k]) || 1));
    const x1 = p[0] * Math.cos(yaw) - p[1] * Math.sin(yaw), y1 = p[0] * Math.sin(yaw) + p[1] * Math.cos(yaw);
    const y2 = y1 * Math.sin(pitch) + p[2] * Math.cos(pitch);
    out[o] = sc.width / 2 + 0.8 * sc.width * x1 / 1.2;
    out[o + 1] = sc.height / 2 - 0.8 * sc.height * y2 / 1.2;
  }
  function drawScatter() {
    if (D === 2 || !colours) return;
    sctx.fillStyle = "#fff"; sctx.fillRect(0, 0, sc.width, sc.height);
    const z = new Float64Array(D);
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < D; k++) z[k] = CODES[i * D + k];
      project(z, projected, 2 * i);
      sctx.fillStyle = colours[i];
      sctx.fillRect(projected[2 * i] - 1, projected[2 * i + 1] - 1, 2, 2);
    }
    if (api.state.lastZ) {
      const p = [0, 0]; project(api.state.lastZ, p, 0);
      sctx.strokeStyle = "#d62728"; sctx.lineWidth = 2; sctx.beginPath(); sctx.arc(p[0], p[1], 6, 0, 7); sctx.stroke();
    }
    const row = highlighted >= 0 ? api.rowOf(highlighted) : -1;
    if (row >= 0) ringAt(sctx, [projected[2 * row], projected[2 * row + 1]], "#ff7f0e");
    if (api.drawFactorMarks) api.drawFactorMarks(sctx, (v) => { const p = [0, 0]; project(v, p, 0); return p; });
  }
  // the image whose drawn code is within 8 px of a pixel of the scatter, or -1
  function pickAt(x, y) {
    let best = -1, bd = 64;
    for (let i = 0; i < N; i++) {
      const d = (projected[2 * i] - x) ** 2 + (projected[2 * i + 1] - y) ** 2;
      if (d < bd) { bd = d; best = i; }
    }
    return best;
  }
  // another view (a run side by side) can highlight an image and be told which one is hovered
  let highlighted = -1;
  api.highlight = (image) => { highlighted = image; api.state.highlighted = image; drawScatter(); drawSlice(); };
  api.scatterXY = (row) => [projected[2 * row], projected[2 * row + 1]]; // where a code is drawn
  api.pick = (image) => {
    const row = api.rowOf(image);
    if (row >= 0) select(Float64Array.from(CODES.subarray(row * D, row * D + D)));
    return row >= 0;
  };
  function ringAt(ctx, xy, colour) {
    ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(xy[0], xy[1], 7, 0, 7); ctx.stroke();
  }
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
    const best = pickAt(e.offsetX, e.offsetY);
    if (best >= 0) select(Float64Array.from(CODES.subarray(best * D, best * D + D)));
    api.state.lastPicked = best;
    if (best >= 0 && api.onPick) api.onPick(api.imageOf(best));
  });

  // ------------------------------------------------------------------ the 2-D slice
  const slc = $("slice"), lctx = slc.getContext("2d");
  let shade = null, pathStart = null, shownPath = null;
  const toLatent = (px, py) => {
    const a = +plane[0].value, b = +plane[1].value, z = Float64Array.from(fixed);
    z[a] = lo[a] + (px / slc.width) * (hi[a] - lo[a]);
    z[b] = hi[b] - (py / slc.height) * (hi[b] - lo[b]);
    return z;
  };
  const toPixel = (z) => {
    const a = +plane[0].value, b = +plane[1].value;
    return [((z[a] - lo[a]) / (hi[a] - lo[a])) * slc.width, ((hi[b] - z[b]) / (hi[b] - lo[b])) * slc.height];
  };
  function drawSlice() {
    if (!colours) return;
    const a = +plane[0].value, b = +plane[1].value;
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
      for (let k = 0; k < D; k++) if (k !== a && k !== b && Math.abs(CODES[i * D + k] - fixed[k]) > 0.05 * (hi[k] - lo[k])) near = false;
      if (near !== (pass === 1)) continue;
      const z = CODES.subarray(i * D, i * D + D), [x, y] = toPixel(z);
      lctx.fillStyle = near ? colours[i] : "rgba(120,120,120,0.12)";
      lctx.fillRect(x - 1, y - 1, near ? 3 : 2, near ? 3 : 2);
    }
    if (shownPath) {
      lctx.strokeStyle = "#111"; lctx.lineWidth = 2; lctx.beginPath();
      shownPath.forEach((z, i) => { const [x, y] = toPixel(z); i ? lctx.lineTo(x, y) : lctx.moveTo(x, y); });
      lctx.stroke();
    }
    const hl = highlighted >= 0 ? api.rowOf(highlighted) : -1;
    if (hl >= 0) ringAt(lctx, toPixel(CODES.subarray(hl * D, hl * D + D)), "#ff7f0e");
    if (api.drawFactorMarks) api.drawFactorMarks(lctx, (v) => toPixel(v));
    for (const [z, colour] of [[pathStart, "#1f77b4"], [api.state.lastZ, "#d62728"]]) {
      if (!z) continue;
      const [x, y] = toPixel(z);
      lctx.strokeStyle = colour; lctx.lineWidth = 2; lctx.beginPath(); lctx.arc(x, y, 6, 0, 7); lctx.stroke();
    }
  }
  slc.addEventListener("click", (e) => {
    const z = toLatent(e.offsetX * slc.width / slc.clientWidth, e.offsetY * slc.height / slc.clientHeight);
    if ($("path-mode").checked) {
      if (!pathStart) { pathStart = z; select(z); return; }
      const a = pathStart, n = Math.max(2, +$("path-n").value);
      pathStart = null;
      showPath(Array.from({ length: n }, (_, i) => a.map((v, k) => v + (i / (n - 1)) * (z[k] - v))), "straight path");
      return;
    }
    select(z);
  });
  slc.addEventListener("mousemove", (e) => {
    const z = toLatent(e.offsetX * slc.width / slc.clientWidth, e.offsetY * slc.height / slc.clientHeight);
    $("cursor").textContent = "(" + Array.from(z, (v) => v.toFixed(2)).join(", ") + ")";
  });
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
    api.state.shadeMs = performance.now() - t0;
    $("shade-info").textContent = n + "x" + n + " decodes in " + Math.round(api.state.shadeMs) + " ms; green: realism 0, red: >= " + DATA.realism_scale.toFixed(2);
    drawSlice();
  });

  // ------------------------------------------------------------------ decoded image, nearest, paths
  function paint(canvas, image) { // grey (S*S values) or colour (3 planes of S*S, as the models' CHW)
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(S, S), N = S * S;
    const colour = image.length >= 3 * N, byte = (v) => Math.round(255 * Math.min(1, Math.max(0, v)));
    for (let p = 0; p < N; p++) {
      const r = byte(image[p]), g = colour ? byte(image[N + p]) : r, b = colour ? byte(image[2 * N + p]) : r;
      img.data.set([r, g, b, 255], 4 * p);
    }
    ctx.putImageData(img, 0, 0);
  }
  const fmt = (o) => Object.entries(o).map(([k, v]) => k + " " + (+v).toFixed(3)).join(" · ");
  // per-dimension traversals of a raw code over +-3 std of the shown frame's codes
  const TRAVERSAL_STEPS = 9, TRAVERSAL_SPAN = 3;
  function traverse(raw) {
    const C = api.codes, n = api.n, std = new Float64Array(D), mu = new Float64Array(D);
    for (let i = 0; i < n; i++) for (let k = 0; k < D; k++) mu[k] += C[i * D + k] / n;
    for (let i = 0; i < n; i++) for (let k = 0; k < D; k++) std[k] += (C[i * D + k] - mu[k]) ** 2 / n;
    const box = $("traversals");
    box.innerHTML = "";
    const rows = [];
    for (let d = 0; d < D; d++) {
      const row = document.createElement("div"), values = [];
      row.className = "traversal-row";
      row.append("z" + d + " ");
      for (let t = 0; t < TRAVERSAL_STEPS; t++) {
        const z = Float64Array.from(raw);
        z[d] = raw[d] + Math.sqrt(std[d]) * (-TRAVERSAL_SPAN + (2 * TRAVERSAL_SPAN * t) / (TRAVERSAL_STEPS - 1));
        const c = document.createElement("canvas");
        c.width = c.height = S; c.className = "tile"; c.title = "z" + d + " = " + z[d].toFixed(3);
        paint(c, api.decode(z));
        row.append(c);
        values.push(z[d]);
      }
      box.append(row);
      rows.push(values);
    }
    api.state.traversal = { raw: Array.from(raw), values: rows };
  }
  function select(z) {
    // z is a point of the view; the decoder gets its raw coordinates in the current frame
    const raw = api.toRaw(z), decoded = api.decode(raw), near = api.nearest(raw);
    const fit = api.fitFactors ? api.fitFactors(decoded) : null;
    api.state.lastZ = Float64Array.from(z);
    api.state.lastRaw = raw;
    traverse(raw);
    api.state.lastDecoded = decoded;
    api.state.lastNearest = near;
    api.state.lastFit = fit;
    paint($("decoded"), decoded);
    const f = near.factors;
    if (api.render) paint($("nearest"), api.render(f));
    else $("nearest").getContext("2d").clearRect(0, 0, S, S);
    let read = "  (no inverse: " + api.noRender + ")";
    if (fit) {
      const { realism, ...factors } = fit;
      read = "  fitted: " + fmt(factors) + "  realism " + realism.toFixed(4);
    }
    $("decoded-info").textContent = "z = (" + Array.from(raw, (v) => v.toFixed(3)).join(", ") + ")" + read;
    $("nearest-info").textContent = "code #" + near.index + " (" + near.split + "), distance " + near.distance.toFixed(3) + ": " + fmt(f);
    drawScatter(); drawSlice();
  }
  function showPath(points, label) {
    const strip = $("strip");
    strip.innerHTML = "";
    const t0 = performance.now();
    api.state.lastPath = points.map((z) => {
      const img = api.decode(api.toRaw(z)), fit = api.fitFactors ? api.fitFactors(img) : { realism: NaN };
      const fig = document.createElement("figure"), c = document.createElement("canvas");
      c.width = c.height = S; c.className = "tile";
      paint(c, img);
      const cap = document.createElement("figcaption");
      cap.textContent = "realism " + fit.realism.toFixed(3);
      fig.append(c, cap); strip.append(fig);
      return { z: Array.from(z), realism: fit.realism };
    });
    api.state.pathMs = performance.now() - t0;
    $("strip-info").textContent = label + ": " + points.length + " decodes in " + Math.round(api.state.pathMs) + " ms";
    shownPath = points;
    drawSlice();
  }
  const studyPaths = DATA.paths || {};
  for (const name of Object.keys(studyPaths)) $("study-path").add(new Option(name, name));
  $("study-path").addEventListener("change", (e) => {
    const pts = studyPaths[e.target.value];
    if (!pts) return;
    const n = Math.max(2, +$("path-n").value);
    // study paths are raw points of the checkpoint (the last frame)
    const last = api.frames.length - 1;
    showPath(Array.from({ length: n }, (_, i) => api.toView(pts[Math.round((i * (pts.length - 1)) / (n - 1))], last)), e.target.value);
  });

  // ------------------------------------------------------------------ epochs: slider, play, alignment, KL
  const frames = api.frames, last = frames.length - 1;
  const klFrames = frames.filter((f) => f.kl);
  function drawKL() {
    const c = $("kl-chart"), ctx = c.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    if (!klFrames.length) { $("kl-info").textContent = "No KL per dimension: this model has no posterior."; return; }
    const e0 = klFrames[0].epoch, e1 = klFrames[klFrames.length - 1].epoch || e0 + 1;
    let top = 0;
    for (const f of klFrames) for (const v of f.kl) top = Math.max(top, v);
    top = top || 1;
    const px = (e) => 30 + ((e - e0) / (e1 - e0 || 1)) * (c.width - 40), py = (v) => c.height - 16 - (v / top) * (c.height - 26);
    ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(30, 10); ctx.lineTo(30, c.height - 16); ctx.lineTo(c.width - 10, c.height - 16); ctx.stroke();
    const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
    for (let k = 0; k < D; k++) {
      ctx.strokeStyle = COLOURS[k % COLOURS.length]; ctx.lineWidth = 2; ctx.beginPath();
      klFrames.forEach((f, i) => (i ? ctx.lineTo(px(f.epoch), py(f.kl[k])) : ctx.moveTo(px(f.epoch), py(f.kl[k]))));
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle; ctx.fillText("z" + k, c.width - 34, 14 + 12 * k);
    }
    ctx.fillStyle = "#333"; ctx.fillText(top.toFixed(2) + " nats", 2, 12); ctx.fillText("epoch " + e0, 30, c.height - 3); ctx.fillText(String(e1), c.width - 30, c.height - 3);
    const now = frames[api.frame];
    if (now.epoch != null) {
      ctx.strokeStyle = "#111"; ctx.lineWidth = 1; ctx.setLineDash([4, 3]); ctx.beginPath();
      ctx.moveTo(px(now.epoch), 8); ctx.lineTo(px(now.epoch), c.height - 16); ctx.stroke(); ctx.setLineDash([]);
      $("kl-info").textContent = "KL per latent dimension (nats, mean over the snapshot's images) at " + now.label + ": " +
        (now.kl ? now.kl.map((v, k) => "z" + k + " " + v.toFixed(3)).join(", ") : "n/a");
    } else {
      $("kl-info").textContent = "KL per latent dimension over the snapshots; the dashed line marks the shown epoch.";
    }
  }
  function showFrame(i) {
    const view = api.state.lastZ ? Float64Array.from(api.state.lastZ) : null;
    api.setFrame(i);
    N = api.n; CODES = api.viewCodes();
    $("epoch").value = api.frame;
    $("epoch-label").textContent = frames[api.frame].label + " (" + (api.frame + 1) + " of " + frames.length + ")";
    shade = null;
    recolour();
    if (view) select(view); // the same place in the view, decoded by this epoch's decoder
    if (shownPath) showPath(shownPath, $("strip-info").textContent.split(":")[0]);
    drawKL();
  }
  if (last > 0) {
    $("epoch-panel").hidden = false;
    $("epoch").max = last;
    let timer = null;
    $("epoch").addEventListener("input", (e) => showFrame(+e.target.value));
    $("play").addEventListener("click", () => {
      if (timer) { clearInterval(timer); timer = null; $("play").textContent = "play"; return; }
      if (api.frame === last) showFrame(0);
      $("play").textContent = "pause";
      timer = setInterval(() => {
        if (api.frame >= last) { clearInterval(timer); timer = null; $("play").textContent = "play"; return; }
        showFrame(api.frame + 1);
      }, 700);
    });
    $("align").addEventListener("change", (e) => {
      const raw = api.state.lastRaw, rawFixed = api.toRaw(fixed);
      api.setAligned(e.target.checked);
      fixed.set(api.toView(rawFixed));
      setExtent(); buildSliders();
      CODES = api.viewCodes();
      if (raw) api.state.lastZ = api.toView(raw);
      showFrame(api.frame);
    });
  }
  api.showFrame = showFrame;

  // ------------------------------------------------------------------ the registered panels (ui_factors.js)
  const ui = { $, S, D, last, paint, fmt, ramp, REALISM, drawScatter, drawSlice };
  for (const panel of window.heatmapLatentPanels || []) panel(api, DATA, ui);

  sel.addEventListener("change", recolour);
  view.forEach((s) => s.addEventListener("change", drawScatter));
  plane.forEach((s) => s.addEventListener("change", () => { shade = null; buildSliders(); drawSlice(); }));
  buildSliders();
  recolour();
  select(Float64Array.from(fixed));
  if (last > 0) showFrame(last);
};
