// The explorer's paths: a strip of decodes along a path (the slice's straight path, or one of the
// study's paths that the page's data carries), each with its realism. A classic script that registers
// itself in window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function paths(api, DATA, ui) {
  const { $, S, paint } = ui;
  let shown = null, shownLabel = "";
  function showPath(points, label) {
    const strip = $("strip"), t0 = performance.now();
    strip.innerHTML = "";
    ui.probe("lastPath", points.map((z) => {
      const img = api.decode(api.toRaw(z)), fit = api.fitFactors ? api.fitFactors(img) : { realism: NaN };
      const fig = document.createElement("figure"), c = document.createElement("canvas");
      c.width = c.height = S; c.className = "tile";
      paint(c, img);
      const cap = document.createElement("figcaption");
      cap.textContent = "realism " + fit.realism.toFixed(3);
      fig.append(c, cap); strip.append(fig);
      return { z: Array.from(z), realism: fit.realism };
    }));
    const ms = ui.probe("pathMs", performance.now() - t0);
    $("strip-info").textContent = label + ": " + points.length + " decodes in " + Math.round(ms) + " ms";
    shown = points; shownLabel = label;
    ui.emit("path-shown", points);
  }
  ui.on("path", showPath);
  ui.on("framed", () => { if (shown) showPath(shown, shownLabel); }); // decoded again by the new epoch
  const studyPaths = DATA.paths || {};
  for (const name of Object.keys(studyPaths)) $("study-path").add(new Option(name, name));
  $("study-path").addEventListener("change", (e) => {
    const pts = studyPaths[e.target.value];
    if (!pts) return;
    const n = Math.max(2, +$("path-n").value);
    // study paths are raw points of the checkpoint (the last frame)
    showPath(Array.from({ length: n }, (_, i) => api.toView(pts[Math.round((i * (pts.length - 1)) / (n - 1))], ui.last)), e.target.value);
  });
});
