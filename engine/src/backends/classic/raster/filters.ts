/** Blurs of plan planes: Gaussian (also masked, for colours that must not bleed across a mask) and box. */

function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const k = new Float32Array(radius * 2 + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Separable Gaussian blur with clamped edges (three box passes for wide sigmas, same variance). */
export function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma <= 0) return src.slice();
  if (sigma > 3) {
    const r = Math.max(1, Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2));
    return boxBlur(boxBlur(boxBlur(src, width, height, r), width, height, r), width, height, r);
  }
  const k = gaussianKernel(sigma);
  const radius = (k.length - 1) / 2;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  // Rows: clamped taps only near the ends, a plain dot product in between.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      if (x >= radius && x + radius < width) {
        const base = row + x - radius;
        for (let t = 0; t < k.length; t++) acc += src[base + t]! * k[t]!;
      } else {
        for (let t = -radius; t <= radius; t++) {
          const xx = x + t < 0 ? 0 : x + t >= width ? width - 1 : x + t;
          acc += src[row + xx]! * k[t + radius]!;
        }
      }
      tmp[row + x] = acc;
    }
  }
  // Columns: each output row sums its taps' rows in tap order (the same order per pixel as tap-major,
  // so the same floats), while the row being summed stays in cache.
  for (let y = 0; y < height; y++) {
    const dstRow = y * width;
    for (let t = -radius; t <= radius; t++) {
      const w = k[t + radius]!;
      const yy = y + t < 0 ? 0 : y + t >= height ? height - 1 : y + t;
      const srcRow = yy * width;
      for (let x = 0; x < width; x++) out[dstRow + x]! += tmp[srcRow + x]! * w;
    }
  }
  return out;
}

/** Gaussian blur that ignores pixels of weight 0 (normalised convolution), e.g. to smooth colour across line art. */
export function maskedBlur(src: Float32Array, weight: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const n = src.length;
  const sw = new Float32Array(n);
  for (let i = 0; i < n; i++) sw[i] = src[i]! * weight[i]!;
  const a = gaussianBlur(sw, width, height, sigma);
  const w = gaussianBlur(weight, width, height, sigma);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = w[i]! > 1e-4 ? a[i]! / w[i]! : src[i]!;
  return out;
}

/** maskedBlur of several planes sharing one weight (the weight is blurred once). */
export function maskedBlurPlanes(planes: readonly Float32Array[], weight: Float32Array, width: number, height: number, sigma: number): Float32Array[] {
  const w = gaussianBlur(weight, width, height, sigma);
  return planes.map((src) => {
    const n = src.length;
    const sw = new Float32Array(n);
    for (let i = 0; i < n; i++) sw[i] = src[i]! * weight[i]!;
    const a = gaussianBlur(sw, width, height, sigma);
    for (let i = 0; i < n; i++) a[i] = w[i]! > 1e-4 ? a[i]! / w[i]! : src[i]!;
    return a;
  });
}

/**
 * Box blur of radius r (window 2r+1) with clamped edges, O(1) per pixel; two passes approximate a Gaussian.
 * The vertical pass walks rows with one running sum per column, so it reads memory in order: on a
 * 4096 px canvas, column by column would miss the cache on every pixel.
 */
export function boxBlur(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const win = 2 * r + 1;
  const lastX = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let acc = 0;
    for (let t = -r; t <= r; t++) acc += src[row + (t < 0 ? 0 : t > lastX ? lastX : t)]!;
    for (let x = 0; x < width; x++) {
      tmp[row + x] = acc / win;
      const add = x + r + 1;
      const sub = x - r;
      acc += src[row + (add > lastX ? lastX : add)]! - src[row + (sub < 0 ? 0 : sub)]!;
    }
  }
  const lastY = height - 1;
  const acc = new Float64Array(width);
  for (let t = -r; t <= r; t++) {
    const row = (t < 0 ? 0 : t > lastY ? lastY : t) * width;
    for (let x = 0; x < width; x++) acc[x]! += tmp[row + x]!;
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const add = (y + r + 1 > lastY ? lastY : y + r + 1) * width;
    const sub = (y - r < 0 ? 0 : y - r) * width;
    for (let x = 0; x < width; x++) {
      out[row + x] = acc[x]! / win;
      acc[x]! += tmp[add + x]! - tmp[sub + x]!;
    }
  }
  return out;
}
