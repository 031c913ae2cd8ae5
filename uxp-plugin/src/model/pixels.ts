/**
 * Pixel helpers that run in UXP, browsers and Node: PNG encode/decode (UXP has no canvas ImageData, so a
 * pure-JS codec is used) and resampling. Pixels are 8-bit, chunky, straight alpha.
 */
import { decode, encode, convertIndexedToRgb } from 'fast-png';
import type { Pixels } from '../host/types.js';

/** Fast deflate level: the PNG only travels over loopback, so speed beats size. */
const UPLOAD_ZLIB_LEVEL = 1;

export function checkPixels(p: Pixels): void {
  if (!Number.isInteger(p.width) || !Number.isInteger(p.height) || p.width <= 0 || p.height <= 0) {
    throw new RangeError(`Expected positive integer size but received ${p.width}x${p.height}`);
  }
  if (p.data.length !== p.width * p.height * p.channels) {
    throw new RangeError(`Expected ${p.width}x${p.height}x${p.channels} = ${p.width * p.height * p.channels} bytes but received ${p.data.length}`);
  }
}

export function encodePng(p: Pixels): Uint8Array {
  checkPixels(p);
  return encode({ width: p.width, height: p.height, data: p.data, channels: p.channels, depth: 8 }, { zlib: { level: UPLOAD_ZLIB_LEVEL } });
}

/** Decodes any PNG to 8-bit RGB or RGBA (greyscale, palette and 16-bit PNGs are converted). */
export function decodePng(bytes: Uint8Array): Pixels {
  const png = decode(bytes);
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.transparency || png.palette.some((c) => c.length === 4) ? 4 : 3;
  }
  const count = png.width * png.height;
  const scale = png.depth === 16 ? 1 / 257 : 1;
  const hasAlpha = channels === 2 || channels === 4;
  const outChannels = hasAlpha ? 4 : 3;
  const out = new Uint8Array(count * outChannels);
  for (let i = 0; i < count; i++) {
    const s = i * channels;
    const d = i * outChannels;
    if (channels <= 2) {
      const g = Math.round((data[s] ?? 0) * scale);
      out[d] = g;
      out[d + 1] = g;
      out[d + 2] = g;
      if (hasAlpha) out[d + 3] = Math.round((data[s + 1] ?? 0) * scale);
    } else {
      out[d] = Math.round((data[s] ?? 0) * scale);
      out[d + 1] = Math.round((data[s + 1] ?? 0) * scale);
      out[d + 2] = Math.round((data[s + 2] ?? 0) * scale);
      if (hasAlpha) out[d + 3] = Math.round((data[s + 3] ?? 0) * scale);
    }
  }
  return { width: png.width, height: png.height, channels: outChannels, data: out };
}

export function toRgba(p: Pixels): Pixels {
  if (p.channels === 4) return p;
  const out = new Uint8Array(p.width * p.height * 4);
  for (let i = 0, j = 0; i < p.data.length; i += 3, j += 4) {
    out[j] = p.data[i] ?? 0;
    out[j + 1] = p.data[i + 1] ?? 0;
    out[j + 2] = p.data[i + 2] ?? 0;
    out[j + 3] = 255;
  }
  return { width: p.width, height: p.height, channels: 4, data: out };
}

/** Size that fits `maxSize` on the long side, keeping the aspect ratio (never upscales). */
export function fitSize(width: number, height: number, maxSize: number): { width: number; height: number } {
  const long = Math.max(width, height);
  if (long <= maxSize) return { width, height };
  const s = maxSize / long;
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/**
 * Resamples to exactly width x height: area-average when shrinking, bilinear when enlarging (frames from a
 * lower output resolution are enlarged back onto their source bounds). Enlarging RGBA weights colours by
 * their alpha, so a fully transparent pixel lends no colour to its neighbours (no dark fringe along a
 * layer's edge). Each column's source span and weight are worked out once, not once per row: a frame is
 * enlarged onto a 6000x4000 canvas on the panel's thread.
 */
export function resize(p: Pixels, width: number, height: number): Pixels {
  checkPixels(p);
  if (p.width === width && p.height === height) return p;
  const out = new Uint8Array(width * height * p.channels);
  const sx = p.width / width;
  const sy = p.height / height;
  if (sx >= 1 && sy >= 1) areaAverage(p, width, height, out);
  else bilinear(p, width, height, out);
  return { width, height, channels: p.channels, data: out };
}

/** The source pixels [from[i], to[i]) output pixel i averages over, on an axis of `size` shrunk to `count`. */
function areaSpans(size: number, count: number): { from: Int32Array; to: Int32Array } {
  const s = size / count;
  const from = new Int32Array(count);
  const to = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    from[i] = Math.floor(i * s);
    to[i] = Math.max(from[i]! + 1, Math.min(size, Math.floor((i + 1) * s)));
  }
  return { from, to };
}

