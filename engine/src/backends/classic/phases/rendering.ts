/**
 * Rendering: the top layer is the finished image itself. The artist renders one area at a time, the
 * subject first and the background last: in each area broad strokes along the forms push the values,
 * then finer ones bring the details, edges and highlights; a clean-up covers whatever is not fully
 * covered, so that step 0 is exactly the input. Area by area, the picture keeps changing visibly to the
 * end instead of everywhere at once early on. The phase proposes fewer marks than its budget when
 * nothing visible is left to paint.
 */
import { artworkContent } from '../../../core/content.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { BrushPainter } from '../brush.js';
import { gaussianBlur } from '../raster.js';
import type { Rng } from '../rng.js';
import type { Mark, PhaseWork } from './phase.js';

/**
 * Needs the error left between the canvas under it and the final (plan size, summed over channels; it is
 * smoothed by `sigma` so seeds follow coherent error, not noisy pixels), the flow field (stroke
 * directions) and the subject (area order). `glaze`: smooth fields are rendered with a broad brush
 * (`brushSizes`), for pieces whose layers under the rendering are flat fills: painterly pieces have
 * laid their smooth fields in broad strokes already.
 */
export function prepareRendering(a: Analysis, rawError: Float32Array, sigma: number, flow: Float32Array, check: () => void, glaze = false): PhaseWork {
  const { pw, ph } = a;
  const error = gaussianBlur(rawError, pw, ph, sigma);
  const sizeAt = glaze ? brushSizes(a) : undefined;
  return {
    capacity: renderCapacity(rawError),
    content: () => artworkContent({}),
    propose: (budget, rng, exact = false) => {
      const areas = renderAreas(a, error, rng);
      let brush = 1;
      let marks: Mark[] = [];
      // A piece with little left to render gets a finer brush rather than idle strokes: the same work in
      // more, smaller strokes, so its share of the process still shows.
      for (let attempt = 0; attempt < 3; attempt++) {
        const painter = new BrushPainter(pw, ph, error.slice(), flow, rng.fork(attempt), subjectStart(a));
        painter.setVisible(rawError);
        marks = renderPasses(painter, budget, Math.max(pw, ph), check, { stopWhenDone: !exact, areas, brush, ...(sizeAt ? { sizeAt } : {}) });
        if (exact || marks.length >= budget * 0.95) break;
        brush *= Math.max(0.4, Math.sqrt(marks.length / budget));
      }
      return marks;
    },
  };
}

/**
 * Strokes the rendering can make visible for an error map (summed over channels): about one per 120
 * pixels clearly off (24+ summed, a change a viewer sees in a moving picture); subtler error is painted on
 * the way, and more strokes for it would make frames that change nothing visibly.
 */
export function renderCapacity(rawError: Float32Array): number {
  let errorArea = 0;
  for (let i = 0; i < rawError.length; i++) if (rawError[i]! > 24) errorArea++;
  return Math.max(20, Math.ceil(errorArea / 120) + 15);
}

export interface RenderPassOptions {
  /** Stop when nothing visible is left (fewer marks than the budget) rather than paint idle strokes. */
  readonly stopWhenDone?: boolean;
  /** Render one area at a time (masks in order, each with its share of the error), else everywhere at once. */
  readonly areas?: readonly Area[];
  /** Brush size factor (1: the usual sizes for the canvas). */
  readonly brush?: number;
  /** Brush size factor per plan pixel (`brushSizes`), on top of `brush`. */
  readonly sizeAt?: Float32Array;
}

/** Up to how many times broader the brush is in a smooth field than among details. */
const SMOOTH_BRUSH = 2.5;
/** Local luminance change (levels per plan pixel, smoothed) at and above which the usual brush is used. */
const DETAIL_STEP = 4;

/**
 * Brush size factor per plan pixel: broad where the picture is smooth around it (a sky, a gradient
 * background, a soft cheek), the usual size among details. Small brushes in a smooth field leave
 * streaks of the held colour that the final does not have, many frames long; a broad one glazes it.
 */
export function brushSizes(a: Analysis): Float32Array {
  const { pw, ph, lum } = a;
  const n = pw * ph;
  const step = new Float32Array(n);
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const i = y * pw + x;
      const gx = x + 1 < pw ? lum[i + 1]! - lum[i]! : 0;
      const gy = y + 1 < ph ? lum[i + pw]! - lum[i]! : 0;
      step[i] = Math.abs(gx) + Math.abs(gy);
    }
  }
  const local = gaussianBlur(step, pw, ph, Math.max(2, Math.max(pw, ph) / 50));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 1 + (SMOOTH_BRUSH - 1) * Math.max(0, 1 - local[i]! / DETAIL_STEP);
  return out;
}

export interface Area {
  readonly mask: Uint8Array;
  /** Share of the error in this area, 0..1. */
  readonly share: number;
}

