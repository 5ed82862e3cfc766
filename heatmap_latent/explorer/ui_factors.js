// The explorer's factor panel: from factors to a code and back (the encoder in the page), and the
// brushed or noised image. A classic script that registers itself in window.heatmapLatentPanels; ui.js
// calls each registered panel with the page's API, its data and the helpers the panels share. Every
// factor, slider and picker comes from DATA's factor declaration.
"use strict";
(function () {
  function drawMarks(api, ui, state) { // the swept trace and the set and perturbed codes' crosses, on the scatter and the slice
    return function (ctx, toXY) {
      const pts = state.trace.map((z) => toXY(api.toView(z, ui.last)));
      if (pts.length > 1) {
        ctx.strokeStyle = "#ff7f0e"; ctx.lineWidth = 2; ctx.beginPath();
        pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.stroke();
      }
      const crosses = [[state.factorZ, "#ff7f0e"], [state.perturb && state.perturb.code, "#9467bd"]];
      for (const [z, colour] of crosses) {
        if (!z) continue;
        const [x, y] = toXY(api.toView(z, ui.last));
        ctx.strokeStyle = colour; ctx.lineWidth = 3; ctx.beginPath();
        ctx.moveTo(x - 7, y - 7); ctx.lineTo(x + 7, y + 7); ctx.moveTo(x - 7, y + 7); ctx.lineTo(x + 7, y - 7); ctx.stroke();
      }
    };
  }

  function sliderFor(api, DATA, factor, values, onSet) { // a slider over a factor's range (a continuous domain) or its declared values
    const name = factor.name, input = document.createElement("input"), out = document.createElement("output");
    if (api.continuous) {
      const [mn, mx] = DATA.factors_range[name];
      values[name] = (mn + mx) / 2;
      Object.assign(input, { type: "range", min: mn, max: mx, step: (mx - mn) / 200, value: values[name] });
      input.addEventListener("input", () => { values[name] = +input.value; out.textContent = values[name].toFixed(3); onSet(name); });
    } else {
      const mid = Math.floor((factor.values.length - 1) / 2);
      values[name] = factor.values[mid];
      Object.assign(input, { type: "range", min: 0, max: factor.values.length - 1, step: 1, value: mid });
      input.addEventListener("input", () => { values[name] = factor.values[+input.value]; out.textContent = values[name].toFixed(3); onSet(name); });
    }
    input.id = "factor-" + name;
    out.textContent = values[name].toFixed(3);
    return [input, out];
  }

  // one control per declared factor: a picker for a categorical one, a slider for the others
  function factorControls(api, DATA, ui, values, onSet) {
    const box = ui.$("factor-sliders");
    for (const factor of api.declaration) {
      const name = factor.name, label = document.createElement("label");
      if (factor.kind === "categorical") {
        const pick = document.createElement("select");
        pick.id = "factor-" + name;
        for (const v of factor.values) pick.add(new Option(String(v), v));
        values[name] = factor.values[0];
        pick.addEventListener("change", () => { values[name] = +pick.value; onSet(name); });
        label.append(name + " ", pick);
      } else label.append(name + " ", ...sliderFor(api, DATA, factor, values, onSet));
      box.append(label);
    }
  }

  function factorSetter(api, ui, state, values) { // setFactors(moved): render the factors, encode, decode, fit
    const { $, paint, fmt } = ui;
    return function setFactors(moved) {
      const image = Float32Array.from(api.render(values));
      const z = api.encode(image), decoded = api.decodeAt(ui.last, z), fit = api.fitFactors(decoded);
      if (moved !== state.traceFactor) { state.trace.length = 0; state.traceFactor = moved; }
      state.trace.push(Float64Array.from(z));
      state.factorZ = ui.probe("factorZ", Float64Array.from(z));
      ui.probe("factorImage", image);
      ui.probe("factorFit", fit);
      paint($("factor-image"), image); paint($("factor-decoded"), decoded);
      const { realism, ...fitted } = fit, set = Object.assign({}, values);
      $("factor-info").textContent = "set: " + fmt(set) + "  ->  code (" + Array.from(z, (v) => v.toFixed(3)).join(", ") +
        ")  ->  fitted to the decode: " + fmt(fitted) + "  realism " + realism.toFixed(4);
      ui.draw();
    };
  }

  function seeded(seed) { // mulberry32, then Box-Muller: the same seed gives the same noise
    let a = seed >>> 0;
    const uniform = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  }

  // perturb an image: a Gaussian bump where the brush clicks, or seeded Gaussian noise
  function brush(api, ui, state, values) {
    const { $, S, D, paint } = ui;
    $("perturbed").width = $("perturbed").height = S;
    function startImage() {
      const selected = api.selection;
      if ($("perturb-source").value === "decoded" && selected.decoded) return Float32Array.from(selected.decoded);
      return Float32Array.from(api.render(selected.nearest ? selected.nearest.factors : values));
    }
    function showPerturbed() {
      const p = state.perturb, z = api.encode(p.image);
      p.code = Float64Array.from(z);
      paint($("perturbed"), p.image);
      let move = 0;
      for (let k = 0; k < D; k++) move += (z[k] - p.start[k]) ** 2;
      $("perturb-info").textContent = "code of the start image (" + Array.from(p.start, (v) => v.toFixed(3)).join(", ") +
        ") -> perturbed (" + Array.from(z, (v) => v.toFixed(3)).join(", ") + "): moved " + Math.sqrt(move).toFixed(3);
      ui.draw();
    }
    function resetPerturb() {
      const image = startImage();
      state.perturb = ui.probe("perturb", { image: image, start: Float64Array.from(api.encode(image)), code: null });
      showPerturbed();
    }
    function perturbBump(x, y, amplitude, sigma) {
      if (!state.perturb) resetPerturb();
      const img = state.perturb.image;
      for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) img[i * S + j] += amplitude * Math.exp(-((i - y) ** 2 + (j - x) ** 2) / (2 * sigma * sigma));
      showPerturbed();
    }
    function perturbNoise(seed, std) {
      if (!state.perturb) resetPerturb();
      const gauss = seeded(seed), img = state.perturb.image;
      for (let p = 0; p < img.length; p++) img[p] += std * gauss();
      showPerturbed();
    }
    $("perturbed").addEventListener("click", (e) => {
      const r = $("perturbed").getBoundingClientRect();
      perturbBump(((e.clientX - r.left) / r.width) * S - 0.5, ((e.clientY - r.top) / r.height) * S - 0.5, +$("bump-amp").value, +$("bump-sigma").value);
    });
    $("perturb-noise").addEventListener("click", () => { perturbNoise(+$("noise-seed").value, +$("noise-std").value); $("noise-seed").value = +$("noise-seed").value + 1; });
    $("perturb-reset").addEventListener("click", resetPerturb);
    $("perturb-source").addEventListener("change", resetPerturb);
    ui.provide("perturbBump", perturbBump);
    ui.provide("perturbNoise", perturbNoise);
    ui.provide("resetPerturb", resetPerturb);
  }

  (window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function factorPanels(api, DATA, ui) {
    const { $, S } = ui;
    const state = { trace: ui.probe("trace", []), traceFactor: null, factorZ: null, perturb: null }; // trace: the codes the last moved slider swept
    ui.on("marks", drawMarks(api, ui, state)); // the scatter and the slice emit it with their canvas and projection
    if (!api.hasEncoder) { // the Latent tab on snapshots written without their encoder
      const panel = $("factor-panel");
      panel.hidden = false;
      for (const el of panel.children) el.hidden = el !== panel.firstElementChild && el.id !== "factor-info";
      $("factor-info").textContent = "factor panel off: " + api.noEncoder;
      return;
    }
    $("encoder-label").textContent = api.encoderLabel;
    $("factor-panel").hidden = false;
    if (!api.render) { $("factor-info").textContent = "factor panel off: " + api.noRender; return; }
    for (const id of ["factor-image", "factor-decoded"]) { $(id).width = S; $(id).height = S; }
    const values = {}, setFactors = factorSetter(api, ui, state, values);
    factorControls(api, DATA, ui, values, setFactors);
    ui.factorValues = values; // the controllability map holds the other factors here
    ui.provide("setFactors", (f) => { Object.assign(values, f); setFactors(Object.keys(f).join()); });
    setFactors(null);
    brush(api, ui, state, values);
  });
})();
