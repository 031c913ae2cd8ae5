/**
 * Sampling of plan-resolution images at output pixels: the renderer and the reference test renderer both
 * read coverage masks and transform regions through these, so their pixels agree.
 */
import type { Stamp } from './timeline.js';

/** Sampling positions of output pixels along one axis: which two plan pixels, and the weight of the second. */
export interface AxisTable {
  readonly first: Int32Array;
  readonly second: Int32Array;
  readonly weight: Float64Array;
  /** For plan pixel c (0..plan), the first output pixel whose second sample is >= c. */
  readonly reachingFrom: Int32Array;
  /** For plan pixel c (0..plan), the first output pixel whose first sample is >= c. */
  readonly pastFrom: Int32Array;
}

export function axisTable(out: number, plan: number, planExtent: number, outPerPlan: number): AxisTable {
  const first = new Int32Array(out);
  const second = new Int32Array(out);
  const weight = new Float64Array(out);
  // Output pixels beyond the outermost plan pixel centres take the edge value, so coverage that reaches
  // the plan canvas border covers the output border too.
  const max = Math.max(0, planExtent - 1);
  for (let i = 0; i < out; i++) {
    const u = Math.min(max, Math.max(0, (i + 0.5) / outPerPlan - 0.5));
    const f = Math.floor(u);
    first[i] = Math.min(plan - 1, f);
    second[i] = Math.min(plan - 1, f + 1);
    weight[i] = u - f;
  }
  const reachingFrom = new Int32Array(plan + 1);
  const pastFrom = new Int32Array(plan + 1);
  let a = 0;
  let b = 0;
  for (let c = 0; c <= plan; c++) {
    while (a < out && second[a]! < c) a++;
    while (b < out && first[b]! < c) b++;
    reachingFrom[c] = a;
    pastFrom[c] = b;
  }
  return { first, second, weight, reachingFrom, pastFrom };
}

/** Bilinear coverage (0..255, fractional) of a plan mask between rows ra/rb (offsets) and columns ua/ub. */
export function bilinear(mask: Uint8Array, ra: number, rb: number, ua: number, ub: number, fx: number, fy: number): number {
  const a00 = mask[ra + ua]!;
  const a01 = mask[ra + ub]!;
  const a10 = mask[rb + ua]!;
  const a11 = mask[rb + ub]!;
  if ((a00 | a01 | a10 | a11) === 0) return 0;
  // Down the columns first, then across: the compositor interpolates whole rows down once and then
  // across per pixel, and gets exactly these values.
  const left = a00 + (a10 - a00) * fy;
  const right = a01 + (a11 - a01) * fy;
  return left + (right - left) * fx;
}

/** Stamp alpha (0..255, bilinear) at plan coordinates. */
export function stampAt(stamp: Stamp, px: number, py: number): number {
  const u = px - 0.5 - stamp.x;
  const v = py - 0.5 - stamp.y;
  const u0 = Math.floor(u);
  const v0 = Math.floor(v);
  const fu = u - u0;
  const fv = v - v0;
  const a00 = stampValue(stamp, u0, v0);
  const a01 = stampValue(stamp, u0 + 1, v0);
  const a10 = stampValue(stamp, u0, v0 + 1);
  const a11 = stampValue(stamp, u0 + 1, v0 + 1);
  const top = a00 + (a01 - a00) * fu;
  const bottom = a10 + (a11 - a10) * fu;
  return top + (bottom - top) * fv;
}

function stampValue(stamp: Stamp, u: number, v: number): number {
  return u >= 0 && v >= 0 && u < stamp.width && v < stamp.height ? stamp.alpha[v * stamp.width + u]! : 0;
}
