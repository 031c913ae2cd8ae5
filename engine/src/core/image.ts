/**
 * In-memory images used everywhere inside the engine.
 *
 * Pixels are 8-bit, row-major, tightly packed (stride = width * channels).
 * `RgbImage` is what the drawing process works on (artwork flattened onto white paper);
 * `RgbaImage` keeps straight (non-premultiplied) alpha for layer exports.
 */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
  readonly data: Uint8Array;
}

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 4;
  readonly data: Uint8Array;
}

export type Image8 = RgbImage | RgbaImage;

export function createRgb(width: number, height: number, fill = 255): RgbImage {
  const data = new Uint8Array(width * height * 3);
  if (fill !== 0) data.fill(fill);
  return { width, height, channels: 3, data };
}

export function createRgba(width: number, height: number): RgbaImage {
  return { width, height, channels: 4, data: new Uint8Array(width * height * 4) };
}

export function cloneRgb(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, channels: 3, data: image.data.slice() };
}

/** Whether 32-bit words hold their bytes lowest address first (every platform Node runs on in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Composites straight-alpha RGBA onto white paper (how a transparent artwork looks on a canvas), into
 * `out` when given (e.g. shared memory for worker threads; width * height * 3 bytes).
 */
export function flattenOnWhite(image: RgbaImage, out: Uint8Array = new Uint8Array(image.width * image.height * 3)): RgbImage {
  const { width, height, data } = image;
  if (out.length !== width * height * 3) throw new RangeError(`flattenOnWhite: out has ${out.length} bytes, expected ${width * height * 3}`);
  // Opaque runs of 4 pixels move as words (4 RGBA words in, 3 RGB words out): a 4096 px upload is on the
  // critical path of the first slider frame, and the byte loop (blendOnWhite) takes about twice as long.
  const words = LITTLE_ENDIAN && data.byteOffset % 4 === 0 && out.byteOffset % 4 === 0 ? Math.floor((width * height) / 4) : 0;
  const src32 = words > 0 ? new Uint32Array(data.buffer, data.byteOffset, words * 4) : undefined;
  const dst32 = words > 0 ? new Uint32Array(out.buffer, out.byteOffset, words * 3) : undefined;
  for (let q = 0; q < words; q++) {
    const w0 = src32![4 * q]!;
    const w1 = src32![4 * q + 1]!;
    const w2 = src32![4 * q + 2]!;
    const w3 = src32![4 * q + 3]!;
    if ((w0 & w1 & w2 & w3) >>> 24 === 255) {
      dst32![3 * q] = (w0 & 0xffffff) | (w1 << 24);
      dst32![3 * q + 1] = ((w1 >>> 8) & 0xffff) | (w2 << 16);
      dst32![3 * q + 2] = ((w2 >>> 16) & 0xff) | (w3 << 8);
    } else {
      blendOnWhite(data, 16 * q, 16 * q + 16, out, 12 * q);
    }
  }
  blendOnWhite(data, 16 * words, data.length, out, 12 * words);
  return { width, height, channels: 3, data: out };
}

