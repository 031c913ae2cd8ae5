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

/** Composites straight-alpha RGBA onto white paper (how a transparent artwork looks on a canvas). */
export function flattenOnWhite(image: RgbaImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; i < data.length; i += 4, o += 3) {
    const a = data[i + 3]!;
    const inv = 255 - a;
    // Rounded integer blend: exact for a = 0 and a = 255.
    out[o] = (data[i]! * a + 255 * inv + 127) / 255;
    out[o + 1] = (data[i + 1]! * a + 255 * inv + 127) / 255;
    out[o + 2] = (data[i + 2]! * a + 255 * inv + 127) / 255;
  }
  return { width, height, channels: 3, data: out };
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
