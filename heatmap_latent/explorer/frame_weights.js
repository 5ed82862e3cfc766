// The earlier frames' decoder weights in the page: blobs of explorer/frames.py, inflated on demand.
// A blob is deflated: HLF1, the header's length, a JSON header, the arrays it lists. Frame i's
// integers are the last frame's (its float32 weights at the steps) plus blobs i to the end; its
// weights are those integers times the first frame's steps. A classic script: explorer.js calls
// window.heatmapLatentFrameWeights(DATA, frames, checkpointLayers, net, bytes) once.
"use strict";
// the blobs of explorer/frames.py: deflated, HLF1, the header's length, a JSON header, the arrays it lists
async function heatmapLatentInflate(data) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
const HEATMAP_LATENT_TYPED = { "<i2": Int16Array, "<i4": Int32Array, "<f4": Float32Array, "|u1": Uint8Array };
function heatmapLatentUnpack(raw) {
  if (String.fromCharCode(raw[0], raw[1], raw[2], raw[3]) !== "HLF1") throw new Error("heatmap-latent explorer: not a frame blob");
  const length = new DataView(raw.buffer, raw.byteOffset).getUint32(4, true), body = raw.byteOffset + 8 + length;
  const out = {};
  for (const e of JSON.parse(new TextDecoder().decode(raw.subarray(8, 8 + length))).arrays) {
    const T = HEATMAP_LATENT_TYPED[e.dtype], count = e.shape.reduce((a, b) => a * b, 1);
    out[e.name] = new T(raw.buffer.slice(body + e.offset, body + e.offset + count * T.BYTES_PER_ELEMENT));
  }
  return out;
}
// a host that fetched a blob (the Latent tab's panel): its arrays by name
window.heatmapLatentBlob = async (data) => heatmapLatentUnpack(await heatmapLatentInflate(data));

window.heatmapLatentFrameWeights = function frameWeights(DATA, frames, checkpointLayers, net, bytes) {
  // A blob is deflated: HLF1, the header's length, a JSON header, the arrays it lists. Frame i's
  // integers are the last frame's (its float32 weights at the steps) plus blobs i to the end; its
  // weights are those integers times the first frame's steps.
  function blobOf(i) { // inline in the static page; fetched from the Latent tab's frame route
    const w = frames[i].weights;
    if (w.blob) return Promise.resolve(bytes(w.blob));
    return fetch(w.url).then((r) => {
      if (!r.ok) throw new Error("heatmap-latent explorer: the weights of " + frames[i].label + ": HTTP " + r.status);
      return r.arrayBuffer();
    }).then((b) => new Uint8Array(b));
  }
  const chain = [];
  function integers(i) { // every blob from frame i to the last is fetched at once, then summed
    if (!chain[i]) {
      if (i === frames.length - 1) {
        const steps = DATA.snapshots.steps, out = {};
        checkpointLayers.forEach((l, k) => {
          if (!steps[k]) return;
          out[k + ".w"] = Int32Array.from(l.w, (v) => Math.floor(v / steps[k][0] + 0.5));
          out[k + ".b"] = Int32Array.from(l.b, (v) => Math.floor(v / steps[k][1] + 0.5));
        });
        chain[i] = Promise.resolve(out);
      } else {
        const mine = blobOf(i).then(heatmapLatentInflate).then(heatmapLatentUnpack);
        chain[i] = Promise.all([integers(i + 1), mine]).then(([after, delta]) => {
          const out = {};
          for (const [name, d] of Object.entries(delta)) {
            const sum = new Int32Array(d.length), a = after[name];
            for (let k = 0; k < d.length; k++) sum[k] = a[k] + d[k];
            out[name] = sum;
          }
          return out;
        });
      }
    }
    return chain[i];
  }
  const scaled = (q, step) => Float32Array.from(q, (v) => v * step);
  const loading = [];
  function loadFrame(i) { // resolves once frames[i].decode exists
    const f = frames[i];
    if (f.decode) return Promise.resolve();
    if (!loading[i]) {
      loading[i] = integers(i).then((q) => {
        const steps = DATA.snapshots.steps;
        const layers = net.layersFrom(steps.map((st, l) => (st ? [scaled(q[l + ".w"], st[0]), scaled(q[l + ".b"], st[1])] : null)));
        f.decode = (z) => net.decodeWith(layers, z);
      });
    }
    return loading[i];
  }
  function decodeAt(i, z) {
    if (!frames[i].decode) throw new Error("heatmap-latent explorer: the weights of " + frames[i].label + " are not loaded: await loadFrame(" + i + ")");
    return frames[i].decode(z);
  }

  return { loadFrame: loadFrame, decodeAt: decodeAt };
};
