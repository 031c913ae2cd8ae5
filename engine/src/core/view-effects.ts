/**
 * What the artist's view does to a finished composite: the global colour curve and the canvas flip.
 * Both are view changes, not paint, so they apply after compositing.
 */
import type { Curve } from './timeline.js';

export function isIdentityCurve(c: Curve): boolean {
  return c.contrast === 1 && c.saturation === 1 && c.lift === 0 && c.warmth === 0;
}

/** Per-channel lookup tables of a curve (before the saturation step). Black and white map to themselves. */
export function curveTables(c: Curve): [Uint8Array, Uint8Array, Uint8Array] {
  const tables: [Uint8Array, Uint8Array, Uint8Array] = [new Uint8Array(256), new Uint8Array(256), new Uint8Array(256)];
  const gamma = Math.pow(2, -c.lift);
  const warm = [Math.pow(2, -0.35 * c.warmth), 1, Math.pow(2, 0.35 * c.warmth)];
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < 256; i++) {
      let v = Math.pow(i / 255, gamma * warm[ch]!);
      // An S-curve with fixed end points; slope at mid grey = contrast.
      v = v + (c.contrast - 1) * 2 * v * (1 - v) * (2 * v - 1);
      tables[ch]![i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return tables;
}

/** Lookup tables per curve object: a timeline's curves are fixed objects, shown frame after frame. */
const curveTableCache = new WeakMap<Curve, [Uint8Array, Uint8Array, Uint8Array]>();

/** The global curve on a composite (RGB), as the artist sees it; `from`/`to` (byte offsets, multiples of 3) limit it to a span. */
export function applyCurve(src: Uint8Array, dst: Uint8Array, c: Curve, from = 0, to = src.length): void {
  let tables = curveTableCache.get(c);
  if (!tables) {
    tables = curveTables(c);
    curveTableCache.set(c, tables);
  }
  const [tr, tg, tb] = tables;
  const sat = c.saturation;
  if (sat === 1) {
    for (let i = from; i < to; i += 3) {
      dst[i] = tr[src[i]!]!;
      dst[i + 1] = tg[src[i + 1]!]!;
      dst[i + 2] = tb[src[i + 2]!]!;
    }
    return;
  }
  for (let i = from; i < to; i += 3) {
    const r = tr[src[i]!]!;
    const g = tg[src[i + 1]!]!;
    const b = tb[src[i + 2]!]!;
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    dst[i] = luma + (r - luma) * sat + 0.5;
    dst[i + 1] = luma + (g - luma) * sat + 0.5;
    dst[i + 2] = luma + (b - luma) * sat + 0.5;
  }
}

/** Mirrors RGB rows in place (the canvas flip). */
export function flipRowsInPlace(data: Uint8Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let l = 0, r = width - 1; l < r; l++, r--) {
      const a = row + l * 3;
      const b = row + r * 3;
      for (let c = 0; c < 3; c++) {
        const t = data[a + c]!;
        data[a + c] = data[b + c]!;
        data[b + c] = t;
      }
    }
  }
}
