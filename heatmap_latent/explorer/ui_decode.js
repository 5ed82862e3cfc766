// The explorer's decode panel: the image decoded at the selected point beside the nearest real image
// (the dataset's renderer draws it), with the factors fitted to the decode and its realism where the
// dataset declares an inverse. A classic script that registers itself in window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function decodePanel(api, DATA, ui) {
  const { $, S, paint, fmt } = ui;
  for (const id of ["decoded", "nearest"]) { $(id).width = S; $(id).height = S; }
  ui.on("select", (s) => {
    paint($("decoded"), s.decoded);
    const f = s.nearest.factors;
    if (api.render) paint($("nearest"), api.render(f));
    else $("nearest").getContext("2d").clearRect(0, 0, S, S);
    let read = "  (no inverse: " + api.noRender + ")";
    if (s.fit) {
      const { realism, ...factors } = s.fit;
      read = "  fitted: " + fmt(factors) + "  realism " + realism.toFixed(4);
    }
    $("decoded-info").textContent = "z = (" + Array.from(s.raw, (v) => v.toFixed(3)).join(", ") + ")" + read;
    $("nearest-info").textContent = "code #" + s.nearest.index + " (" + s.nearest.split + "), distance " + s.nearest.distance.toFixed(3) + ": " + fmt(f);
  });
});
