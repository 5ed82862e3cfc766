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
`;

export async function render() {
  const params = new URLSearchParams(location.search);
  const poll = params.get("poll") || "3000";
  document.body.innerHTML = `<style>${STYLE}</style><h3>Latent space by epoch</h3>
    <p id="status"></p><div id="runs"></div><div id="panels"></div>`;
  const panels = new Map(); // run -> {frame, api}
  window.heatmapLatentTab = {
    panels: panels,
    ready(run, api) { if (panels.has(run)) panels.get(run).api = api; },
    hover(run, image) { for (const [other, p] of panels) if (other !== run && p.api) p.api.highlight(image); },
    pick(run, image) { for (const [other, p] of panels) if (other !== run && p.api) p.api.pick(image); },
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
  }
  let first = true;
  async function refresh() {
    const listing = await (await fetch("runs")).json();
    const box = document.getElementById("runs");
    const withSnapshots = listing.runs.filter((r) => r.epochs.length);
    document.getElementById("status").textContent = withSnapshots.length
      ? "Pick runs to see side by side (" + listing.runs.length + " runs under " + listing.logdir + ")."
      : "No run under " + listing.logdir + " has snapshots yet.";
    for (const r of listing.runs) {
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
      const tick = row.querySelector("input");
      tick.disabled = !r.epochs.length;
      row.className = r.epochs.length ? "" : "problem";
      row.querySelector("span").textContent = " " + r.run + " · " + r.label + " · " +
        (r.epochs.length ? r.epochs.length + " snapshots, last epoch " + r.epochs[r.epochs.length - 1] : r.problem);
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