/** The RGBA bytes [from, to) composited onto white into `out` from `at`, pixel by pixel. */
function blendOnWhite(data: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void {
  for (let i = from, o = at; i < to; i += 4, o += 3) {
    const a = data[i + 3]!;
    if (a === 255) {
      out[o] = data[i]!;
      out[o + 1] = data[i + 1]!;
      out[o + 2] = data[i + 2]!;
      continue;
    }
    // Rounded integer blend, (v * a + 255 * (255 - a) + 127) / 255 with n / 255 as (n + 1 + (n >> 8)) >> 8,
    // exact for every n below 65536: no division per pixel on a 4096 px canvas.
    const paper = 255 * (255 - a) + 127;
    const r = data[i]! * a + paper;
    const g = data[i + 1]! * a + paper;
    const b = data[i + 2]! * a + paper;
    out[o] = (r + 1 + (r >> 8)) >> 8;
    out[o + 1] = (g + 1 + (g >> 8)) >> 8;
    out[o + 2] = (b + 1 + (b >> 8)) >> 8;
  }
}

/** Output size for a long side: the full size when `longSide` is absent or not smaller. */
export function outputSize(width: number, height: number, longSide?: number): { width: number; height: number } {
  const long = Math.max(width, height);
  if (longSide === undefined || longSide >= long) return { width, height };
  const k = longSide / long;
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/** `image` area-averaged down to `longSide` on its long side; the image itself when it is not larger. */
export function fitLongSide(image: RgbImage, longSide: number | undefined): RgbImage {
  const size = outputSize(image.width, image.height, longSide);
  return size.width === image.width && size.height === image.height ? image : resizeRgbArea(image, size.width, size.height);
}

/** Largest absolute per-channel difference between two images of the same size (0..255). */
export function maxAbsDifference(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`image sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  let max = 0;
  const da = a.data;
  const db = b.data;
  for (let i = 0; i < da.length; i++) {
    const d = Math.abs(da[i]! - db[i]!);
    if (d > max) max = d;
  }
  return max;
}

/**
 * Source taps of an area (box) resampling from `from` to `to` samples: output sample i averages the
 * source interval [i * from / to, (i + 1) * from / to), each source sample weighted by its overlap.
 */
function areaTaps(from: number, to: number): { start: Int32Array; count: Int32Array; weights: Float64Array; stride: number } {
  const ratio = from / to;
  const stride = Math.ceil(ratio) + 1;
  const start = new Int32Array(to);
  const count = new Int32Array(to);
  const weights = new Float64Array(to * stride);
  for (let i = 0; i < to; i++) {
    const a = i * ratio;
    const b = Math.min(from, (i + 1) * ratio);
    const first = Math.floor(a);
    let n = 0;
    for (let s = first; s < b && n < stride; s++, n++) weights[i * stride + n] = (Math.min(b, s + 1) - Math.max(a, s)) / ratio;
    start[i] = first;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

/**
 * Area-average resize of interleaved 8-bit pixels (RGB, or RGBA with straight alpha averaged
 * premultiplied): every output pixel is the mean of the input area it covers, so thin lines keep their
 * weight on average instead of flickering in and out as point sampling would.
 */
function resizeArea(data: Uint8Array, width: number, height: number, channels: 3 | 4, outWidth: number, outHeight: number): Uint8Array {
  if (channels === 3) return resizeAreaRgb(data, width, height, outWidth, outHeight);
  const tx = areaTaps(width, outWidth);
  const ty = areaTaps(height, outHeight);
  const alpha = channels === 4;
  const row = new Float64Array(outWidth * channels);
  const acc = new Float64Array(outWidth * channels);
  const result = new Uint8Array(outWidth * outHeight * channels);
  // One output row at a time: each source row it covers is resampled horizontally (colour premultiplied
  // by alpha) and added with its vertical weight, so memory stays at two rows whatever the size.
  for (let y = 0; y < outHeight; y++) {
    acc.fill(0);
    for (let k = 0; k < ty.count[y]!; k++) {
      const src = (ty.start[y]! + k) * width * channels;
      const wy = ty.weights[y * ty.stride + k]!;
      for (let x = 0; x < outWidth; x++) {
        const s0 = tx.start[x]!;
        let r = 0;
        let g = 0;
        let b = 0;
        let a = 0;
        for (let t = 0; t < tx.count[x]!; t++) {
          const p = src + (s0 + t) * channels;
          const w = tx.weights[x * tx.stride + t]!;
          const wa = alpha ? (w * data[p + 3]!) / 255 : w;
          r += data[p]! * wa;
          g += data[p + 1]! * wa;
          b += data[p + 2]! * wa;
          a += wa;
        }
        const o = x * channels;
        row[o] = r;
        row[o + 1] = g;
        row[o + 2] = b;
        if (alpha) row[o + 3] = a;
      }
      for (let i = 0; i < row.length; i++) acc[i]! += row[i]! * wy;
    }
    const out = y * outWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const o = x * channels;
      // Without alpha the weights sum to 1; with it, colour is un-premultiplied by the covered alpha.
      const k = alpha ? (acc[o + 3]! > 0 ? 1 / acc[o + 3]! : 0) : 1;
      result[out + o] = Math.min(255, acc[o]! * k + 0.5);
      result[out + o + 1] = Math.min(255, acc[o + 1]! * k + 0.5);
      result[out + o + 2] = Math.min(255, acc[o + 2]! * k + 0.5);
      if (alpha) result[out + o + 3] = Math.min(255, acc[o + 3]! * 255 + 0.5);
    }
  }
  return result;
}

/**
 * `resizeArea` for opaque RGB, with the same arithmetic in the same order (so the same bytes) but without
 * the alpha weighting in the inner loop: shrinking a 4096 px artwork for the first slider frame is on the
 * critical path of an interactive request, and the generic loop spends most of its time on the alpha test.
 */
function resizeAreaRgb(data: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  const tx = areaTaps(width, outWidth);
  const ty = areaTaps(height, outHeight);
  const { start: xStart, count: xCount, weights: xWeights, stride: xStride } = tx;
  const rowLength = outWidth * 3;
  const acc = new Float64Array(rowLength);
  const result = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    acc.fill(0);
    for (let k = 0; k < ty.count[y]!; k++) {
      const src = (ty.start[y]! + k) * width * 3;
      const wy = ty.weights[y * ty.stride + k]!;
      for (let x = 0, o = 0; x < outWidth; x++, o += 3) {
        let p = src + xStart[x]! * 3;
        let wi = x * xStride;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let t = xCount[x]!; t > 0; t--, p += 3, wi++) {
          const w = xWeights[wi]!;
          r += data[p]! * w;
          g += data[p + 1]! * w;
          b += data[p + 2]! * w;
        }
        // Added with the row's weight at once (the same products and sums as keeping the row first).
        acc[o]! += r * wy;
        acc[o + 1]! += g * wy;
        acc[o + 2]! += b * wy;
      }
    }
    const out = y * rowLength;
    for (let i = 0; i < rowLength; i++) result[out + i] = Math.min(255, acc[i]! + 0.5);
  }
  return result;
}

/** `image` area-averaged to `width` x `height` (a copy when the size is unchanged). */
export function resizeRgbArea(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return cloneRgb(image);
  return { width, height, channels: 3, data: resizeArea(image.data, image.width, image.height, 3, width, height) };
}

/** `image` area-averaged to `width` x `height`, alpha premultiplied while averaging so clear pixels do not bleed. */
export function resizeRgbaArea(image: RgbaImage, width: number, height: number): RgbaImage {
  if (width === image.width && height === image.height) return { width, height, channels: 4, data: image.data.slice() };
  return { width, height, channels: 4, data: resizeArea(image.data, image.width, image.height, 4, width, height) };
}
