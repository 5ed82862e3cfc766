// The Latent tab (an ES module TensorBoard loads in a frame): the runs of the log directory, and
// one explorer panel (panel.html, a frame of its own) per run picked, side by side. Hovering an
// image's code in one panel highlights that image's code in the others; clicking it there makes
// every panel decode its own code of that image at its own epoch. The list is polled.
const STYLE = `
  body { font: 13px system-ui, sans-serif; margin: 8px; color: #222; }
  #runs label { display: block; margin: 2px 0; }
  #runs .problem { color: #888; }
  #panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(760px, 1fr)); gap: 8px; }
  #panels iframe { width: 100%; height: 1750px; border: 1px solid #ddd; }
  #panels.atlas { grid-template-columns: repeat(auto-fill, minmax(530px, 1fr)); }
  #panels.atlas iframe { height: 840px; border: 4px solid #ddd; }
  #atlas-bar { margin: 6px 0; }
`;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

// the atlas's labels: each run's overrides ("k=v k=v"), the keys whose values differ, fewest values
// first (a sweep's model before its seeds), and the first such key's values (the colour's)
function varying(runLabels) {
  const parts = runLabels.map((label) => Object.fromEntries((label || "").split(" ").map((o) => o.split("="))));
  const distinct = (k) => new Set(parts.map((p) => p[k])).size;
  const keys = [...new Set(parts.flatMap(Object.keys))].filter((k) => distinct(k) > 1).sort((a, b) => distinct(a) - distinct(b));
  const values = keys.length ? [...new Set(parts.map((p) => p[keys[0]]))] : [];
  return { parts, keys, values };
}

// a run's row in the list (made once, its text and state refreshed at every poll)
function runRow(box, r, open, close) {
  let row = box.querySelector(`label[data-run="${CSS.escape(r.run)}"]`);
  if (!row) {
    row = document.createElement("label");
    row.dataset.run = r.run;
    const tick = document.createElement("input");
    tick.type = "checkbox";
    tick.addEventListener("change", () => (tick.checked ? open(r.run) : close(r.run)));
    row.append(tick, document.createElement("span"));
    box.append(row);
  }
  row.querySelector("input").disabled = !r.epochs.length;
  row.className = r.epochs.length ? "" : "problem";
  row.querySelector("span").textContent = " " + r.run + " · " + r.label + " · " +
    (r.epochs.length ? r.epochs.length + " snapshots, last epoch " + r.epochs[r.epochs.length - 1] : r.problem);
}

// the atlas: small multiples of the open runs, each mapped onto the first one's codes (the
// reference), one epoch slider for all; labelled and coloured by the overrides that differ.
// Returns the epochs of the open runs' frames, the slider's stops
function applyAtlas(panels, labels) {
  const on = document.getElementById("atlas").checked, info = document.getElementById("atlas-info");
  const open = [...panels.entries()].filter(([, p]) => p.api);
  document.getElementById("panels").classList.toggle("atlas", on);
  const { parts, keys, values } = varying(open.map(([run]) => labels.get(run)));
  const problems = [];
  open.forEach(([run, p], i) => {
    const doc = p.frame.contentDocument;
    doc.body.classList.toggle("compact", on);
    let fitted = null;
    try { fitted = p.api.actions.setAtlas(on ? open[0][1].api : null); } catch (err) { problems.push(run + ": " + err.message); }
    const fit = fitted ? " · R² " + fitted.r2[fitted.r2.length - 1].toFixed(3) : "";
    doc.querySelector("header h1").textContent = on ? (keys.map((k) => k + "=" + parts[i][k]).join(" ") || run) + fit : run;
    p.frame.style.borderColor = on && values.length ? PALETTE[values.indexOf(parts[i][keys[0]]) % PALETTE.length] : "";
  });
  const epochs = [...new Set(open.flatMap(([, p]) => p.api.frames.map((f) => f.epoch)).filter((e) => e != null))].sort((a, b) => a - b);
  const slider = document.getElementById("atlas-epoch");
  slider.max = Math.max(0, epochs.length - 1); slider.value = slider.max;
  info.textContent = !on ? "" : problems.length ? problems.join("; ") :
    open.length + " runs in the frame of " + open[0][0] + (keys.length ? ", coloured by " + keys[0] : "") + "; epoch " + epochs[epochs.length - 1];
  window.heatmapLatentTab.atlas = on ? { runs: open.map(([run]) => run), varying: keys, problems: problems } : null;
  return epochs;
}

export async function render() {
  const params = new URLSearchParams(location.search);
  const poll = params.get("poll") || "3000";
  document.body.innerHTML = `<style>${STYLE}</style><h3>Latent space by epoch</h3>
    <p id="status"></p><div id="runs"></div>
    <div id="atlas-bar"><label><input id="atlas" type="checkbox"> atlas: every open run in the frame of the first
      (an affine fit on the codes of the same images, epoch by epoch; undone before any decode)</label>
      epoch <input id="atlas-epoch" type="range" min="0" max="0" value="0"> <span id="atlas-info"></span></div>
    <div id="panels"></div>`;
  const panels = new Map(); // run -> {frame, api}
  const labels = new Map(); // run -> its overrides, from the run list
  window.heatmapLatentTab = {
    panels: panels,
    ready(run, api) {
      if (!panels.has(run)) return;
      panels.get(run).api = api;
      if (document.getElementById("atlas").checked) atlas();
    },
    hover(run, image) { for (const [other, p] of panels) if (other !== run && p.api) p.api.actions.highlight(image); },
    pick(run, image) { for (const [other, p] of panels) if (other !== run && p.api) p.api.actions.pick(image); },
  };
  function open(run) {
    const frame = document.createElement("iframe");
    frame.src = "panel.html?run=" + encodeURIComponent(run) + "&poll=" + poll;
    frame.dataset.run = run;
    panels.set(run, { frame: frame, api: null });
    document.getElementById("panels").append(frame);
  }
  function close(run) {
    panels.get(run).frame.remove();
    panels.delete(run);
    if (document.getElementById("atlas").checked) atlas();
  }

  let epochs = [];
  const atlas = () => { epochs = applyAtlas(panels, labels); };
  document.getElementById("atlas").addEventListener("change", atlas);
  document.getElementById("atlas-epoch").addEventListener("input", (e) => {
    const epoch = epochs[+e.target.value];
    for (const [, p] of panels) if (p.api) p.api.actions.showFrame(p.api.frameFor(epoch));
    document.getElementById("atlas-info").textContent = "epoch " + epoch;
  });
  let first = true;
  async function refresh() {
    const listing = await (await fetch("runs")).json();
    const box = document.getElementById("runs");
    const withSnapshots = listing.runs.filter((r) => r.epochs.length);
    document.getElementById("status").textContent = withSnapshots.length
      ? "Pick runs to see side by side (" + listing.runs.length + " runs under " + listing.logdir + ")."
      : "No run under " + listing.logdir + " has snapshots yet.";
    for (const r of listing.runs) {
      labels.set(r.run, r.label);
      runRow(box, r, open, close);
    }
    if (first && withSnapshots.length) {
      const row = box.querySelector(`label[data-run="${CSS.escape(withSnapshots[0].run)}"] input`);
      row.checked = true;
      open(withSnapshots[0].run);
    }
    first = false;
  }
  await refresh();
  setInterval(() => refresh().catch(() => {}), +poll);
}
