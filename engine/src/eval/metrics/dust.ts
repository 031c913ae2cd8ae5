/** Compactness: an artist's mark is one connected shape, not scattered speckles. */
import { OpCollector, SHAPE_CHANGE, atMost, type LimitMetric, type OpList } from './metric.js';
import type { OpChange, ReplayContext, ReplayObserver } from './replay.js';

/** Changed pixels closer than this (Chebyshev, metric pixels) belong to one shape: a fill cut by line art is one fill. */
export const SHAPE_GAP = 2;
/** Dust: at least this many separate shapes, the largest holding less than half of the changed pixels. */
export const DUST_MIN_SHAPES = 6;
export const DUST_MAX_MAIN_SHARE = 0.5;
/** Fewer clearly changed pixels than this: too small to judge its shape (a dab, a highlight). */
export const SHAPE_MIN_PIXELS = 8;

export interface ShapeResult {
  /** Reveal operations with at least SHAPE_MIN_PIXELS clearly changed (>= SHAPE_CHANGE) pixels: the population of meanShapes. */
  readonly shaped: number;
  /** Mean number of separate shapes per shaped operation. */
  readonly meanShapes: number;
  /** Population: all reveal operations. */
  readonly dust: OpList;
}

/**
 * Labels the clearly changed pixels of `mask` inside a box with gap-tolerant connectivity and returns
 * [shapes, pixels in the largest shape]. Union-find over the box; neighbours within SHAPE_GAP.
 */
function shapes(mask: Uint8Array, width: number, box: [number, number, number, number], parent: Int32Array): [number, number] {
  const [x0, y0, x1, y1] = box;
  const bw = x1 - x0;
  const bh = y1 - y0;
  const find = (i: number): number => {
    let root = i;
    while (parent[root]! !== root) root = parent[root]!;
    while (parent[i]! !== root) {
      const next = parent[i]!;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  const g = SHAPE_GAP;
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const i = y * bw + x;
      if (!mask[(y + y0) * width + x + x0]) {
        parent[i] = -1;
        continue;
      }
      parent[i] = i;
      // Earlier neighbours only (rows above within the gap, and the left part of this row).
      for (let dy = -g; dy <= 0; dy++) {
        const yy = y + dy;
        if (yy < 0) continue;
        const xEnd = dy === 0 ? -1 : g;
        for (let dx = -g; dx <= xEnd; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= bw) continue;
          const j = yy * bw + xx;
          if (parent[j]! < 0) continue;
          const a = find(i);
          const b = find(j);
          if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
        }
      }
    }
  }
  const sizes = new Map<number, number>();
  for (let i = 0; i < bw * bh; i++) {
    if (parent[i]! < 0) continue;
    const root = find(i);
    sizes.set(root, (sizes.get(root) ?? 0) + 1);
  }
  let largest = 0;
  for (const s of sizes.values()) largest = Math.max(largest, s);
  return [sizes.size, largest];
}

export class DustObserver implements ReplayObserver {
  private readonly dust = new OpCollector();
  private revealOps = 0;
  private shaped = 0;
  private shapeSum = 0;
  private readonly mask: Uint8Array;
  private readonly parent: Int32Array;

  constructor(private readonly ctx: ReplayContext) {
    this.mask = new Uint8Array(ctx.pixels);
    this.parent = new Int32Array(ctx.pixels);
  }

  afterOp(c: OpChange): void {
    if (c.op.kind !== 'reveal') return;
    this.revealOps++;
    const { width, height } = this.ctx;
    const mask = this.mask;
    let clear = 0;
    let bx0 = width;
    let by0 = height;
    let bx1 = -1;
    let by1 = -1;
    for (let k = 0; k < c.count; k++) {
      if (c.deltas[k]! < SHAPE_CHANGE) continue;
      const i = c.changed[k]!;
      mask[i] = 1;
      clear++;
      const x = i % width;
      const y = (i - x) / width;
      if (x < bx0) bx0 = x;
      if (x > bx1) bx1 = x;
      if (y < by0) by0 = y;
      if (y > by1) by1 = y;
    }
    if (clear >= SHAPE_MIN_PIXELS) {
      const [count, largest] = shapes(mask, width, [bx0, by0, bx1 + 1, by1 + 1], this.parent);
      this.shaped++;
      this.shapeSum += count;
      if (count >= DUST_MIN_SHAPES && largest < DUST_MAX_MAIN_SHARE * clear) this.dust.add(c.op, c.applied);
    }
    if (clear > 0) {
      for (let y = by0; y <= by1; y++) mask.fill(0, y * width + bx0, y * width + bx1 + 1);
    }
  }

  result(): ShapeResult {
    return { shaped: this.shaped, meanShapes: this.shaped > 0 ? this.shapeSum / this.shaped : 0, dust: this.dust.result(this.revealOps) };
  }
}

export const dust: LimitMetric<Pick<ShapeResult, 'dust'>, 'dustOps'> = {
  id: 'dust',
  label: 'scattered-dust reveal ops',
  thresholdKey: 'dustOps',
  threshold: 0.05,
  definition:
    'for every reveal operation, the clearly changed pixels, grouped into shapes. The operation is **dust** when they ' +
    'fall into 6 or more separate shapes and the largest holds less than half of them. Shapes are connected with a ' +
    '2-pixel gap tolerance, so a flat fill cut by the line art above it is still one shape. Operations with fewer than ' +
    '8 clearly changed pixels are too small to judge. The report also gives the mean number of shapes.',
  judge: (r, limit) => atMost(r.dust.fraction, limit),
};
