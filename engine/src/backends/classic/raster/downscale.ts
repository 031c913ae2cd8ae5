/** From the input image to the plan: area averages on a grid, and the finer detail image beside it. */
import type { RgbImage } from '../../../core/image.js';
import type { PlanRgb } from './planes.js';

/** Per-channel sums of the input pixels falling into each cell of a grid, and their count. */
interface GridSums {
  readonly width: number;
  readonly height: number;
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  readonly count: Float32Array;
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
      for (let p = line + x * 3, q = line + end * 3; p < q; p += 3) {
        sr += src[p]!;
        sg += src[p + 1]!;
        sb += src[p + 2]!;
      }
      const i = row + c;
      r[i]! += sr;
      g[i]! += sg;
      b[i]! += sb;
      count[i]! += end - x;
      x = end;
    }
  }
  return { width, height, r, g, b, count };
}

/** Sums of 2x2 blocks of cells: the grid at twice the scale (floor(floor(x / s) / 2) = floor(x / 2s)). */
function halveSums(fine: GridSums, width: number, height: number): GridSums {
  const n = width * height;
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  const count = new Float32Array(n);
  for (let y = 0; y < fine.height; y++) {
    const row = Math.min(height - 1, y >> 1) * width;
    for (let x = 0; x < fine.width; x++) {
      const i = row + Math.min(width - 1, x >> 1);
      const f = y * fine.width + x;
      r[i]! += fine.r[f]!;
      g[i]! += fine.g[f]!;
      b[i]! += fine.b[f]!;
      count[i]! += fine.count[f]!;
    }
  }
  return { width, height, r, g, b, count };
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

/**
 * The plan-size image (exactly downscaleRgb's) and, in the same pass over the input, the input averaged
 * onto a grid twice as fine (8-bit RGB, 2 pixels per plan pixel) for measures that need more detail than
 * the plan: one pass over a 4096 px input instead of two.
 */
export function downscaleWithDetail(image: RgbImage, width: number, height: number, scale: number): { plan: PlanRgb; detail: RgbImage } {
  const fine = gridSums(image, width * 2, height * 2, scale / 2);
  const plan = averages(halveSums(fine, width, height));
  const detailPixels = averages(fine);
  const data = new Uint8Array(fine.width * fine.height * 3);
  for (let i = 0, p = 0; i < fine.width * fine.height; i++, p += 3) {
    data[p] = detailPixels.r[i]! + 0.5;
    data[p + 1] = detailPixels.g[i]! + 0.5;
    data[p + 2] = detailPixels.b[i]! + 0.5;
  }
  return { plan, detail: { width: fine.width, height: fine.height, channels: 3, data } };
}

export function luminance(img: PlanRgb): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * img.r[i]! + 0.587 * img.g[i]! + 0.114 * img.b[i]!;
  return out;
}
