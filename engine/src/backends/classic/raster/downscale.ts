/** From the input image to the plan: area averages on a grid, and the finer detail image beside it. */
import type { RgbImage } from '../../../core/image.js';
import type { PlanRgb } from './planes.js';

/** Per-channel sums of the input pixels falling into each cell of a grid, their count, and the darkest channel value among them. */
interface GridSums {
  readonly width: number;
  readonly height: number;
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  readonly count: Float32Array;
  readonly darkest: Uint8Array;
}

/** A plan-size image and, per plan pixel, the darkest channel value of the input pixels it averages. */
export interface Downscaled {
  readonly plan: PlanRgb;
  /**
   * Per plan pixel, min over its input pixels of min(r, g, b): whether any of them is darker than the
   * paper, which the average hides (a hairline in a 16x16 block), without a second pass over the input.
   */
  readonly darkest: Uint8Array;
}

/**
 * Sums the input into a `width` x `height` grid, input pixel (x, y) going to cell (floor(x / scale),
 * floor(y / scale)), clamped to the grid. Sums are whole numbers below 2^24, exact in float32 in any order.
 */
function gridSums(image: RgbImage, width: number, height: number, scale: number): GridSums {
  const n = width * height;
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  const count = new Float32Array(n);
  const darkest = new Uint8Array(n).fill(255);
  const src = image.data;
  // The input columns falling into each grid column are the same on every row: one run per grid column.
  const runEnd = new Int32Array(width);
  for (let x = 0; x < image.width; x++) runEnd[Math.min(width - 1, Math.floor(x / scale))] = x + 1;
  for (let c = 1; c < width; c++) runEnd[c] = Math.max(runEnd[c]!, runEnd[c - 1]!);
  for (let y = 0; y < image.height; y++) {
    const row = Math.min(height - 1, Math.floor(y / scale)) * width;
    const line = y * image.width * 3;
    // Sum each run, then add it once: a 4096 px input touches the grid arrays several times less often.
    let x = 0;
    for (let c = 0; c < width; c++) {
      const end = runEnd[c]!;
      if (end <= x) continue;
      let sr = 0;
      let sg = 0;
      let sb = 0;
      let dark = 255;
      for (let p = line + x * 3, q = line + end * 3; p < q; p += 3) {
        const vr = src[p]!;
        const vg = src[p + 1]!;
        const vb = src[p + 2]!;
        sr += vr;
        sg += vg;
        sb += vb;
        const v = vr < vg ? vr : vg;
        const m = v < vb ? v : vb;
        if (m < dark) dark = m;
      }
      const i = row + c;
      r[i]! += sr;
      g[i]! += sg;
      b[i]! += sb;
      count[i]! += end - x;
      if (dark < darkest[i]!) darkest[i] = dark;
      x = end;
    }
  }
  return { width, height, r, g, b, count, darkest };
}

/** Sums of 2x2 blocks of cells: the grid at twice the scale (floor(floor(x / s) / 2) = floor(x / 2s)). */
function halveSums(fine: GridSums, width: number, height: number): GridSums {
  const n = width * height;
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  const count = new Float32Array(n);
  const darkest = new Uint8Array(n).fill(255);
  for (let y = 0; y < fine.height; y++) {
    const row = Math.min(height - 1, y >> 1) * width;
    for (let x = 0; x < fine.width; x++) {
      const i = row + Math.min(width - 1, x >> 1);
      const f = y * fine.width + x;
      r[i]! += fine.r[f]!;
      g[i]! += fine.g[f]!;
      b[i]! += fine.b[f]!;
      count[i]! += fine.count[f]!;
      if (fine.darkest[f]! < darkest[i]!) darkest[i] = fine.darkest[f]!;
    }
  }
  return { width, height, r, g, b, count, darkest };
}

function averages(sums: GridSums): PlanRgb {
  const { width, height, r, g, b, count } = sums;
  for (let i = 0; i < width * height; i++) {
    const c = count[i]! || 1;
    r[i]! /= c;
    g[i]! /= c;
    b[i]! /= c;
  }
  return { width, height, r, g, b };
}

/** Area-average downscale by `scale` (full pixels per plan pixel) into a plan-size planar image. */
export function downscaleRgb(image: RgbImage, width: number, height: number, scale: number): PlanRgb {
  return averages(gridSums(image, width, height, scale));
}

/** downscaleRgb, with the darkest channel value under each plan pixel. */
export function downscaleWithDarkest(image: RgbImage, width: number, height: number, scale: number): Downscaled {
  const sums = gridSums(image, width, height, scale);
  return { plan: averages(sums), darkest: sums.darkest };
}

/**
 * The plan-size image (exactly downscaleRgb's) and, in the same pass over the input, the input averaged
 * onto a grid twice as fine (8-bit RGB, 2 pixels per plan pixel) for measures that need more detail than
 * the plan: one pass over a 4096 px input instead of two.
 */
export function downscaleWithDetail(image: RgbImage, width: number, height: number, scale: number): Downscaled & { detail: RgbImage } {
  const fine = gridSums(image, width * 2, height * 2, scale / 2);
  const coarse = halveSums(fine, width, height);
  const plan = averages(coarse);
  const detailPixels = averages(fine);
  const data = new Uint8Array(fine.width * fine.height * 3);
  for (let i = 0, p = 0; i < fine.width * fine.height; i++, p += 3) {
    data[p] = detailPixels.r[i]! + 0.5;
    data[p + 1] = detailPixels.g[i]! + 0.5;
    data[p + 2] = detailPixels.b[i]! + 0.5;
  }
  return { plan, darkest: coarse.darkest, detail: { width: fine.width, height: fine.height, channels: 3, data } };
}

export function luminance(img: PlanRgb): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * img.r[i]! + 0.587 * img.g[i]! + 0.114 * img.b[i]!;
  return out;
}
