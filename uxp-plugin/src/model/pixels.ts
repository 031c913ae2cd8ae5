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
 * layer's edge).
 */
export function resize(p: Pixels, width: number, height: number): Pixels {
  checkPixels(p);
  if (p.width === width && p.height === height) return p;
  const c = p.channels;
  const out = new Uint8Array(width * height * c);
  const sx = p.width / width;
  const sy = p.height / height;
  if (sx >= 1 && sy >= 1) {
    for (let y = 0; y < height; y++) {
      const y0 = Math.floor(y * sy);
      const y1 = Math.max(y0 + 1, Math.min(p.height, Math.floor((y + 1) * sy)));
      for (let x = 0; x < width; x++) {
        const x0 = Math.floor(x * sx);
        const x1 = Math.max(x0 + 1, Math.min(p.width, Math.floor((x + 1) * sx)));
        const n = (y1 - y0) * (x1 - x0);
        for (let k = 0; k < c; k++) {
          let sum = 0;
          for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += p.data[(yy * p.width + xx) * c + k] ?? 0;
          out[(y * width + x) * c + k] = Math.round(sum / n);
        }
      }
    }
    return { width, height, channels: c, data: out };
  }
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, Math.min(p.height - 1, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(p.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, Math.min(p.width - 1, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(p.width - 1, x0 + 1);
      const wx = fx - x0;
      const i00 = (y0 * p.width + x0) * c;
      const i01 = (y0 * p.width + x1) * c;
      const i10 = (y1 * p.width + x0) * c;
      const i11 = (y1 * p.width + x1) * c;
      const o = (y * width + x) * c;
      if (c === 4) {
        const w00 = (1 - wx) * (1 - wy) * (p.data[i00 + 3] ?? 0);
        const w01 = wx * (1 - wy) * (p.data[i01 + 3] ?? 0);
        const w10 = (1 - wx) * wy * (p.data[i10 + 3] ?? 0);
        const w11 = wx * wy * (p.data[i11 + 3] ?? 0);
        const alpha = w00 + w01 + w10 + w11;
        out[o + 3] = Math.round(alpha);
        if (alpha === 0) continue;
        for (let k = 0; k < 3; k++) {
          out[o + k] = Math.round(((p.data[i00 + k] ?? 0) * w00 + (p.data[i01 + k] ?? 0) * w01 + (p.data[i10 + k] ?? 0) * w10 + (p.data[i11 + k] ?? 0) * w11) / alpha);
        }
        continue;
      }
      for (let k = 0; k < c; k++) {
        const a = p.data[i00 + k] ?? 0;
        const b = p.data[i01 + k] ?? 0;
        const d = p.data[i10 + k] ?? 0;
        const e = p.data[i11 + k] ?? 0;
        out[o + k] = Math.round((a * (1 - wx) + b * wx) * (1 - wy) + (d * (1 - wx) + e * wx) * wy);
      }
    }
  }
  return { width, height, channels: c, data: out };
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
