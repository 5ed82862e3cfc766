// The explorer's epochs: with snapshots, a slider and a play button over them, the frames aligned to
// the last one or each in its own coordinates, and the KL per latent dimension over the epochs with
// the shown one marked, and beside it the scores written with each snapshot (MIG, SAP, BetaVAE,
// FactorVAE on 0-1; active units over the latent dimensions). A classic script that registers itself in window.heatmapLatentPanels.
"use strict";
(window.heatmapLatentPanels = window.heatmapLatentPanels || []).push(function epochs(api, DATA, ui) {
  const { $, D, last } = ui;
  const frames = api.frames, klFrames = frames.filter((f) => f.kl);
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
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
  // the scores each snapshot wrote while the run trained (scores/timeline.py), over the epochs
  const scoreFrames = frames.filter((f) => f.scores && f.epoch != null);
  const SCORE_NAMES = ["mig", "sap", "beta_vae", "factor_vae", "active_units"];
  function drawScores() {
    const c = $("scores-chart"), ctx = c.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    if (!scoreFrames.length) { $("scores-info").textContent = "No scores: these snapshots were written without them (latent_snapshots.scores=false)."; return; }
    const e0 = scoreFrames[0].epoch, e1 = scoreFrames[scoreFrames.length - 1].epoch;
    const px = (e) => 30 + ((e - e0) / (e1 - e0 || 1)) * (c.width - 130), py = (v) => c.height - 16 - v * (c.height - 26);
    ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(30, 10); ctx.lineTo(30, c.height - 16); ctx.lineTo(c.width - 100, c.height - 16); ctx.stroke();
    SCORE_NAMES.forEach((name, k) => {
      const value = (f) => (name === "active_units" ? f.scores[name] / D : f.scores[name]); // on 0-1
      ctx.strokeStyle = COLOURS[k % COLOURS.length]; ctx.lineWidth = 2; ctx.beginPath();
      scoreFrames.forEach((f, i) => (i ? ctx.lineTo(px(f.epoch), py(value(f))) : ctx.moveTo(px(f.epoch), py(value(f)))));
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle; ctx.fillText(name === "active_units" ? "active / " + D : name, c.width - 94, 14 + 12 * k);
    });
    ctx.fillStyle = "#333"; ctx.fillText("1", 18, 14); ctx.fillText("epoch " + e0, 30, c.height - 3); ctx.fillText(String(e1), c.width - 124, c.height - 3);
    const now = frames[api.frame];
    if (now.scores && now.epoch != null) {
      ctx.strokeStyle = "#111"; ctx.lineWidth = 1; ctx.setLineDash([4, 3]); ctx.beginPath();
      ctx.moveTo(px(now.epoch), 8); ctx.lineTo(px(now.epoch), c.height - 16); ctx.stroke(); ctx.setLineDash([]);
    }
    const shown = now.scores ? now : scoreFrames[scoreFrames.length - 1];
    $("scores-info").textContent = "Scores of the snapshot's codes at " + shown.label + ": " +
      SCORE_NAMES.map((n) => n + " " + (+shown.scores[n]).toFixed(n === "active_units" ? 0 : 3)).join(", ");
    ui.probe("scoresShown", { label: shown.label, scores: shown.scores });
  }
  ui.on("frame", (i) => {
    $("epoch").value = i;
    $("epoch-label").textContent = frames[i].label + " (" + (i + 1) + " of " + frames.length + ")";
  });
  ui.on("framed", () => { drawKL(); drawScores(); });
  if (last > 0) {
    $("epoch-panel").hidden = false;
    $("epoch").max = last;
    let timer = null;
    const stop = () => { clearInterval(timer); timer = null; $("play").textContent = "play"; };
    $("epoch").addEventListener("input", (e) => ui.showFrame(+e.target.value));
    $("play").addEventListener("click", () => {
      if (timer) { stop(); return; }
      if (api.frame === last) ui.showFrame(0);
      $("play").textContent = "pause";
      timer = setInterval(() => { if (api.frame >= last) stop(); else ui.showFrame(api.frame + 1); }, 700);
    });
    $("align").addEventListener("change", (e) => ui.setAligned(e.target.checked));
  }
});
