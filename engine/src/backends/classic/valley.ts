/**
 * Drawn-line detection. A pixel of a drawn line is darker than the image on BOTH sides of it, across
 * the line; the dark side of a step edge (hair against the sky, the border of a dark shape) is darker
 * than one side only, and a gap between lit windows is the majority colour around it. So a line pixel
 * is a valley: over 4 orientations and a few half-widths d, the largest
 * min(L(p + d·n), L(p − d·n)) − L(p), kept only where pixels that dark are a minority nearby.
 * Edges of colour shapes and soft shading give no response: the classic planner never invents outlines.
 */

/** Orientation steps (dx, dy) for half-width d: axis-aligned d, diagonal d / √2 rounded. */
function offsets(d: number): [number, number][] {
  const k = Math.max(1, Math.round(d / Math.SQRT2));
  return [
    [d, 0],
    [0, d],
    [k, k],
    [k, -k],
  ];
}

/** Share of the neighbourhood (radius 2d + 1) at most as dark as a line pixel may be. */
const MAX_DARK_SHARE = 0.4;

export interface Valleys {
  /** Darkness below both sides, luminance levels (0 where the pixel is no valley). */
  readonly response: Float32Array;
  /** Index into the half-widths of the best response (the line's half width). */
  readonly halfWidth: Uint8Array;
}

/**
 * Valley response of a luminance plane at the given half-widths (pixels), with the minority test for
 * responses of at least `minResponse`. Clamped at the borders (no valleys along the frame itself).
 */
export function valleys(L: Float32Array, width: number, height: number, halfWidths: readonly number[], minResponse: number): Valleys {
  const n = width * height;
  const response = new Float32Array(n);
  const halfWidth = new Uint8Array(n);
  const steps = valleySteps(halfWidths);
  const best = new Int32Array(1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let v = valleyAt(L, width, height, x, y, steps, best);
      const d = best[0]!;
      if (v >= minResponse && darkShare(L, width, height, x, y, L[i]! + 0.3 * v, 2 * halfWidths[d]! + 1) > MAX_DARK_SHARE) v = 0;
      response[i] = v;
      halfWidth[i] = d;
    }
  }
  return { response, halfWidth };
}

/** Share of pixels within `r` (a square) whose luminance is at most `limit`. */
function darkShare(L: Float32Array, width: number, height: number, x: number, y: number, limit: number, r: number): number {
  let dark = 0;
  let all = 0;
  const r2 = Math.round(r);
  for (let yy = Math.max(0, y - r2); yy <= Math.min(height - 1, y + r2); yy++) {
    const row = yy * width;
    for (let xx = Math.max(0, x - r2); xx <= Math.min(width - 1, x + r2); xx++) {
      all++;
      if (L[row + xx]! <= limit) dark++;
    }
  }
  return dark / all;
}

/** Orientation steps for `valleyAt`, flattened (dx, dy pairs, four per half-width), computed once per image. */
export function valleySteps(halfWidths: readonly number[]): Int32Array {
  return Int32Array.from(halfWidths.flatMap((d) => offsets(d).flat()));
}

/**
 * The valley response at one pixel (no minority test). `best`, when given, receives the index of the
 * half-width that gave it.
 */
export function valleyAt(L: Float32Array | Uint8Array, width: number, height: number, x: number, y: number, steps: Int32Array, best?: Int32Array): number {
  const l = L[y * width + x]!;
  let top = 0;
  let at = 0;
  for (let k = 0; k < steps.length; k += 2) {
    const dx = steps[k]!;
    const dy = steps[k + 1]!;
    const ax = Math.min(width - 1, Math.max(0, x + dx));
    const ay = Math.min(height - 1, Math.max(0, y + dy));
    const bx = Math.min(width - 1, Math.max(0, x - dx));
    const by = Math.min(height - 1, Math.max(0, y - dy));
    const v = Math.min(L[ay * width + ax]!, L[by * width + bx]!) - l;
    if (v > top) {
      top = v;
      at = k >> 3;
    }
  }
  if (best) best[0] = at;
  return top;
}
