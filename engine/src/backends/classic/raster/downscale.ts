/** From the input image to the plan: area averages on a grid, and the finer detail image beside it. */
import type { RgbImage } from '../../../core/image.js';
import type { PlanRgb } from './planes.js';

/**
 * One row of a grid's cells: per-channel sums of the input pixels falling into each cell, their count,
 * and the darkest channel value among them. Sums are whole numbers (below 2^32), exact in any order.
 */
interface CellRow {
  readonly r: Uint32Array;
  readonly g: Uint32Array;
  readonly b: Uint32Array;
  readonly count: Uint32Array;
  readonly darkest: Uint8Array;
}

function cellRow(width: number): CellRow {
  return { r: new Uint32Array(width), g: new Uint32Array(width), b: new Uint32Array(width), count: new Uint32Array(width), darkest: new Uint8Array(width).fill(255) };
}

function clearRow(row: CellRow): void {
  row.r.fill(0);
  row.g.fill(0);
  row.b.fill(0);
  row.count.fill(0);
  row.darkest.fill(255);
}

/**
 * Sums the input into a `width` x `height` grid, input pixel (x, y) going to cell (floor(x / scale),
 * floor(y / scale)), clamped to the grid, and hands each grid row to `emit` once its input rows are all
 * summed (grid rows in order; the row is reused for the next one). Only a row of cells is held, never the
 * whole grid: on a 4096 px input, a grid of its own would be tens of MB of fresh memory, and first
 * touching fresh memory costs more than the sums.
 */
function sumGridRows(image: RgbImage, width: number, height: number, scale: number, emit: (gridRow: number, cells: CellRow) => void): void {
  const cells = cellRow(width);
  const src = image.data;
  // Four pixels are three 32-bit words: at a 4-byte boundary they are read as words (little-endian, as
  // on every platform Node runs on), which reads a 4096 px input about twice as fast as byte by byte.
  const words = src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, src.length >> 2) : undefined;
  // The input columns falling into each grid column are the same on every row: one run per grid column.
  const runEnd = new Int32Array(width);
  for (let x = 0; x < image.width; x++) runEnd[Math.min(width - 1, Math.floor(x / scale))] = x + 1;
  for (let c = 1; c < width; c++) runEnd[c] = Math.max(runEnd[c]!, runEnd[c - 1]!);
  let current = 0;
  for (let y = 0; y < image.height; y++) {
    const gridRow = Math.min(height - 1, Math.floor(y / scale));
    if (gridRow !== current) {
      emit(current, cells);
      clearRow(cells);
      // Grid rows no input row falls into (none, unless the grid is taller than the input) come out empty.
      for (current++; current < gridRow; current++) emit(current, cells);
    }
    const line = y * image.width * 3;
    // Sum each run, then add it once: a 4096 px input touches the cells several times less often.
    let x = 0;
    for (let c = 0; c < width; c++) {
      const end = runEnd[c]!;
      if (end <= x) continue;
      let sr = 0;
      let sg = 0;
      let sb = 0;
      let dark = 255;
      // Whole groups of four pixels at a word boundary as three words, the pixels around them one by one
      // (at most three before the first group and after the last).
      for (let p = line + x * 3, q = line + end * 3; p < q; ) {
        if (words !== undefined && (p & 3) === 0 && p + 12 <= q) {
          const w = p >> 2;
          const w0 = words[w]!;
          const w1 = words[w + 1]!;
          const w2 = words[w + 2]!;
          // Bytes r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3, lowest first.
          const r0 = w0 & 255;
          const g0 = (w0 >>> 8) & 255;
          const b0 = (w0 >>> 16) & 255;
          const r1 = w0 >>> 24;
          const g1 = w1 & 255;
          const b1 = (w1 >>> 8) & 255;
          const r2 = (w1 >>> 16) & 255;
          const g2 = w1 >>> 24;
          const b2 = w2 & 255;
          const r3 = (w2 >>> 8) & 255;
          const g3 = (w2 >>> 16) & 255;
          const b3 = w2 >>> 24;
          sr += r0 + r1 + r2 + r3;
          sg += g0 + g1 + g2 + g3;
          sb += b0 + b1 + b2 + b3;
          let m = r0 < g0 ? r0 : g0;
          m = b0 < m ? b0 : m;
          m = r1 < m ? r1 : m;
          m = g1 < m ? g1 : m;
          m = b1 < m ? b1 : m;
          m = r2 < m ? r2 : m;
          m = g2 < m ? g2 : m;
          m = b2 < m ? b2 : m;
          m = r3 < m ? r3 : m;
          m = g3 < m ? g3 : m;
          m = b3 < m ? b3 : m;
          if (m < dark) dark = m;
          p += 12;
        } else {
          const vr = src[p]!;
          const vg = src[p + 1]!;
          const vb = src[p + 2]!;
          sr += vr;
          sg += vg;
          sb += vb;
          const v = vr < vg ? vr : vg;
          const m = v < vb ? v : vb;
          if (m < dark) dark = m;
          p += 3;
        }
      }
      cells.r[c]! += sr;
      cells.g[c]! += sg;
      cells.b[c]! += sb;
      cells.count[c]! += end - x;
      if (dark < cells.darkest[c]!) cells.darkest[c] = dark;
      x = end;
    }
  }
  for (; current < height; current++) {
    emit(current, cells);
    clearRow(cells);
  }
}

