/**
 * IEEE 754 binary16 rounding on plain JS numbers, for emulating what the official pipeline does when it
 * runs in float16 (Node 20 has no Math.f16round). Round-to-nearest, ties to even, like every GPU/CPU
 * half conversion; values past the largest half (65504, rounding boundary 65520) become ±Infinity.
 */

const MIN_NORMAL = 2 ** -14;
/** Spacing of subnormal halves (and of normals in [2^-14, 2^-13)). */
const SUBNORMAL_QUANTUM = 2 ** -24;
const OVERFLOW = 65520;

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The nearest float16 value of `x`, as a number. */
export function f16round(x: number): number {
  if (Number.isNaN(x) || x === 0 || !Number.isFinite(x)) return x;
  const sign = x < 0 ? -1 : 1;
  const abs = Math.abs(x);
  if (abs >= OVERFLOW) return sign * Infinity;
  let quantum = SUBNORMAL_QUANTUM;
  if (abs >= MIN_NORMAL) {
    let e = Math.floor(Math.log2(abs));
    // log2 may be off by one ulp near powers of two; correct it so 2^e <= abs < 2^(e+1).
    if (2 ** e > abs) e -= 1;
    else if (2 ** (e + 1) <= abs) e += 1;
    quantum = 2 ** (e - 10);
  }
  // Division and multiplication by a power of two are exact, so only roundHalfEven rounds.
  const rounded = roundHalfEven(abs / quantum) * quantum;
  return rounded >= OVERFLOW ? sign * Infinity : sign * rounded;
}

/**
 * How an arithmetic result lands in a tensor of the given precision. PyTorch computes half ops in float32
 * ("opmath") and rounds the result to half, so float16 is f16(f32(x)).
 */
export type Precision = 'float32' | 'float16';

export function rounder(precision: Precision): (x: number) => number {
  return precision === 'float32' ? Math.fround : (x: number) => f16round(Math.fround(x));
}