function areaAverage(p: Pixels, width: number, height: number, out: Uint8Array): void {
  const c = p.channels;
  const src = p.data;
  const cols = areaSpans(p.width, width);
  const rows = areaSpans(p.height, height);
  for (let y = 0; y < height; y++) {
    const y0 = rows.from[y]!;
    const y1 = rows.to[y]!;
    for (let x = 0; x < width; x++) {
      const x0 = cols.from[x]!;
      const x1 = cols.to[x]!;
      const n = (y1 - y0) * (x1 - x0);
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += src[(yy * p.width + xx) * c + k]!;
        out[(y * width + x) * c + k] = Math.round(sum / n);
      }
    }
  }
}

/** The two source pixels output pixel i lies between on an axis of `size` stretched to `count`, and how far it is from the first. */
function bilinearTaps(size: number, count: number): { first: Int32Array; second: Int32Array; weight: Float64Array } {
  const s = size / count;
  const first = new Int32Array(count);
  const second = new Int32Array(count);
  const weight = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const f = Math.max(0, Math.min(size - 1, (i + 0.5) * s - 0.5));
    first[i] = Math.floor(f);
    second[i] = Math.min(size - 1, first[i]! + 1);
    weight[i] = f - first[i]!;
  }
  return { first, second, weight };
}

function bilinear(p: Pixels, width: number, height: number, out: Uint8Array): void {
  const c = p.channels;
  const src = p.data;
  const cols = bilinearTaps(p.width, width);
  const rows = bilinearTaps(p.height, height);
  for (let y = 0; y < height; y++) {
    const row0 = rows.first[y]! * p.width;
    const row1 = rows.second[y]! * p.width;
    const wy = rows.weight[y]!;
    for (let x = 0; x < width; x++) {
      const wx = cols.weight[x]!;
      const i00 = (row0 + cols.first[x]!) * c;
      const i01 = (row0 + cols.second[x]!) * c;
      const i10 = (row1 + cols.first[x]!) * c;
      const i11 = (row1 + cols.second[x]!) * c;
      const o = (y * width + x) * c;
      if (c === 4) {
        const w00 = (1 - wx) * (1 - wy) * src[i00 + 3]!;
        const w01 = wx * (1 - wy) * src[i01 + 3]!;
        const w10 = (1 - wx) * wy * src[i10 + 3]!;
        const w11 = wx * wy * src[i11 + 3]!;
        const alpha = w00 + w01 + w10 + w11;
        out[o + 3] = Math.round(alpha);
        if (alpha === 0) continue;
        for (let k = 0; k < 3; k++) {
          out[o + k] = Math.round((src[i00 + k]! * w00 + src[i01 + k]! * w01 + src[i10 + k]! * w10 + src[i11 + k]! * w11) / alpha);
        }
        continue;
      }
      for (let k = 0; k < c; k++) {
        const a = src[i00 + k]!;
        const b = src[i01 + k]!;
        const d = src[i10 + k]!;
        const e = src[i11 + k]!;
        out[o + k] = Math.round((a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy);
      }
    }
  }
}

/** Mean absolute difference per channel value (0..255) of two same-sized images; RGB only. */
export function meanAbsDiff(a: Pixels, b: Pixels): number {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  const n = a.width * a.height;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) sum += Math.abs((a.data[i * a.channels + k] ?? 0) - (b.data[i * b.channels + k] ?? 0));
  }
  return sum / (n * 3);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** base64 without btoa (not every UXP version has it). */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    chunk += B64.charAt((n >> 18) & 63) + B64.charAt((n >> 12) & 63) + (b === undefined ? '=' : B64.charAt((n >> 6) & 63)) + (c === undefined ? '=' : B64.charAt(n & 63));
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}