/**
 * Writes a row of cells' averages into the plan image's row `y` (float32, as the average of the float32
 * sums was before: the same numbers) and their darkest values into `darkest`.
 */
function writeAverages(cells: CellRow, plan: PlanRgb, darkest: Uint8Array, y: number): void {
  const row = y * plan.width;
  for (let c = 0; c < plan.width; c++) {
    const n = cells.count[c]! || 1;
    plan.r[row + c] = cells.r[c]! / n;
    plan.g[row + c] = cells.g[c]! / n;
    plan.b[row + c] = cells.b[c]! / n;
    darkest[row + c] = cells.darkest[c]!;
  }
}

function planImage(width: number, height: number): PlanRgb {
  const n = width * height;
  return { width, height, r: new Float32Array(n), g: new Float32Array(n), b: new Float32Array(n) };
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

/** Area-average downscale by `scale` (full pixels per plan pixel) into a plan-size planar image. */
export function downscaleRgb(image: RgbImage, width: number, height: number, scale: number): PlanRgb {
  return downscaleWithDarkest(image, width, height, scale).plan;
}

/** downscaleRgb, with the darkest channel value under each plan pixel. */
export function downscaleWithDarkest(image: RgbImage, width: number, height: number, scale: number): Downscaled {
  const plan = planImage(width, height);
  const darkest = new Uint8Array(width * height);
  sumGridRows(image, width, height, scale, (y, cells) => writeAverages(cells, plan, darkest, y));
  return { plan, darkest };
}

/**
 * The plan-size image (exactly downscaleRgb's) and, in the same pass over the input, the input averaged
 * onto a grid twice as fine (8-bit RGB, 2 pixels per plan pixel) for measures that need more detail than
 * the plan: one pass over a 4096 px input instead of two. Each plan pixel sums the 2x2 fine cells it
 * covers (floor(floor(x / s) / 2) = floor(x / 2s)), so its average is exactly downscaleRgb's.
 */
export function downscaleWithDetail(image: RgbImage, width: number, height: number, scale: number): Downscaled & { detail: RgbImage } {
  const plan = planImage(width, height);
  const darkest = new Uint8Array(width * height);
  const fineWidth = width * 2;
  const fineHeight = height * 2;
  const data = new Uint8Array(fineWidth * fineHeight * 3);
  const coarse = cellRow(width);
  let coarseRow = 0;
  sumGridRows(image, fineWidth, fineHeight, scale / 2, (y, fine) => {
    // The detail pixel: the float32 average rounded (as the float32 grid's average was).
    for (let c = 0, p = y * fineWidth * 3; c < fineWidth; c++, p += 3) {
      const n = fine.count[c]! || 1;
      data[p] = Math.fround(fine.r[c]! / n) + 0.5;
      data[p + 1] = Math.fround(fine.g[c]! / n) + 0.5;
      data[p + 2] = Math.fround(fine.b[c]! / n) + 0.5;
    }
    const row = Math.min(height - 1, y >> 1);
    if (row !== coarseRow) {
      writeAverages(coarse, plan, darkest, coarseRow);
      clearRow(coarse);
      coarseRow = row;
    }
    for (let c = 0; c < fineWidth; c++) {
      const to = Math.min(width - 1, c >> 1);
      coarse.r[to]! += fine.r[c]!;
      coarse.g[to]! += fine.g[c]!;
      coarse.b[to]! += fine.b[c]!;
      coarse.count[to]! += fine.count[c]!;
      if (fine.darkest[c]! < coarse.darkest[to]!) coarse.darkest[to] = fine.darkest[c]!;
    }
  });
  writeAverages(coarse, plan, darkest, coarseRow);
  return { plan, darkest, detail: { width: fineWidth, height: fineHeight, channels: 3, data } };
}

export function luminance(img: PlanRgb): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * img.r[i]! + 0.587 * img.g[i]! + 0.114 * img.b[i]!;
  return out;
}
