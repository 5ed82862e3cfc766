// The run's network in the page: this project's JavaScript Decoder.forward (Linear, the activations,
// ConvTranspose2d; the last layer's logits, sigmoid applied by the caller's decode) and model.encode
// (Conv2d with zero padding, MaxPool2d, Linear, a VAE's posterior mean), run on the layers and weights
// explorer/page.py exports; equal to torch to 1e-4 (tests/test_explorer.py). A classic script:
// explorer.js calls window.heatmapLatentNetwork(DATA, f32) once; f32 reads a base64 weight array.
"use strict";
(function () { // the layers' kernels are pure functions of (layer, input); network() binds a page's layers
  // ---------------------------------------------------------------- the decoder (Decoder.forward)
  function erf(x) {
    // Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, far inside the decoder's 1e-4 tolerance
    const t = 1 / (1 + 0.3275911 * Math.abs(x));
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    const r = 1 - poly * Math.exp(-x * x);
    return x < 0 ? -r : r;
  }

  const ACTS = {
    relu: () => (v) => (v > 0 ? v : 0),
    leaky_relu: (a) => (v) => (v >= 0 ? v : v * a.negative_slope),
    elu: (a) => (v) => (v > 0 ? v : a.alpha * Math.expm1(v)),
    gelu: (a) => a.approximate === "tanh"
      ? (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))
      : (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
    silu: () => (v) => v / (1 + Math.exp(-v)),
  };

  function linear(l, x) {
    const [nOut, nIn] = l.shape;
    const y = new Float64Array(nOut);
    for (let o = 0; o < nOut; o++) {
      let s = l.b[o];
      const row = o * nIn;
      for (let i = 0; i < nIn; i++) s += l.w[row + i] * x[i];
      y[o] = s;
    }
    return y;
  }

  function convTranspose(l, x, c, h) {
    // weight (C_in, C_out, k, k); out side (h - 1) * stride - 2 * padding + k
    const [cIn, cOut, k] = l.shape;
    const s = l.stride, p = l.padding;
    const H = (h - 1) * s - 2 * p + k;
    const y = new Float64Array(cOut * H * H);
    for (let o = 0; o < cOut; o++) y.fill(l.b[o], o * H * H, (o + 1) * H * H);
    for (let ci = 0; ci < cIn; ci++) {
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < h; ix++) {
          const v = x[(ci * h + iy) * h + ix];
          if (v === 0) continue;
          for (let o = 0; o < cOut; o++) {
            const wBase = ((ci * cOut + o) * k) * k;
            const yBase = o * H * H;
            for (let ky = 0; ky < k; ky++) {
              const oy = iy * s - p + ky;
              if (oy < 0 || oy >= H) continue;
              for (let kx = 0; kx < k; kx++) {
                const ox = ix * s - p + kx;
                if (ox < 0 || ox >= H) continue;
                y[yBase + oy * H + ox] += v * l.w[wBase + ky * k + kx];
              }
            }
          }
        }
      }
    }
    return [y, cOut, H];
  }

  // ------------------------------------------------------------ the encoder (model.encode)
  // Both of its layer kinds scatter each input value that is not zero (ReLU and max pooling leave
  // many) into the outputs it reaches, along a contiguous run of output channels: weights are laid
  // out input-major once (wT), outputs channel-innermost. 2.3x faster than a loop per output row
  // (docs/explorer.md, "Speed of the encoder")
  function conv(l, x, c, h) {
    // weight (C_out, C_in, k, k) as wT (C_in, k, k, C_out); zero padding; out side floor((h + 2p - k) / s) + 1;
    // output (oy, ox) reads input (oy * s - p + ky, ox * s - p + kx)
    const [cOut, cIn, k] = l.shape, s = l.stride, p = l.padding, wT = l.wT;
    const H = Math.floor((h + 2 * p - k) / s) + 1, HH = H * H;
    const acc = new Float64Array(HH * cOut); // (H, W, C_out)
    for (let q = 0; q < HH; q++) acc.set(l.b, q * cOut);
    for (let ci = 0; ci < cIn; ci++) for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < h; ix++) {
      const v = x[(ci * h + iy) * h + ix];
      if (v === 0) continue;
      for (let ky = 0; ky < k; ky++) {
        const ty = iy + p - ky;
        if (ty < 0 || ty % s !== 0 || ty / s >= H) continue;
        for (let kx = 0; kx < k; kx++) {
          const tx = ix + p - kx;
          if (tx < 0 || tx % s !== 0 || tx / s >= H) continue;
          const out = ((ty / s) * H + tx / s) * cOut, w = ((ci * k + ky) * k + kx) * cOut;
          for (let o = 0; o < cOut; o++) acc[out + o] += v * wT[w + o];
        }
      }
    }
    const y = new Float64Array(cOut * HH); // back to (C_out, H, W), as the next layers and Flatten read it
    for (let q = 0; q < HH; q++) for (let o = 0; o < cOut; o++) y[o * HH + q] = acc[q * cOut + o];
    return [y, cOut, H];
  }

  function linearSparse(l, x) { // Linear with wT (in, out): the zero inputs skipped
    const [nOut, nIn] = l.shape, wT = l.wT, y = Float64Array.from(l.b);
    for (let i = 0; i < nIn; i++) {
      const v = x[i];
      if (v === 0) continue;
      const row = i * nOut;
      for (let o = 0; o < nOut; o++) y[o] += v * wT[row + o];
    }
    return y;
  }

  function inputMajor(w, nOut, inner) { // (nOut, inner) row-major -> (inner, nOut)
    const t = new Float32Array(w.length);
    for (let o = 0; o < nOut; o++) for (let i = 0; i < inner; i++) t[i * nOut + o] = w[o * inner + i];
    return t;
  }

  function maxPool(l, x, c, h) {
    const k = l.kernel, s = l.stride, H = Math.floor((h - k) / s) + 1;
    const y = new Float64Array(c * H * H);
    for (let ch = 0; ch < c; ch++) for (let oy = 0; oy < H; oy++) for (let ox = 0; ox < H; ox++) {
      let m = -Infinity;
      for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) m = Math.max(m, x[(ch * h + oy * s + ky) * h + ox * s + kx]);
      y[(ch * H + oy) * H + ox] = m;
    }
    return [y, c, H];
  }

  window.heatmapLatentNetwork = function network(DATA, f32) {
    // the layers of Decoder.forward with one set of weights: [weight, bias] typed arrays per layer (null: none)
    function layersFrom(weights) {
      return DATA.decoder.layers.map((l, i) => {
        const out = Object.assign({}, l);
        if (weights[i]) { out.w = weights[i][0]; out.b = weights[i][1]; }
        if (l.type === "activation") out.fn = ACTS[l.name](l);
        return out;
      });
    }

    function decodeWith(LAYERS, z) {
      let x = Float64Array.from(z);
      let c = 0, h = 0;
      for (const l of LAYERS) {
        if (l.type === "linear") x = linear(l, x);
        else if (l.type === "activation") for (let i = 0; i < x.length; i++) x[i] = l.fn(x[i]);
        else if (l.type === "reshape") { [c, h] = [l.shape[0], l.shape[1]]; }
        else if (l.type === "conv_transpose") [x, c, h] = convTranspose(l, x, c, h);
      }
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
      return out;
    }

    const ENCODER = DATA.encoder ? DATA.encoder.layers.map((l) => {
      const out = Object.assign({}, l);
      if (l.weight) { const w = f32(l.weight); out.b = f32(l.bias); out.wT = inputMajor(w, l.shape[0], w.length / l.shape[0]); }
      if (l.type === "activation") out.fn = ACTS[l.name](l);
      return out;
    }) : null;

    // an (S*S) image, row-major as the decoder emits it, to its code (a VAE: the posterior mean)
    function encode(image) {
      if (!ENCODER) throw new Error("this page carries no encoder");
      let x = Float64Array.from(image), c = 1, h = DATA.image_size;
      for (const l of ENCODER) {
        if (l.type === "conv") [x, c, h] = conv(l, x, c, h);
        else if (l.type === "max_pool") [x, c, h] = maxPool(l, x, c, h);
        else if (l.type === "activation") for (let i = 0; i < x.length; i++) x[i] = l.fn(x[i]);
        else if (l.type === "linear") x = linearSparse(l, x);
        else if (l.type === "take") x = x.slice(0, l.n);
        // flatten: (C, H, W) is already laid out row-major
      }
      return x;
    }

    return { layersFrom: layersFrom, decodeWith: decodeWith, encode: encode, encoder: ENCODER };
  };
})();
