// The page's frames: one per snapshot the run wrote while it trained (its codes, the factors and
// colourings of the images it holds, its split), then the checkpoint's, whose decoder is built here;
// and an image's dataset position <-> its row in a frame (frames of snapshots hold a subset).
"use strict";
window.heatmapLatentFrames = function (DATA, NET, b64) {
  const { bytes, f32, f64, i32 } = b64, { layersFrom, decodeWith } = NET;
  const ALL = {
    codes: f32(DATA.codes),
    factors: Object.fromEntries(Object.entries(DATA.factors).map(([k, v]) => [k, f32(v)])),
    colourings: Object.fromEntries(Object.entries(DATA.colourings || {}).map(([k, v]) => [k, f64(v)])),
    split: Uint8Array.from(atob(DATA.split), (ch) => ch.charCodeAt(0)), // 1: test
  };
  const SPLIT_NAMES = ["train", "validation", "test"];
  // the row of ALL that holds a dataset position: itself, or (the tab: ALL is the latest snapshot's
  // images, DATA.index their positions) its row among them
  const allRows = DATA.index ? new Map(Array.from(i32(DATA.index), (v, r) => [v, r])) : null;
  const rowInAll = (i) => (allRows ? allRows.get(i) : i);
  const frames = [];
  for (const f of DATA.snapshots ? DATA.snapshots.frames : []) {
    const index = i32(f.index), rows = Int32Array.from(index, rowInAll);
    frames.push({
      label: "epoch " + f.epoch + (f.final ? " (end of training)" : ""),
      epoch: f.epoch, kl: f.kl, scores: f.scores || null, align: f.align, n: index.length, index: index, codes: f32(f.codes),
      factors: Object.fromEntries(Object.entries(ALL.factors).map(([k, v]) => [k, Float32Array.from(rows, (r) => v[r])])),
      colourings: Object.fromEntries(Object.entries(ALL.colourings).map(([k, v]) => [k, Float64Array.from(rows, (r) => v[r])])),
      split: Array.from(bytes(f.split), (v) => SPLIT_NAMES[v]),
      weights: f.weights, decode: null, // loadFrame(i) sets it
    });
  }
  const checkpointLayers = layersFrom(DATA.decoder.layers.map((l) => (l.weight ? [f32(l.weight), f32(l.bias)] : null)));
  frames.push({
    label: DATA.final_label || "checkpoint " + DATA.checkpoint.split(/[\\/]/).pop(),
    epoch: DATA.final_epoch == null ? null : DATA.final_epoch, kl: DATA.final_kl || null, checkpoint: true,
    align: DATA.snapshots ? DATA.snapshots.checkpoint_align : null, n: DATA.n, codes: ALL.codes,
    index: DATA.index ? i32(DATA.index) : null,
    factors: ALL.factors, colourings: ALL.colourings, split: Array.from(ALL.split, (v) => (v ? "test" : "train")),
    decode: (z) => decodeWith(checkpointLayers, z),
  });


  const imageOf = (p, i) => (frames[i].index ? frames[i].index[p] : p);
  const rows = new Map();
  function rowOf(image, i) {
    const f = frames[i];
    if (!f.index) return image < f.n ? image : -1;
    if (!rows.has(i)) rows.set(i, new Map(Array.from(f.index, (v, p) => [v, p])));
    const p = rows.get(i).get(image);
    return p === undefined ? -1 : p;
  }
  return { ALL: ALL, frames: frames, checkpointLayers: checkpointLayers, imageOf: imageOf, rowOf: rowOf };
};
