// A panel of one's own, as docs/explorer.md tells how to write one (tests/test_explorer.py adds it to a
// page with write_explorer(..., panels=[this file])): the mean brightness of the image decoded at the
// selected point, redrawn whenever the selection moves.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function brightness(api, DATA, ui) {
  const box = document.createElement("section");
  box.id = "brightness";
  document.body.append(box);
  ui.on("select", (s) => {
    let sum = 0;
    for (const v of s.decoded) sum += v;
    const mean = sum / s.decoded.length;
    box.textContent = "mean brightness " + mean.toFixed(6) + " of " + DATA.n + " codes' space";
    ui.probe("brightness", mean);
  });
});
