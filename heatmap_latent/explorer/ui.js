// The explorer page's core: what every panel shares (the view frame, the colouring, the selected
// point, the shown epoch) and the calls between panels, then every panel registered in
// window.heatmapLatentPanels, in the order of their scripts (explorer/page.py SCRIPTS):
//   ui_scatter.js (the rotatable scatter), ui_slice.js (the 2-D slice), ui_decode.js (the decoded image and its
//   nearest real one), ui_traversals.js, ui_paths.js, ui_epochs.js (the epoch slider and the KL chart),
//   ui_factors.js (the factor panel and the brush), ui_control.js (the controllability map).
// Everything drawn is in view coordinates (the aligned frame, or raw); every decode goes through
// api.toRaw first. Panels talk through ui.on / ui.emit; tests read api.probes, the one test hook
// (docs/explorer.md), which no panel reads back.
"use strict";
(function () { // the core's parts as small functions; heatmapLatentUI joins them for one page
  // what a host may ask of the page (api.actions, each provided by the panel that owns it through
  // ui.provide); a host hears the page through the callbacks it sets, api.onHover and api.onPick
  const HOST_ACTIONS = ["showFrame", "setAtlas", "setFactors", "perturbBump", "perturbNoise", "resetPerturb", "controlMap",
    "highlight", "pick", "scatterXY"];
  const $ = (id) => document.getElementById(id);
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const REALISM = [[26, 152, 80], [166, 217, 106], [254, 224, 139], [244, 109, 67], [165, 0, 38]];
  const ramp = (t, stops) => {
    t = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
    return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
  };
  const fmt = (o) => Object.entries(o).map(([k, v]) => k + " " + (+v).toFixed(3)).join(" · ");
  const ringAt = (ctx, xy, colour, r) => {
    ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(xy[0], xy[1], r || 7, 0, 7); ctx.stroke();
  };
  function painter(S) { // paint(canvas, image): grey (S*S values) or colour (3 planes of S*S, as the models' CHW)
    return function paint(canvas, image) {
      const ctx = canvas.getContext("2d"), img = ctx.createImageData(S, S), P = S * S;
      const colour = image.length >= 3 * P, byte = (v) => Math.round(255 * Math.min(1, Math.max(0, v)));
      for (let p = 0; p < P; p++) {
        const r = byte(image[p]), g = colour ? byte(image[P + p]) : r, b = colour ? byte(image[2 * P + p]) : r;
        img.data.set([r, g, b, 255], 4 * p);
      }
      ctx.putImageData(img, 0, 0);
    };
  }

  // ------------------------------------------------------------------ calls between panels
  // draw (redraw the scatter and slice), select (a new point: api.selection), frame (another epoch,
  // before drawing), framed (after its point is decoded again), extent (the frame's extent changed),
  // path (points, label: decode a path)
  function events() {
    const handlers = {};
    const on = (event, fn) => { (handlers[event] = handlers[event] || []).push(fn); };
    const emit = (event, ...args) => { for (const fn of handlers[event] || []) fn(...args); };
    return { on, emit };
  }

  // ------------------------------------------------------------------ the view: codes, extent, off-plane point
  function makeView(api) {
    const D = api.latentDim;
    const view = { n: api.n, codes: api.viewCodes(), colours: null };
    view.lo = new Float64Array(D); view.hi = new Float64Array(D); view.mean = new Float64Array(D);
    view.setExtent = function () { // per-axis extent of the codes over every frame, with a margin; its centre
      const e = api.extent();
      for (let k = 0; k < D; k++) {
        const m = 0.08 * (e.hi[k] - e.lo[k] || 1);
        view.lo[k] = e.lo[k] - m; view.hi[k] = e.hi[k] + m; view.mean[k] = (view.lo[k] + view.hi[k]) / 2;
      }
    };
    view.setExtent();
    view.fixed = new Float64Array(D); // the coordinates of the slice off its plane: the codes' mean
    for (let i = 0; i < view.n; i++) for (let k = 0; k < D; k++) view.fixed[k] += view.codes[i * D + k] / view.n;
    return view;
  }

  // ------------------------------------------------------------------ colouring: the declared factors, then the colourings
  function colouring(api, view, emit) { // fills the colour menu; returns recolour()
    const colourNames = Object.keys(api.factors).concat(Object.keys(api.colourings));
    const colourValues = (name) => (name in api.factors ? api.factors[name] : api.colourings[name]);
    const firstColour = colourNames.includes(api.lead) ? api.lead : colourNames[0]; // the factor the dataset leads with
    const sel = $("colour");
    for (const n of colourNames) sel.add(new Option(n, n, n === firstColour, n === firstColour));
    function recolour() {
      const v = colourValues(sel.value);
      let mn = Infinity, mx = -Infinity;
      for (const x of v) { mn = Math.min(mn, x); mx = Math.max(mx, x); }
      view.colours = Array.from(v, (x) => "rgb(" + ramp((x - mn) / (mx - mn || 1), VIRIDIS).join(",") + ")");
      $("colour-range").textContent = sel.value + ": " + mn.toFixed(2) + " (purple) to " + mx.toFixed(2) + " (yellow)";
      emit("draw");
    }
    sel.addEventListener("change", recolour);
    return recolour;
  }

  // ------------------------------------------------------------------ the selected point
  function selector(api, emit) { // select(z): z is a point of the view; the decoder gets its raw coordinates in the current frame
    return function select(z) {
      const raw = api.toRaw(z), decoded = api.decode(raw);
      const s = api.selection;
      s.z = Float64Array.from(z); s.raw = raw; s.decoded = decoded; s.nearest = api.nearest(raw);
      s.fit = api.fitFactors ? api.fitFactors(decoded) : null;
      Object.assign(api.probes, { lastZ: s.z, lastRaw: raw, lastDecoded: decoded, lastNearest: s.nearest, lastFit: s.fit });
      emit("select", s);
      emit("draw");
    };
  }

  // ------------------------------------------------------------------ the shown epoch and the frame
  function epochs(api, view, emit, recolour, select) {
    const last = api.frames.length - 1;
    // another epoch: at once if its weights are loaded, else once they are (explorer.js loadFrame); of
    // several calls while loading, only the latest draws
    let latestCall = 0;
    function showFrame(i) {
      i = Math.max(0, Math.min(last, i));
      const call = ++latestCall;
      if (api.isLoaded(i)) { drawFrame(i); return Promise.resolve(); }
      return api.loadFrame(i).then(
        () => { if (call === latestCall) drawFrame(i); },
        (err) => { $("epoch-label").textContent = String(err.message || err); throw err; });
    }
    function drawFrame(i) {
      const z = api.selection.z ? Float64Array.from(api.selection.z) : null;
      api.setFrame(i);
      view.n = api.n; view.codes = api.viewCodes();
      emit("frame", api.frame);
      recolour();
      if (z) select(z); // the same place in the view, decoded by this epoch's decoder
      emit("framed", api.frame);
    }
    // another frame for every epoch (aligned or raw; principal axes or not): the same points in it
    function reframe(change) {
      const raw = api.selection.raw, rawFixed = api.toRaw(view.fixed);
      change();
      view.fixed.set(api.toView(rawFixed));
      view.setExtent(); emit("extent");
      view.codes = api.viewCodes();
      if (raw) api.selection.z = api.toView(raw);
      showFrame(api.frame);
    }
    return { showFrame, reframe };
  }

  window.heatmapLatentUI = function (api, DATA) {
    const S = api.imageSize, last = api.frames.length - 1;
    const { on, emit } = events();
    const view = makeView(api), recolour = colouring(api, view, emit), select = selector(api, emit);
    const { showFrame, reframe } = epochs(api, view, emit, recolour, select);
    const setAligned = (on) => reframe(() => api.setAligned(on)); // aligned to the last snapshot, or each its own
    const setProjected = (on) => reframe(() => api.setProjected(on)); // the last frame's principal axes
    const probe = (name, value) => { api.probes[name] = value; return value; };
    // the host API (docs/explorer.md): what a host (the Latent tab, a test, the console) may ask of the
    // page, each action provided by the panel that owns it; a panel never hangs a method on api itself
    api.actions = {};
    const provide = (name, fn) => {
      if (!HOST_ACTIONS.includes(name)) throw new Error("not a host action of the page (ui.js HOST_ACTIONS): " + name);
      api.actions[name] = fn;
    };
    provide("showFrame", showFrame);
    // the atlas: this run's frames mapped onto another run's (its api; null: off), the Latent tab's
    provide("setAtlas", (ref) => { let fitted = null; reframe(() => { fitted = api.fitAtlas(ref); }); return fitted; });

    const ui = { $, S, D: api.latentDim, last, paint: painter(S), fmt, ramp, REALISM, ringAt, probe, on, emit, provide,
      view, select, showFrame, setAligned, setProjected, draw: () => emit("draw") };
    for (const panel of window.heatmapLatentPanels || []) panel(api, DATA, ui);

    emit("extent");
    recolour();
    select(Float64Array.from(view.fixed));
    // the last frame is the one shown (its weights are in the data): its epoch panels, drawn once
    if (last > 0) { emit("frame", last); emit("framed", last); }
    probe("firstDrawMs", performance.now()); // since this document's navigation (the tab's bench reads it)
  };
})();
