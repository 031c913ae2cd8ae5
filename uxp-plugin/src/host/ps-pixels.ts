/**
 * Pixel buffers between Photoshop and the panel: Photoshop's image data (3 or 4 components, 8-bit, 16-bit
 * in its 0..32768 "reduced range", or 32-bit float) to 8-bit chunky pixels and back.
 */
import type { PsImageData } from './ps-api.js';
import { HostError, type Pixels } from './types.js';

/** Pixels are always exchanged as 8-bit sRGB, so CMYK, Lab, greyscale and 16/32-bit documents read right. */
export const SRGB = 'sRGB IEC61966-2.1';
/** Photoshop's 16-bit range is 0..32768 ("reduced range"), not 0..65535. */
const PS16_MAX = 32768;

export async function readImageData(image: PsImageData): Promise<Pixels> {
  const channels = image.components;
  if (channels !== 3 && channels !== 4) {
    throw new HostError('UNSUPPORTED_MODE', `Photoshop returned ${channels} components per pixel; convert the document to RGB (Image > Mode > RGB Color).`);
  }
  const raw = await image.getData({ chunky: true });
  const expected = image.width * image.height * channels;
  if (raw.length !== expected) {
    throw new HostError('HOST_FAILED', `Photoshop returned ${raw.length} values for a ${image.width}x${image.height}x${channels} image; try again.`);
  }
  let data: Uint8Array;
  if (raw instanceof Uint8Array) {
    data = raw;
  } else if (raw instanceof Uint16Array) {
    data = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) data[i] = Math.min(255, Math.round(((raw[i] ?? 0) * 255) / PS16_MAX));
  } else {
    data = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) data[i] = Math.max(0, Math.min(255, Math.round((raw[i] ?? 0) * 255)));
  }
  return { width: image.width, height: image.height, channels, data };
}

export function checkPixels(p: Pixels, what: string): void {
  if (p.data.length !== p.width * p.height * p.channels) {
    throw new HostError('HOST_FAILED', `Pixel buffer of ${what} has ${p.data.length} bytes, expected ${p.width}x${p.height}x${p.channels}.`);
  }
}

export function to16(data: Uint8Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(((data[i] ?? 0) * PS16_MAX) / 255);
  return out;
}

/**
 * Resamples to width x height bilinearly (pixel centres mapped onto pixel centres, edges clamped), the
 * way Photoshop scales layers: a frame rendered at the panel's output size and imported into a bigger
 * document grows smoothly instead of in blocks. With alpha the colours are weighted by it, so a fully
 * transparent pixel lends no colour to its neighbours (no dark fringe along a layer's edge).
 */
export function resizeBilinear(p: Pixels, width: number, height: number): Pixels {
  const c = p.channels;
  const out = new Uint8Array(width * height * c);
  const axis = (to: number, from: number): { lo: Int32Array; hi: Int32Array; t: Float64Array } => {
    const lo = new Int32Array(to);
    const hi = new Int32Array(to);
    const t = new Float64Array(to);
    for (let i = 0; i < to; i++) {
      const u = Math.min(from - 1, Math.max(0, ((i + 0.5) * from) / to - 0.5));
      lo[i] = Math.floor(u);
      hi[i] = Math.min(from - 1, lo[i]! + 1);
      t[i] = u - lo[i]!;
    }
    return { lo, hi, t };
  };
  const xs = axis(width, p.width);
  const ys = axis(height, p.height);
  const d = p.data;
  // Separable: source rows resampled across once each (premultiplied RGB and alpha, as floats), then
  // each output row blends the two it lies between.
  let upper = new Float32Array(width * 4);
  let lower = new Float32Array(width * 4);
  let upperRow = -1;
  let lowerRow = -1;
  const across = (row: number, into: Float32Array): void => {
    const base = row * p.width;
    for (let x = 0; x < width; x++) {
      const i0 = (base + xs.lo[x]!) * c;
      const i1 = (base + xs.hi[x]!) * c;
      const t = xs.t[x]!;
      const a0 = c === 4 ? d[i0 + 3]! : 255;
      const a1 = c === 4 ? d[i1 + 3]! : 255;
      const o = x * 4;
      into[o + 3] = a0 + (a1 - a0) * t;
      for (let ch = 0; ch < 3; ch++) into[o + ch] = d[i0 + ch]! * a0 + (d[i1 + ch]! * a1 - d[i0 + ch]! * a0) * t;
    }
  };
  for (let y = 0; y < height; y++) {
    const lo = ys.lo[y]!;
    const hi = ys.hi[y]!;
    if (upperRow !== lo) {
      if (lowerRow === lo) {
        [upper, lower] = [lower, upper];
        [upperRow, lowerRow] = [lowerRow, upperRow];
      } else {
        across(lo, upper);
        upperRow = lo;
      }
    }
    if (lowerRow !== hi) {
      across(hi, lower);
      lowerRow = hi;
    }
    const fy = ys.t[y]!;
    for (let x = 0; x < width; x++) {
      const i = x * 4;
      const alpha = upper[i + 3]! + (lower[i + 3]! - upper[i + 3]!) * fy;
      const o = (y * width + x) * c;
      if (c === 4) out[o + 3] = Math.round(alpha);
      if (alpha <= 0) continue;
      for (let ch = 0; ch < 3; ch++) out[o + ch] = Math.round((upper[i + ch]! + (lower[i + ch]! - upper[i + ch]!) * fy) / alpha);
    }
  }
  return { width, height, channels: c, data: out };
}