/**
 * The rendering phase in passes: broad strokes where the error is largest, then fine ones, then a
 * clean-up of whatever is not fully covered; a last mark covers the remainder so step 0 is exact.
 * `budget` marks, or fewer with `stopWhenDone`.
 */
export function renderPasses(painter: BrushPainter, budget: number, long: number, check: () => void, options: RenderPassOptions = {}): Mark[] {
  const stopWhenDone = options.stopWhenDone ?? false;
  const cleanup = Math.max(8, Math.round(budget * 0.2));
  const detail = budget - 1 - cleanup;
  const marks: Mark[] = [];
  const b = options.brush ?? 1;
  const stroke = {
    radius: [(long / 160) * b, (long / 55) * b] as const,
    length: [(long / 30) * b, (long / 12) * b] as const,
    seek: 'error' as const,
    feather: 1.5,
    check,
    stopWhenDone,
    ...(options.sizeAt ? { sizeAt: options.sizeAt } : {}),
  };
  if (options.areas && options.areas.length > 0) {
    // Area by area, each with its share of the strokes; what an area leaves unused goes to the next.
    let owed = 0;
    for (const area of options.areas) {
      const count = Math.min(detail - marks.length, Math.round(detail * area.share) + owed);
      if (count <= 0) continue;
      painter.focus(area.mask);
      const got = painter.pass({ ...stroke, count });
      marks.push(...got);
      owed = count - got.length;
    }
    painter.focus(null);
  }
  marks.push(...painter.pass({ ...stroke, count: detail - marks.length }));
  // Size the clean-up brush so its strokes can cover what is left.
  const left = budget - 1 - marks.length;
  const undone = painter.undoneCount;
  const r = Math.max(long / 100, Math.min(long / 14, Math.sqrt(undone / Math.max(1, left) / 5)));
  marks.push(...painter.pass({ count: left, radius: [r * 0.8, r * 1.3], length: [r * 3, r * 6], seek: 'cover', feather: 2, check, stopWhenDone }));
  // Nothing left to cover: repeat a tiny dab (a last check stroke) rather than an empty operation.
  const residual = painter.residualStamp();
  marks.push({ stamp: residual ?? { x: 0, y: 0, width: 1, height: 1, alpha: new Uint8Array([255]) }, strength: 1 });
  return marks;
}

/** Areas the rendering goes through, about: each a handful of forms around one place. */
const AREAS = 10;

/**
 * Areas to render one after another: cells around jittered seeds, visited from where the artist starts,
 * the subject before the background, the nearest next, each with its share of the error.
 */
export function renderAreas(a: Analysis, error: Float32Array, rng: Rng): Area[] {
  const { pw, ph, subject } = a;
  const cols = Math.max(1, Math.round(Math.sqrt((AREAS * pw) / ph)));
  const rows = Math.max(1, Math.round(AREAS / cols));
  const seeds: { x: number; y: number; weight: number }[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = Math.min(pw - 1, Math.max(0, ((c + 0.5 + rng.range(-0.3, 0.3)) * pw) / cols));
      const y = Math.min(ph - 1, Math.max(0, ((r + 0.5 + rng.range(-0.3, 0.3)) * ph) / rows));
      seeds.push({ x, y, weight: subject[Math.round(y) * pw + Math.round(x)]! });
    }
  }
  const [sx, sy] = subjectStart(a);
  const order: number[] = [];
  const left = new Set(seeds.map((_, k) => k));
  let px = sx;
  let py = sy;
  const reach = Math.hypot(pw, ph) * 0.3;
  while (left.size > 0) {
    let best = -1;
    let bestScore = -Infinity;
    for (const k of left) {
      const s = seeds[k]!;
      const score = (0.3 + s.weight) / (1 + Math.hypot(s.x - px, s.y - py) / reach);
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    left.delete(best);
    order.push(best);
    px = seeds[best]!.x;
    py = seeds[best]!.y;
  }
  // Each pixel belongs to its nearest seed (a Voronoi cell), computed on the plan grid.
  const cell = new Uint8Array(pw * ph);
  const mass = new Float64Array(seeds.length);
  let total = 0;
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      let nearest = 0;
      let nd = Infinity;
      for (let k = 0; k < seeds.length; k++) {
        const d = (seeds[k]!.x - x) ** 2 + (seeds[k]!.y - y) ** 2;
        if (d < nd) {
          nd = d;
          nearest = k;
        }
      }
      const i = y * pw + x;
      cell[i] = nearest;
      mass[nearest]! += error[i]!;
      total += error[i]!;
    }
  }
  return order.map((k) => {
    const mask = new Uint8Array(pw * ph);
    for (let i = 0; i < mask.length; i++) if (cell[i] === k) mask[i] = 1;
    return { mask, share: total > 0 ? mass[k]! / total : 1 / seeds.length };
  });
}
