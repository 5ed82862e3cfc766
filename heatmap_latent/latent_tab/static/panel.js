// One run's explorer inside the Latent tab: loads the run's data from the plugin (data?run=),
// starts the explorer's own scripts on it, and polls index?run= so that a new snapshot appears
// without a reload. Hover and pick are passed to the tab, which shows them in the other runs.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const run = params.get("run"), POLL_MS = +(params.get("poll") || 3000);
  const template = document.body.innerHTML;
  let epochs = null;
  const tab = () => { try { return window.parent !== window ? window.parent.heatmapLatentTab : null; } catch { return null; } }; // cross-origin parent
  function message(text) {
    document.body.innerHTML = "<p class='meta' id='message'></p>";
    document.getElementById("message").textContent = text;
    if (tab()) tab().ready(run, null);
  }
  function show(data) {
    const keep = window.heatmapLatent ? { frameLabel: null, aligned: window.heatmapLatent.aligned } : null;
    document.body.innerHTML = template;
    document.querySelector("header h1").textContent = run;
    document.querySelector("header .meta").textContent = data.model + ", latent_dim " + data.latent_dim + ", " +
      data.n + " codes of the latest snapshot, epochs " + data.epochs.join(", ");
    const api = window.heatmapLatentStart(data);
    if (keep && !keep.aligned) { const box = document.getElementById("align"); if (box) { box.checked = false; box.dispatchEvent(new Event("change")); } }
    api.onHover = (image) => { const t = tab(); if (t) t.hover(run, image); };
    api.onPick = (image) => { const t = tab(); if (t) t.pick(run, image); };
    api.run = run;
    if (tab()) tab().ready(run, api);
  }
  // the latest snapshot's float32 weights, fetched beside the data (binary: the weights route)
  async function weightsOf(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error((await response.json()).error);
    return window.heatmapLatentBlob(await response.arrayBuffer());
  }
  async function load() {
    const q = "?run=" + encodeURIComponent(run);
    const latest = weightsOf("weights" + q + "&epoch=latest").catch((err) => err);
    const response = await fetch("data" + q);
    const body = await response.json();
    if (!response.ok) { message(body.error); return; }
    if (body.weights_url) {
      let arrays = await latest;
      // a snapshot written between the two requests: the weights of the data's own epoch
      if (arrays instanceof Error || arrays.epoch[0] !== body.final_epoch) arrays = await weightsOf(body.weights_url).catch((err) => err);
      if (arrays instanceof Error) { message(arrays.message); return; }
      const parts = [["decoder", body.decoder.layers], ["encoder", body.encoder ? body.encoder.layers : []]];
      for (const [part, layers] of parts) {
        layers.forEach((l, i) => {
          if (arrays[part + "." + i + ".w"]) { l.weight = arrays[part + "." + i + ".w"]; l.bias = arrays[part + "." + i + ".b"]; }
        });
      }
    }
    epochs = JSON.stringify(body.epochs);
    show(body);
  }
  async function poll() {
    try {
      const response = await fetch("index?run=" + encodeURIComponent(run));
      if (response.ok && JSON.stringify((await response.json()).epochs) !== epochs) await load();
    } catch {
      // the server went away for a moment (TensorBoard restarting): try again at the next poll
    }
    setTimeout(poll, POLL_MS);
  }
  load().then(() => setTimeout(poll, POLL_MS));
})();
