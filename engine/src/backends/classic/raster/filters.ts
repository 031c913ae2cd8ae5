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
    // Three passes through two planes and one scratch plane (not two fresh planes per pass).
    const tmp = new Float32Array(src.length);
    const a = new Float32Array(src.length);
    const b = new Float32Array(src.length);
    boxBlurInto(src, a, tmp, width, height, r);
    boxBlurInto(a, b, tmp, width, height, r);
    boxBlurInto(b, a, tmp, width, height, r);
    return a;
  }
  const k = gaussianKernel(sigma);
  const taps = k.length;
  const radius = (taps - 1) / 2;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  // Rows: clamped taps only near the ends, a plain dot product in between, four pixels at a time (each
  // still sums its taps in order, so the same floats as one at a time, with a quarter of the loop).
  const interiorEnd = width - radius;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; ) {
      if (x >= radius && x + 3 < interiorEnd) {
        const base = row + x - radius;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let s0 = src[base]!;
        let s1 = src[base + 1]!;
        let s2 = src[base + 2]!;
        for (let t = 0; t < taps; t++) {
          const w = k[t]!;
          const s3 = src[base + t + 3]!;
          a0 += s0 * w;
          a1 += s1 * w;
          a2 += s2 * w;
          a3 += s3 * w;
          s0 = s1;
          s1 = s2;
          s2 = s3;
        }
        tmp[row + x] = a0;
        tmp[row + x + 1] = a1;
        tmp[row + x + 2] = a2;
        tmp[row + x + 3] = a3;
        x += 4;
        continue;
      }
      let acc = 0;
      for (let t = -radius; t <= radius; t++) {
        const xx = x + t < 0 ? 0 : x + t >= width ? width - 1 : x + t;
        acc += src[row + xx]! * k[t + radius]!;
      }
      tmp[row + x] = acc;
      x++;
    }
  }
  // Columns: each output pixel sums its taps' rows in tap order, rounded to float32 after every tap (as
  // adding each tap into the float32 output did), four pixels of a row at a time.
  const rows = new Int32Array(taps);
  for (let y = 0; y < height; y++) {
    for (let t = 0; t < taps; t++) {
      const yy = y + t - radius;
      rows[t] = (yy < 0 ? 0 : yy >= height ? height - 1 : yy) * width;
    }
    const dstRow = y * width;
    let x = 0;
    for (; x + 3 < width; x += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let t = 0; t < taps; t++) {
        const w = k[t]!;
        const i = rows[t]! + x;
        a0 = Math.fround(a0 + tmp[i]! * w);
        a1 = Math.fround(a1 + tmp[i + 1]! * w);
        a2 = Math.fround(a2 + tmp[i + 2]! * w);
        a3 = Math.fround(a3 + tmp[i + 3]! * w);
      }
      out[dstRow + x] = a0;
      out[dstRow + x + 1] = a1;
      out[dstRow + x + 2] = a2;
      out[dstRow + x + 3] = a3;
    }
    for (; x < width; x++) {
      let acc = 0;
      for (let t = 0; t < taps; t++) acc = Math.fround(acc + tmp[rows[t]! + x]! * k[t]!);
      out[dstRow + x] = acc;
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
  const out = new Float32Array(src.length);
  boxBlurInto(src, out, new Float32Array(src.length), width, height, r);
  return out;
}

/** boxBlur of `src` into `out` (every pixel written), through the scratch plane `tmp`; `out` must not be `src`. */
function boxBlurInto(src: Float32Array, out: Float32Array, tmp: Float32Array, width: number, height: number, r: number): void {
  const win = 2 * r + 1;
  const lastX = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let acc = 0;
    for (let t = -r; t <= r; t++) acc += src[row + (t < 0 ? 0 : t > lastX ? lastX : t)]!;
    // The window slides in three stretches: its left edge clamped, both ends inside, its right edge
    // clamped (the same sums as clamping every index, without testing each).
    const first = src[row]!;
    const last = src[row + lastX]!;
    const leftEnd = Math.min(width, r);
    const rightStart = Math.max(leftEnd, width - r - 1);
    let x = 0;
    for (; x < leftEnd; x++) {
      tmp[row + x] = acc / win;
      const add = x + r + 1;
      acc += (add > lastX ? last : src[row + add]!) - first;
    }
    for (; x < rightStart; x++) {
      tmp[row + x] = acc / win;
      acc += src[row + x + r + 1]! - src[row + x - r]!;
    }
    for (; x < width; x++) {
      tmp[row + x] = acc / win;
      const sub = x - r;
      acc += last - (sub < 0 ? first : src[row + sub]!);
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
}
