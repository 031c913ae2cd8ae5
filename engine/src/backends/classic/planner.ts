/**
 * The classic planner: turns a finished illustration into a drawing-process Timeline, the way an
 * illustrator works. Analysis and stroke planning happen at plan resolution; layer contents are
 * built at full resolution so lines and flats stay crisp.
 *
 * Layer stacks (bottom to top):
 * - line art and monochrome: sketch, flats (or values), shading, line art, rendering;
 * - painterly: sketch, block-in, refinement, rendering.
 * The top "rendering" layer's content is the input itself and its coverage reaches 255 everywhere by
 * the last operation, which makes step 0 equal to the input exactly.
 */
import type { SourceImage } from '../../core/backend.js';
import { createRgba, type RgbaImage } from '../../core/image.js';
import { cancelledError } from '../../core/errors.js';
import { OPERATION_COUNT } from '../../core/steps.js';
import {
  IDENTITY_CURVE,
  type Curve,
  type LayerSpec,
  type Operation,
  type Phase,
  type RevealOperation,
  type Stamp,
  type Timeline,
} from '../../core/timeline.js';
import { analyse, fullLineAlpha, type Analysis } from './analyse.js';
import { BrushPainter, flowField } from './brush.js';
import { labelComponents, maskedBlurPlanes, gaussianBlur, distanceTo, thin, forEachUpsampled, sample, StampBuilder, stampFromLabel } from './raster.js';
import { orderPaths, pathLength, simplify, smoothPath, splitIntoStrokes, traceSkeleton, type Path } from './lines.js';
import { Rng } from './rng.js';
import { segment, type Region, type Segmentation } from './segment.js';

export const CLASSIC_VERSION = '1.0.0';

export interface PlanOptions {
  /** Force a style instead of detecting it. */
  readonly style?: 'lineart' | 'painterly' | 'monochrome';
}

export interface PlanProgress {
  readonly stage: 'analysing' | 'planning';
  /** 0..1 within planning. */
  readonly fraction: number;
  readonly message: string;
}

const SKETCH_INK: readonly [number, number, number] = [88, 92, 108];

/** Plans synchronously; `signal` is checked between stages and inside long loops. */
export function planTimeline(
  source: SourceImage,
  seed: number,
  options: PlanOptions = {},
  signal?: AbortSignal,
  onProgress?: (p: PlanProgress) => void,
): Timeline {
  const steps = planSteps(source, seed, options, signal);
  while (true) {
    const r = steps.next();
    if (r.done) return r.value;
    onProgress?.(r.value);
  }
}

/**
 * The planner as a generator that yields between stages, so an async caller can give the event loop a
 * turn (and see an abort) while a synchronous caller just runs it through.
 */
export function* planSteps(
  source: SourceImage,
  seed: number,
  options: PlanOptions = {},
  signal?: AbortSignal,
): Generator<PlanProgress, Timeline, void> {
  const check = (): void => {
    if (signal?.aborted) throw cancelledError();
  };
  check();
  yield { stage: 'analysing', fraction: 0, message: 'reading structure' };
  const a = analyse(source.image);
  const style = options.style ?? a.style;
  check();
  const rng = new Rng(seed);
  yield { stage: 'analysing', fraction: 0.15, message: `style: ${style}` };

  const plan = style === 'painterly' ? yield* planPainterly(a, rng, check) : yield* planLineBased(a, rng, check, style === 'monochrome');
  const ops = plan.ops;
  if (ops.length !== OPERATION_COUNT) throw new Error(`planner produced ${ops.length} operations, expected ${OPERATION_COUNT}`);
  yield { stage: 'planning', fraction: 1, message: 'done' };
  return {
    width: source.image.width,
    height: source.image.height,
    planScale: a.scale,
    layers: plan.layers,
    operations: ops,
    info: { backend: 'classic', backendVersion: CLASSIC_VERSION, seed, style },
  };
}

interface Plan {
  readonly layers: LayerSpec[];
  readonly ops: Operation[];
}

// ---------------------------------------------------------------------------------------------------
// Shared pieces

function solidContent(width: number, height: number, rgb: readonly [number, number, number]): RgbaImage {
  const img = createRgba(width, height);
  const d = img.data;
  for (let p = 0; p < d.length; p += 4) {
    d[p] = rgb[0];
    d[p + 1] = rgb[1];
    d[p + 2] = rgb[2];
    d[p + 3] = 255;
  }
  return img;
}

export function inputContent(a: Analysis): RgbaImage {
  const { full } = a;
  const img = createRgba(full.width, full.height);
  const s = full.data;
  const d = img.data;
  for (let i = 0, p = 0; i < s.length; i += 3, p += 4) {
    d[p] = s[i]!;
    d[p + 1] = s[i + 1]!;
    d[p + 2] = s[i + 2]!;
    d[p + 3] = 255;
  }
  return img;
}

/** Full-resolution content from three plan planes (bilinear), opaque. */
function upsampledContent(a: Analysis, r: Float32Array, g: Float32Array, b: Float32Array): RgbaImage {
  const { full, pw, ph, scale } = a;
  const img = createRgba(full.width, full.height);
  const d = img.data;
  forEachUpsampled(r, pw, ph, full.width, full.height, scale, (i, v) => {
    d[i * 4] = v;
    d[i * 4 + 3] = 255;
  });
  forEachUpsampled(g, pw, ph, full.width, full.height, scale, (i, v) => (d[i * 4 + 1] = v));
  forEachUpsampled(b, pw, ph, full.width, full.height, scale, (i, v) => (d[i * 4 + 2] = v));
  return img;
}

/** Where a person would start: the top of the main subject (usually the head). */
export function subjectStart(a: Analysis): [number, number] {
  const { pw, ph, subject } = a;
  let sx = 0;
  let sw = 0;
  let minY = ph;
  let maxY = 0;
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const w = subject[y * pw + x]!;
      if (w < 0.6) continue;
      sx += x * w;
      sw += w;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (sw === 0) return [pw / 2, ph * 0.3];
  return [sx / sw, minY + (maxY - minY) * 0.2];
}

/**
 * Merges consecutive stamps into `budget` operations (max of alphas), keeping the order. The pairs merged
 * are the ones closest together (smallest united box), so one operation stays one local shape, not two
 * far-apart marks.
 */
function mergeStamps(stamps: readonly { stamp: Stamp; strength: number }[], budget: number): { stamp: Stamp; strength: number }[] {
  if (stamps.length <= budget) return [...stamps];
  // Groups of consecutive stamps, with their boxes; merge the cheapest neighbouring pair until few enough.
  const groups = stamps.map((s) => ({ items: [s], x0: s.stamp.x, y0: s.stamp.y, x1: s.stamp.x + s.stamp.width, y1: s.stamp.y + s.stamp.height }));
  type G = (typeof groups)[number];
  const unionCost = (a: G, b: G): number => {
    const area = (Math.max(a.x1, b.x1) - Math.min(a.x0, b.x0)) * (Math.max(a.y1, b.y1) - Math.min(a.y0, b.y0));
    return area - (a.x1 - a.x0) * (a.y1 - a.y0) - (b.x1 - b.x0) * (b.y1 - b.y0);
  };
  const cost = groups.slice(0, -1).map((g, k) => unionCost(g, groups[k + 1]!));
  while (groups.length > budget) {
    let best = 0;
    for (let k = 1; k < cost.length; k++) if (cost[k]! < cost[best]!) best = k;
    const a = groups[best]!;
    const b = groups[best + 1]!;
    const merged: G = { items: [...a.items, ...b.items], x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
    groups.splice(best, 2, merged);
    cost.splice(best, 1);
    if (best > 0) cost[best - 1] = unionCost(groups[best - 1]!, merged);
    if (best < groups.length - 1) cost[best] = unionCost(merged, groups[best + 1]!);
  }
  return groups.map((g) => {
    if (g.items.length === 1) return g.items[0]!;
    const strength = Math.max(...g.items.map((s) => s.strength));
    const w = g.x1 - g.x0;
    const h = g.y1 - g.y0;
    const alpha = new Uint8Array(w * h);
    for (const { stamp: s, strength: st } of g.items) {
      // Strengths differ slightly between sketch strokes: fold them into the alpha.
      const f = st / strength;
      for (let y = 0; y < s.height; y++) {
        const row = (y + s.y - g.y0) * w + (s.x - g.x0);
        for (let x = 0; x < s.width; x++) {
          const v = Math.round(s.alpha[y * s.width + x]! * f);
          if (v > alpha[row + x]!) alpha[row + x] = v;
        }
      }
    }
    return { stamp: { x: g.x0, y: g.y0, width: w, height: h, alpha }, strength };
  });
}

function reveal(layer: number, phase: Phase, tool: RevealOperation['tool'], s: { stamp: Stamp; strength: number }): RevealOperation {
  return { kind: 'reveal', phase, layer, stamp: s.stamp, strength: s.strength, tool };
}

/** Inserts `event` into `ops` at a fraction of the way through (0..1). */
function insertAt(ops: Operation[], fraction: number, ...events: Operation[]): void {
  const at = Math.max(0, Math.min(ops.length, Math.round(ops.length * fraction)));
  ops.splice(at, 0, ...events);
}

/** Largest value of a plan map under a stamp's non-zero pixels. */
function maxUnder(stamp: Stamp, map: Float32Array, pw: number, ph: number): number {
  let best = 0;
  for (let y = 0; y < stamp.height; y++) {
    const py = y + stamp.y;
    if (py < 0 || py >= ph) continue;
    for (let x = 0; x < stamp.width; x++) {
      const px = x + stamp.x;
      if (px < 0 || px >= pw || stamp.alpha[y * stamp.width + x] === 0) continue;
      const v = map[py * pw + px]!;
      if (v > best) best = v;
    }
  }
  return best;
}

function luma(c: readonly [number, number, number]): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/** Inserts `events[0]` at a fraction of the way through and `events[1]` `length` operations later. */
function insertEpisode(ops: Operation[], fraction: number, length: number, events: readonly [Operation, Operation]): void {
  const at = Math.max(0, Math.min(ops.length, Math.round(ops.length * fraction)));
  const end = Math.min(ops.length, at + Math.max(1, length));
  ops.splice(end, 0, events[1]);
  ops.splice(at, 0, events[0]);
}

interface Share {
  readonly target: number;
  readonly cap: number;
}

/**
 * Shares `total` operations among phases: each gets its target share, at most its capacity; what capped
 * phases leave is shared among the others by their targets. Whatever nobody can take goes to the last phase.
 */
function shareBudget<K extends string>(total: number, shares: Record<K, Share>): Record<K, number> {
  const keys = Object.keys(shares) as K[];
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  let left = total;
  let open = keys.filter((k) => shares[k].cap > 0);
  for (let round = 0; round < 8 && left > 0 && open.length > 0; round++) {
    const weight = open.reduce((acc, k) => acc + shares[k].target, 0);
    let given = 0;
    for (const k of open) {
      const want = Math.floor((left * shares[k].target) / weight);
      const take = Math.min(want, shares[k].cap - out[k]);
      out[k] += take;
      given += take;
    }
    left -= given;
    open = open.filter((k) => out[k] < shares[k].cap);
    if (given === 0) break;
  }
  const last = keys[keys.length - 1]!;
  out[last] += left;
  return out;
}

/** Largest shading amount (colour distance flats -> shaded) in a region, on a sparse grid. */
function regionShade(seg: Segmentation, region: Region, amount: Float32Array, pw: number): number {
  const [x0, y0, x1, y1] = region.box;
  const step = Math.max(1, Math.round(Math.sqrt(region.area) / 20));
  let best = 0;
  for (let y = y0; y <= y1; y += step) {
    for (let x = x0; x <= x1; x += step) {
      const i = y * pw + x;
      if (seg.labels[i] === region.label && amount[i]! > best) best = amount[i]!;
    }
  }
  return best;
}

/**
 * The lasso-and-transform habit: a region of a layer is moved and scaled for a few strokes, then settled.
 * Kept short on purpose: while a transform is active every stroke on that layer recomposites the region.
 */
function insertTransform(ops: Operation[], layer: number, region: Stamp, pw: number, ph: number, rng: Rng): void {
  const at = Math.round(ops.length * rng.range(0.6, 0.8));
  const settle = Math.min(ops.length, at + rng.int(2, 4));
  ops.splice(settle, 0, { kind: 'transform', phase: 'sketch', layer, region: null, dx: 0, dy: 0, scale: 1 });
  ops.splice(at, 0, {
    kind: 'transform',
    phase: 'sketch',
    layer,
    region,
    dx: (rng.chance(0.5) ? 1 : -1) * rng.range(0.008, 0.02) * pw,
    dy: (rng.chance(0.5) ? 1 : -1) * rng.range(0.005, 0.015) * ph,
    scale: rng.range(0.95, 1.06),
  });
}

/** An elliptical selection (for the lasso-and-transform habit) centred at (cx, cy). */
function ellipseStamp(cx: number, cy: number, rx: number, ry: number): Stamp {
  const x0 = Math.floor(cx - rx - 1);
  const y0 = Math.floor(cy - ry - 1);
  const w = Math.ceil(2 * rx + 3);
  const h = Math.ceil(2 * ry + 3);
  const alpha = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = (x + x0 - cx) / rx;
      const dy = (y + y0 - cy) / ry;
      if (dx * dx + dy * dy <= 1) alpha[y * w + x] = 255;
    }
  }
  return { x: x0, y: y0, width: w, height: h, alpha };
}

// ---------------------------------------------------------------------------------------------------
// Sketch

/**
 * Construction strokes from the coarse structure: edges of a strongly blurred image, thinned and traced,
 * simplified into a few straight-ish pencil strokes each, slightly off the final lines and overshooting
 * their ends the way loose sketching does.
 */
function sketchStrokes(a: Analysis, rng: Rng, budget: number, check: () => void): { stamp: Stamp; strength: number }[] {
  return sketchStamps(sketchPaths(a, rng, check), budget, a.scale, rng);
}

interface SketchStroke {
  readonly path: Path;
  readonly strength: number;
}

/**
 * `budget` sketch operations: the longest strokes when there are too many; when there are too few, the
 * longest shapes are gone over again with another loose line (as sketching does), right after the first.
 */
function sketchStamps(strokes: readonly SketchStroke[], budget: number, scale: number, rng: Rng): { stamp: Stamp; strength: number }[] {
  let kept: SketchStroke[] = [...strokes];
  const lengths = strokes.map((s) => pathLength(s.path));
  const ranked = lengths.map((l, k) => [l, k] as const).sort((p, q) => q[0] - p[0]);
  if (strokes.length > budget * 3) {
    const keep = new Set(ranked.slice(0, budget * 3).map(([, k]) => k));
    kept = strokes.filter((_, k) => keep.has(k));
  } else if (strokes.length < budget && strokes.length > 0) {
    // Each stroke is gone over `times[k]` times in all, the longest first.
    const times = new Array<number>(strokes.length).fill(1);
    for (let extra = 0; extra < budget - strokes.length; extra++) times[ranked[extra % ranked.length]![1]]! += 1;
    kept = [];
    strokes.forEach((st, k) => {
      kept.push(st);
      for (let t = 1; t < times[k]!; t++) kept.push({ path: looseStroke(st.path, rng), strength: st.strength * 0.8 });
    });
  }
  const radius = 0.55 + 0.12 * scale ** 0.5;
  const stamps = kept.map(({ path, strength }) => {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let k = 0; k < path.length; k += 2) {
      x0 = Math.min(x0, path[k]!);
      x1 = Math.max(x1, path[k]!);
      y0 = Math.min(y0, path[k + 1]!);
      y1 = Math.max(y1, path[k + 1]!);
    }
    const sb = new StampBuilder(x0 - 3, y0 - 3, x1 + 3, y1 + 3);
    sb.polyline(path, radius, 1.3);
    return { stamp: sb.toStamp(), strength };
  });
  return mergeStamps(stamps, budget);
}

/** Every sketch stroke worth drawing, in drawing order. */
function sketchPaths(a: Analysis, rng: Rng, check: () => void): SketchStroke[] {
  const { pw, ph, img } = a;
  const n = pw * ph;
  const sigma = Math.max(1.8, Math.max(pw, ph) / 220);
  const r = gaussianBlur(img.r, pw, ph, sigma);
  const g = gaussianBlur(img.g, pw, ph, sigma);
  const b = gaussianBlur(img.b, pw, ph, sigma);
  const mag = new Float32Array(n);
  for (let y = 1; y < ph - 1; y++) {
    for (let x = 1; x < pw - 1; x++) {
      const i = y * pw + x;
      let m = 0;
      for (const c of [r, g, b]) {
        const gx = c[i + 1]! - c[i - 1]!;
        const gy = c[i + pw]! - c[i - pw]!;
        m += gx * gx + gy * gy;
      }
      mag[i] = Math.sqrt(m);
    }
  }
  check();
  // Keep the strongest ~9% of edges: the big shapes, not texture.
  const sorted = Float32Array.from(mag).sort();
  const threshold = Math.max(6, sorted[Math.floor(n * 0.91)]!);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = mag[i]! >= threshold ? 1 : 0;
  thin(mask, pw, ph);
  check();
  const minLen = Math.max(8, Math.max(pw, ph) / 40);
  const paths = traceSkeleton(mask, pw, ph, 4)
    .map((p) => simplify(smoothPath(p, 2), 1.4))
    .filter((p) => pathLength(p) >= minLen);
  const start = subjectStart(a);
  const ordered = orderPaths(paths, () => 0, (x, y) => sample(a.subject, pw, ph, x, y), start, Math.hypot(pw, ph) * 0.2, rng);
  // Longest paths first within the order (big shapes before small), keeping neighbours together.
  const strokes: { path: Path; strength: number }[] = [];
  for (const { path } of ordered) {
    for (const s of splitIntoStrokes(path, Math.max(18, Math.max(pw, ph) / 14), rng)) {
      const passes = rng.chance(0.3) ? 2 : 1;
      for (let k = 0; k < passes; k++) strokes.push({ path: looseStroke(s, rng), strength: rng.range(0.4, 0.65) });
    }
  }
  check();
  return strokes;
}

/** Offsets a stroke sideways by a slowly varying amount and extends both ends: a sketcher's loose line. */
function looseStroke(p: Path, rng: Rng): Path {
  const m = p.length / 2;
  const off0 = rng.normal() * 1.6;
  const off1 = rng.normal() * 1.6;
  const out: Path = [];
  for (let k = 0; k < m; k++) {
    const a = Math.max(0, k - 1);
    const b = Math.min(m - 1, k + 1);
    const tx = p[2 * b]! - p[2 * a]!;
    const ty = p[2 * b + 1]! - p[2 * a + 1]!;
    const len = Math.hypot(tx, ty) || 1;
    const t = m > 1 ? k / (m - 1) : 0;
    const off = off0 + (off1 - off0) * t;
    out.push(p[2 * k]! - (ty / len) * off, p[2 * k + 1]! + (tx / len) * off);
  }
  const extend = (ix: number, jx: number, amount: number): [number, number] => {
    const dx = out[2 * ix]! - out[2 * jx]!;
    const dy = out[2 * ix + 1]! - out[2 * jx + 1]!;
    const l = Math.hypot(dx, dy) || 1;
    return [out[2 * ix]! + (dx / l) * amount, out[2 * ix + 1]! + (dy / l) * amount];
  };
  if (m >= 2) {
    const head = extend(0, 1, rng.range(1, 5));
    const tail = extend(m - 1, m - 2, rng.range(1, 5));
    return [head[0], head[1], ...out, tail[0], tail[1]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Line art

export interface LineArt {
  /** Full-resolution alpha of the input's own line pixels. */
  readonly alphaFull: Uint8Array;
  /** The same, averaged down to plan resolution, 0..1. */
  readonly alphaPlan: Float32Array;
  readonly strokes: { stamp: Stamp; strength: number }[];
}

export function lineArt(a: Analysis, rng: Rng, budget: number, check: () => void): LineArt {
  const layer = lineLayer(a);
  check();
  const paths = linePaths(a, layer.alphaPlan, rng, check);
  return { ...layer, strokes: lineStrokes(paths, budget, rng) };
}

/** The line-art layer's pixels: full-resolution alpha of the input's own line pixels, and its plan-size average. */
export function lineLayer(a: Analysis): { alphaFull: Uint8Array; alphaPlan: Float32Array } {
  const { pw, ph, lineMask, full, scale } = a;
  const n = pw * ph;
  const toLine = distanceTo(lineMask, pw, ph, 8);
  const gate = new Float32Array(n);
  for (let i = 0; i < n; i++) gate[i] = Math.max(0, Math.min(1, 2 - toLine[i]!));
  const alphaFull = fullLineAlpha(a, gate);
  const alphaPlan = new Float32Array(n);
  const count = new Float32Array(n);
  for (let y = 0; y < full.height; y++) {
    const row = Math.min(ph - 1, Math.floor(y / scale)) * pw;
    for (let x = 0; x < full.width; x++) {
      const i = row + Math.min(pw - 1, Math.floor(x / scale));
      alphaPlan[i]! += alphaFull[y * full.width + x]! / 255;
      count[i]!++;
    }
  }
  for (let i = 0; i < n; i++) alphaPlan[i]! /= count[i] || 1;
  return { alphaFull, alphaPlan };
}

export interface LinePaths {
  readonly ordered: readonly Path[];
  readonly totalLength: number;
  /** Half the line width under each plan pixel (distance to the line's edge). */
  readonly halfWidth: Float32Array;
  /** The line layer's plan-size alpha (0..1), to skip strokes with no ink under them. */
  readonly alphaPlan: Float32Array;
  readonly pw: number;
}

/** Line-art centre lines in inking order (see orderPaths). */
export function linePaths(a: Analysis, alphaPlan: Float32Array, rng: Rng, check: () => void): LinePaths {
  const { pw, ph, lineMask } = a;
  const n = pw * ph;
  const skel = lineMask.slice();
  thin(skel, pw, ph);
  check();
  const inside = new Uint8Array(n);
  for (let i = 0; i < n; i++) inside[i] = lineMask[i] ? 0 : 1;
  const halfWidth = distanceTo(inside, pw, ph, 8);
  const { labels } = labelComponents(lineMask, pw, ph);
  const paths = traceSkeleton(skel, pw, ph, 2);
  const ordered = orderPaths(
    paths,
    (p) => labels[Math.round(p[1]!) * pw + Math.round(p[0]!)] ?? 0,
    (x, y) => sample(a.subject, pw, ph, x, y),
    subjectStart(a),
    Math.hypot(pw, ph) * 0.12,
    rng,
  ).map((o) => o.path);
  check();
  let totalLength = 0;
  for (const path of ordered) totalLength += pathLength(path);
  return { ordered, totalLength, halfWidth, alphaPlan, pw };
}

/** Pen strokes along the paths, as many as the budget allows (little line art is inked in shorter strokes). */
export function lineStrokes(lp: LinePaths, budget: number, rng: Rng): { stamp: Stamp; strength: number }[] {
  const { pw, halfWidth } = lp;
  const strokes: { stamp: Stamp; strength: number }[] = [];
  const ph = lp.alphaPlan.length / pw;
  const covered = new Float32Array(lp.alphaPlan.length);
  // Above the line art's capacity (a simple drawing with a large budget) strokes get shorter still.
  const floor = budget * LINE_MIN_STROKE > lp.totalLength ? 3 : LINE_MIN_STROKE;
  const maxLen = Math.max(floor, Math.min(Math.max(24, pw / 8), lp.totalLength / Math.max(1, budget * 0.9)));
  for (const path of lp.ordered) {
    for (const s of splitIntoStrokes(path, maxLen, rng)) {
      if (!inked(s, lp)) continue;
      const radii: number[] = [];
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (let k = 0; k < s.length; k += 2) {
        const x = s[k]!;
        const y = s[k + 1]!;
        radii.push(Math.min(7, halfWidth[Math.round(y) * pw + Math.round(x)]! + 1.2));
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
      const pad = Math.max(...radii) + 3;
      const sb = new StampBuilder(x0 - pad, y0 - pad, x1 + pad, y1 + pad);
      sb.polyline(s, radii, 1);
      // Close parallel lines (hair strands) get revealed by their neighbour's pen: skip a stroke that would
      // add almost no ink, it would be an idle step.
      if (newInk(sb, covered, lp.alphaPlan, pw, ph) < 1.5) continue;
      strokes.push({ stamp: sb.toStamp(), strength: 1 });
    }
  }
  return mergeStamps(strokes, budget);
}

/** Ink (plan pixels x alpha) a stroke would reveal that is not revealed yet; records the stroke's coverage. */
function newInk(sb: StampBuilder, covered: Float32Array, ink: Float32Array, pw: number, ph: number): number {
  let gain = 0;
  for (let y = 0; y < sb.height; y++) {
    const py = y + sb.y0;
    if (py < 0 || py >= ph) continue;
    for (let x = 0; x < sb.width; x++) {
      const px = x + sb.x0;
      if (px < 0 || px >= pw) continue;
      const a = sb.alpha[y * sb.width + x]!;
      const i = py * pw + px;
      const c = covered[i]!;
      if (a > c) {
        gain += (a - c) * ink[i]!;
        covered[i] = a;
      }
    }
  }
  return gain;
}

/** Whether the line layer has ink under most of a stroke (the line mask can run where the content is faint). */
function inked(s: Path, lp: LinePaths): boolean {
  let hit = 0;
  const m = s.length / 2;
  for (let k = 0; k < s.length; k += 2) {
    const i = Math.round(s[k + 1]!) * lp.pw + Math.round(s[k]!);
    if ((lp.alphaPlan[i] ?? 0) > 0.12) hit++;
  }
  return hit >= m * 0.4;
}

/** Shortest pen stroke, in plan pixels: shorter pieces would mostly re-cover their neighbours' round caps. */
const LINE_MIN_STROKE = 6;

export function lineContent(a: Analysis, alpha: Uint8Array): RgbaImage {
  const { full } = a;
  const img = createRgba(full.width, full.height);
  const s = full.data;
  const d = img.data;
  for (let i = 0, p = 0, q = 0; i < alpha.length; i++, p += 3, q += 4) {
    const v = alpha[i]!;
    if (v === 0) continue;
    d[q] = s[p]!;
    d[q + 1] = s[p + 1]!;
    d[q + 2] = s[p + 2]!;
    d[q + 3] = v;
  }
  return img;
}

// ---------------------------------------------------------------------------------------------------
// Flats and shading

/** Regions in drawing order: main subject and big regions first, moving locally. */
function orderRegions(a: Analysis, regions: readonly Region[], rng: Rng): Region[] {
  const [sx, sy] = subjectStart(a);
  const total = a.pw * a.ph;
  const left = new Set(regions);
  const out: Region[] = [];
  let penX = sx;
  let penY = sy;
  const reach = Math.hypot(a.pw, a.ph) * 0.25;
  const jitter = new Map(regions.map((r) => [r, rng.range(0.7, 1.4)]));
  while (left.size > 0) {
    let best: Region | null = null;
    let bestScore = -Infinity;
    for (const r of left) {
      const d = Math.hypot(r.cx - penX, r.cy - penY);
      // Background regions (large, low subject weight) wait until the figure is blocked in.
      const importance = Math.sqrt(r.area / total) * (0.15 + r.subject * r.subject * 2);
      const s = (importance * jitter.get(r)!) / (1 + d / reach);
      if (s > bestScore) {
        bestScore = s;
        best = r;
      }
    }
    left.delete(best!);
    out.push(best!);
    penX = best!.cx;
    penY = best!.cy;
  }
  return out;
}

/** Splits a big region into chunks (Voronoi cells of random points inside it), filled one after another. */
function regionChunks(seg: Segmentation, region: Region, pw: number, parts: number, rng: Rng): Stamp[] {
  if (parts <= 1) return [stampFromLabel(seg.labels, region.label, pw, region.box, 1)];
  const [x0, y0, x1, y1] = region.box;
  const pts: [number, number][] = [];
  for (let tries = 0; pts.length < parts && tries < parts * 50; tries++) {
    const x = rng.int(x0, x1);
    const y = rng.int(y0, y1);
    if (seg.labels[y * pw + x] === region.label) pts.push([x, y]);
  }
  if (pts.length === 0) return [stampFromLabel(seg.labels, region.label, pw, region.box, 1)];
  // Visit cells in a chain from the first point, nearest next, like filling with a big brush.
  const order: [number, number][] = [pts[0]!];
  const rest = pts.slice(1);
  while (rest.length > 0) {
    const [lx, ly] = order[order.length - 1]!;
    let bi = 0;
    let bd = Infinity;
    rest.forEach(([x, y], k) => {
      const d = Math.hypot(x - lx, y - ly);
      if (d < bd) {
        bd = d;
        bi = k;
      }
    });
    order.push(rest.splice(bi, 1)[0]!);
  }
  // Cells grow from their seeds through the region (a breadth-first, geodesic Voronoi): O(area), and
  // each chunk follows the region's shape the way a brush fill would.
  const rw = x1 - x0 + 1;
  const rh = y1 - y0 + 1;
  const cellOf = new Int32Array(rw * rh).fill(-1);
  const queue = new Int32Array(rw * rh);
  let head = 0;
  let tail = 0;
  order.forEach(([x, y], k) => {
    const j = (y - y0) * rw + (x - x0);
    if (cellOf[j] === -1) {
      cellOf[j] = k;
      queue[tail++] = j;
    }
  });
  while (head < tail) {
    const j = queue[head++]!;
    const lx = j % rw;
    const ly = (j - lx) / rw;
    const k = cellOf[j]!;
    for (let d = 0; d < 4; d++) {
      const nx = d === 0 ? lx + 1 : d === 1 ? lx - 1 : lx;
      const ny = d === 2 ? ly + 1 : d === 3 ? ly - 1 : ly;
      if (nx < 0 || ny < 0 || nx >= rw || ny >= rh) continue;
      const nj = ny * rw + nx;
      if (cellOf[nj] !== -1 || seg.labels[(ny + y0) * pw + nx + x0] !== region.label) continue;
      cellOf[nj] = k;
      queue[tail++] = nj;
    }
  }
  // One stamp per cell, grown by one pixel so neighbouring chunks overlap and the region ends fully covered.
  const boxes = order.map(() => [Infinity, Infinity, -Infinity, -Infinity]);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const c = cellOf[(y - y0) * rw + (x - x0)]!;
      if (c < 0) continue;
      const b = boxes[c]!;
      if (x < b[0]!) b[0] = x;
      if (y < b[1]!) b[1] = y;
      if (x > b[2]!) b[2] = x;
      if (y > b[3]!) b[3] = y;
    }
  }
  const stamps: Stamp[] = [];
  for (let k = 0; k < order.length; k++) {
    const [bx0, by0, bx1, by1] = boxes[k]! as [number, number, number, number];
    if (bx0 > bx1) continue;
    const w = bx1 - bx0 + 3;
    const h = by1 - by0 + 3;
    const alpha = new Uint8Array(w * h);
    for (let y = by0; y <= by1; y++) {
      for (let x = bx0; x <= bx1; x++) {
        if (cellOf[(y - y0) * rw + (x - x0)] !== k) continue;
        for (let dy = 0; dy <= 2; dy++) for (let dx = 0; dx <= 2; dx++) alpha[(y - by0 + dy) * w + (x - bx0 + dx)] = 255;
      }
    }
    stamps.push({ x: bx0 - 1, y: by0 - 1, width: w, height: h, alpha });
  }
  return stamps;
}

interface Flats {
  readonly seg: Segmentation;
  readonly flatR: Float32Array;
  readonly flatG: Float32Array;
  readonly flatB: Float32Array;
  readonly content: RgbaImage;
}

function buildFlats(a: Analysis, seg: Segmentation, grey: boolean): Flats {
  const { pw, ph, full, scale } = a;
  const n = pw * ph;
  const colour = seg.regions.map((r) => {
    if (!grey) return r.flat;
    const l = 0.299 * r.flat[0] + 0.587 * r.flat[1] + 0.114 * r.flat[2];
    return [l, l, l] as [number, number, number];
  });
  const flatR = new Float32Array(n);
  const flatG = new Float32Array(n);
  const flatB = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = colour[seg.labels[i]! - 1]!;
    flatR[i] = c[0];
    flatG[i] = c[1];
    flatB[i] = c[2];
  }
  // Full resolution: each pixel takes, among the labels of its nearest plan pixels, the region whose mean
  // colour is closest to its own, so region borders are as crisp as the input's own edges.
  const content = createRgba(full.width, full.height);
  const d = content.data;
  const src = full.data;
  const W = full.width;
  const cand = [0, 0, 0, 0];
  for (let y = 0; y < full.height; y++) {
    const v = Math.min(ph - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const v0 = Math.floor(v);
    const v1 = Math.min(ph - 1, v0 + 1);
    for (let x = 0; x < W; x++) {
      const u = Math.min(pw - 1, Math.max(0, (x + 0.5) / scale - 0.5));
      const u0 = Math.floor(u);
      const u1 = Math.min(pw - 1, u0 + 1);
      cand[0] = seg.labels[v0 * pw + u0]!;
      cand[1] = seg.labels[v0 * pw + u1]!;
      cand[2] = seg.labels[v1 * pw + u0]!;
      cand[3] = seg.labels[v1 * pw + u1]!;
      let label = cand[0]!;
      if (cand[1] !== label || cand[2] !== label || cand[3] !== label) {
        const p = (y * W + x) * 3;
        let bd = Infinity;
        for (const l of cand) {
          const m = seg.regions[l - 1]!.mean;
          const dd = Math.abs(m[0] - src[p]!) + Math.abs(m[1] - src[p + 1]!) + Math.abs(m[2] - src[p + 2]!);
          if (dd < bd) {
            bd = dd;
            label = l;
          }
        }
      }
      const c = colour[label - 1]!;
      const q = (y * W + x) * 4;
      d[q] = c[0];
      d[q + 1] = c[1];
      d[q + 2] = c[2];
      d[q + 3] = 255;
    }
  }
  return { seg, flatR, flatG, flatB, content };
}

interface Shading {
  /** Plan-resolution shaded colour (flats + smooth light and shadow). */
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  /** How much shading each pixel gets (colour distance flats -> shaded), for ordering. */
  readonly amount: Float32Array;
  readonly content: RgbaImage;
}

/** Shaded colours = crisp flats + a smooth difference (final - flats), blurred so it reads as soft light, never patches. */
/**
 * The smooth shading offset `v`, limited to the way towards the final (`target` = final - flat): soft light
 * never overshoots the finished colour, so shading strokes always bring the canvas closer to the final.
 */
function towards(v: number, target: number): number {
  return target >= 0 ? (v < 0 ? 0 : v > target ? target : v) : v > 0 ? 0 : v < target ? target : v;
}

function buildShading(a: Analysis, flats: Flats, lineAlphaPlan: Float32Array): Shading {
  const { pw, ph, img, full, scale } = a;
  const n = pw * ph;
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) weight[i] = 1 - Math.min(1, lineAlphaPlan[i]! * 1.5);
  // Soft enough to read as airbrushed light and shadow; crisp detail is left for the rendering pass.
  const sigma = Math.max(1.5, Math.max(pw, ph) / 110);
  const planes: Float32Array[] = [];
  const flatPlanes = [flats.flatR, flats.flatG, flats.flatB];
  const finals = [img.r, img.g, img.b];
  const diffs = [0, 1, 2].map((c) => {
    const diff = new Float32Array(n);
    for (let i = 0; i < n; i++) diff[i] = finals[c]![i]! - flatPlanes[c]![i]!;
    return diff;
  });
  const deltas = maskedBlurPlanes(diffs, weight, pw, ph, sigma);
  for (let c = 0; c < 3; c++) {
    const diff = diffs[c]!;
    const smooth = deltas[c]!;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = flatPlanes[c]![i]! + towards(smooth[i]!, diff[i]!);
    planes.push(out);
  }
  const amount = new Float32Array(n);
  for (let i = 0; i < n; i++) amount[i] = Math.abs(deltas[0]![i]!) + Math.abs(deltas[1]![i]!) + Math.abs(deltas[2]![i]!);
  const content = createRgba(full.width, full.height);
  const d = content.data;
  const f = flats.content.data;
  const src = full.data;
  for (let c = 0; c < 3; c++) {
    forEachUpsampled(deltas[c]!, pw, ph, full.width, full.height, scale, (i, v) => {
      const q = i * 4;
      const flat = f[q + c]!;
      d[q + c] = flat + towards(v, src[i * 3 + c]! - flat) + 0.5;
    });
  }
  for (let q = 3; q < d.length; q += 4) d[q] = 255;
  return { r: planes[0]!, g: planes[1]!, b: planes[2]!, amount, content };
}

function shadingStamps(
  a: Analysis,
  seg: Segmentation,
  order: readonly Region[],
  amount: Float32Array,
  blobBudget: number,
  rng: Rng,
  check: () => void,
): Stamp[] {
  const { pw, ph } = a;
  const total = pw * ph;
  const out: Stamp[] = [];
  const left = amount.slice();
  for (const region of order) {
    check();
    const [x0, y0, x1, y1] = region.box;
    const blobs = Math.min(8, Math.round((blobBudget * region.area) / total));
    for (let k = 0; k < blobs; k++) {
      // The strongest remaining light or shadow in the region, sampled on a sparse grid.
      let bx = -1;
      let by = -1;
      let bv = 0;
      const stepPx = Math.max(1, Math.round(Math.sqrt(region.area) / 24));
      for (let y = y0; y <= y1; y += stepPx) {
        for (let x = x0; x <= x1; x += stepPx) {
          const i = y * pw + x;
          if (seg.labels[i] !== region.label) continue;
          if (left[i]! > bv) {
            bv = left[i]!;
            bx = x;
            by = y;
          }
        }
      }
      if (bx < 0 || bv < 6) break;
      const radius = Math.sqrt(region.area) * rng.range(0.22, 0.38);
      const sb = new StampBuilder(Math.max(x0 - 1, bx - radius * 1.6), Math.max(y0 - 1, by - radius * 1.6), Math.min(x1 + 1, bx + radius * 1.6), Math.min(y1 + 1, by + radius * 1.6));
      // Airbrush: a soft round falloff, clipped to the region (as with a clipping mask or a selection).
      for (let y = 0; y < sb.height; y++) {
        for (let x = 0; x < sb.width; x++) {
          const px = x + sb.x0;
          const py = y + sb.y0;
          if (px < 0 || py < 0 || px >= pw || py >= ph || seg.labels[py * pw + px] !== region.label) continue;
          const d2 = ((px - bx) ** 2 + (py - by) ** 2) / (radius * radius);
          const v = Math.exp(-d2 * 2.2);
          sb.alpha[y * sb.width + x] = v < 0.02 ? 0 : v;
          left[py * pw + px]! *= 1 - v;
        }
      }
      out.push(sb.toStamp());
    }
    // Then the whole region, in pieces for big ones: one operation never spans a huge area (slow to
    // scrub, and a single step that shades half the canvas reads as a fade, not a stroke).
    // Pieces with no visible shading under them would be idle steps: the flats already show them.
    for (const chunk of regionChunks(seg, region, pw, Math.max(1, Math.ceil(region.area / (total * 0.03))), rng)) {
      if (maxUnder(chunk, amount, pw, ph) >= 6) out.push(chunk);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Styles

function* planLineBased(a: Analysis, rng: Rng, check: () => void, mono: boolean): Generator<PlanProgress, Plan, void> {
  const { pw, ph, full } = a;
  const W = full.width;
  const H = full.height;
  const SKETCH = 0;
  const FLATS = 1;
  const SHADING = 2;
  const LINES = 3;
  const RENDER = 4;

  const total = pw * ph;
  const n = total;
  // Everything a phase could draw first; the operation budget is shared out afterwards.
  const sketchAll = sketchPaths(a, rng.fork(1), check);
  yield { stage: 'planning', fraction: 0.25, message: 'sketch' };
  const lineLayerPixels = lineLayer(a);
  check();
  const paths = linePaths(a, lineLayerPixels.alphaPlan, rng.fork(2), check);
  yield { stage: 'planning', fraction: 0.4, message: 'line art' };

  const seg = segment(a, { step: 9, spread: 30, minFraction: 0.0006, useLines: true }, check);
  yield { stage: 'planning', fraction: 0.5, message: `${seg.regions.length} regions` };
  const flats = buildFlats(a, seg, mono);
  const shading = buildShading(a, flats, lineLayerPixels.alphaPlan);
  yield { stage: 'planning', fraction: 0.6, message: 'flats and shading' };

  // Rendering: what is left between the shaded, inked canvas and the final.
  const error = new Float32Array(n);
  const la = lineLayerPixels.alphaPlan;
  for (let i = 0; i < n; i++) {
    const t = la[i]!;
    const pr = shading.r[i]! * (1 - t) + a.img.r[i]! * t;
    const pg = shading.g[i]! * (1 - t) + a.img.g[i]! * t;
    const pb = shading.b[i]! * (1 - t) + a.img.b[i]! * t;
    error[i] = Math.abs(pr - a.img.r[i]!) + Math.abs(pg - a.img.g[i]!) + Math.abs(pb - a.img.b[i]!);
  }
  // Seeds follow coherent error (a missing highlight, a strand), not single noisy pixels that would read as dust.
  const smoothError = gaussianBlur(error, pw, ph, 2);
  let errorArea = 0;
  for (let i = 0; i < n; i++) if (smoothError[i]! > 10) errorArea++;
  const shadedRegions = seg.regions.filter((r) => r.area > 0 && regionShade(seg, r, shading.amount, pw) > 10);

  // Budgets: target shares of the operations, capped by what each phase can draw without idle strokes
  // (a simple image gets more, shorter line strokes and more fill chunks instead of invisible rendering).
  // transform (2), sketch opacity (2), sketch toggle (2), sketch hide (1), flip (2), curve set (1),
  // line-art toggle (2, not for ink and monochrome work: without its lines the drawing would vanish),
  // second flip (2), curve settle (4).
  const events = mono ? 16 : 18;
  const available = OPERATION_COUNT - events;
  const capacity = {
    // Loose sketching goes over the same shapes more than once.
    sketch: sketchAll.length * 2,
    lines: Math.floor(paths.totalLength / LINE_MIN_STROKE),
    flats: seg.regions.reduce(
      (acc, r) =>
        acc + (Math.min(r.flat[0], r.flat[1], r.flat[2]) < 250 && !(mono && luma(r.flat) < 60) ? Math.min(80, Math.max(1, Math.floor(r.area / (total * 0.0005)))) : 0),
      0,
    ),
    shading: shadedRegions.reduce((acc, r) => acc + 1 + Math.min(8, Math.floor(r.area / (total * 0.003))), 0),
    rendering: Math.max(20, Math.ceil(errorArea / 80) + 15),
  };
  const budgets = shareBudget(available, {
    sketch: { target: rng.range(0.09, 0.12), cap: capacity.sketch },
    lines: { target: rng.range(0.24, 0.28), cap: capacity.lines },
    flats: { target: rng.range(0.2, 0.24), cap: capacity.flats },
    shading: { target: rng.range(0.13, 0.17), cap: capacity.shading },
    rendering: { target: 0.26, cap: capacity.rendering },
  });
  // A simple image cannot use its rendering share: rather than invisible rendering strokes, ink with
  // shorter strokes, fill in smaller chunks and go over the sketch once more.
  const surplus = budgets.rendering - capacity.rendering;
  if (surplus > 0) {
    budgets.lines += Math.floor(surplus * 0.45);
    budgets.flats += Math.floor(surplus * 0.4);
    budgets.sketch += Math.floor(surplus * 0.15);
  }

  let sketch = sketchStamps(sketchAll, budgets.sketch, a.scale, rng.fork(8));
  const lines = { ...lineLayerPixels, strokes: lineStrokes(paths, budgets.lines, rng.fork(7)) };
  // Paper-white regions are left unpainted, as an artist leaves the background paper.
  // In ink work, solid blacks are spotted with the ink, not painted as a value study.
  const painted = seg.regions.filter((r) => Math.min(r.flat[0], r.flat[1], r.flat[2]) < 250 && !(mono && luma(r.flat) < 60));
  const order = orderRegions(a, painted, rng.fork(3));
  const flatStamps: Stamp[] = [];
  // Big regions are filled in several brush-sized chunks, so colour spreads over the canvas gradually.
  const paintedArea = painted.reduce((acc, r) => acc + r.area, 0) || 1;
  const extraParts = Math.max(0, budgets.flats - painted.length);
  for (const region of order) {
    const parts = Math.min(200, 1 + Math.floor((extraParts * region.area) / paintedArea));
    flatStamps.push(...regionChunks(seg, region, pw, parts, rng));
  }
  const flatOps = mergeStamps(flatStamps.map((s) => ({ stamp: s, strength: 1 })), budgets.flats);
  check();
  const shadeOrder = orderRegions(a, shadedRegions, rng.fork(4));
  const shadeStamps = shadingStamps(a, seg, shadeOrder, shading.amount, Math.max(0, budgets.shading - shadedRegions.length), rng.fork(5), check);
  const shadeOps = mergeStamps(shadeStamps.map((s) => ({ stamp: s, strength: 1 })), budgets.shading);
  yield { stage: 'planning', fraction: 0.7, message: 'shading' };

  // Steps the drawing phases could not use would become invisible rendering strokes: the sketch takes
  // them instead (more passes over its shapes, as loose sketching does).
  const spare = available - sketch.length - lines.strokes.length - flatOps.length - shadeOps.length - capacity.rendering;
  if (spare > 0 && sketchAll.length > 0) sketch = sketchStamps(sketchAll, sketch.length + spare, a.scale, rng.fork(9));
  const renderBudget = available - sketch.length - lines.strokes.length - flatOps.length - shadeOps.length;
  const painter = new BrushPainter(pw, ph, RENDER, smoothError, flowField(a.lum, pw, ph), rng.fork(6), subjectStart(a));
  const renderOps = renderPasses(painter, renderBudget, 'rendering', Math.max(pw, ph), check);
  yield { stage: 'planning', fraction: 0.9, message: 'rendering' };

  // Assemble, with the human habits interleaved.
  const sketchOps: Operation[] = sketch.map((s) => reveal(SKETCH, 'sketch', 'pencil', s));
  const [hx, hy] = subjectStart(a);
  const selection = ellipseStamp(hx, hy + ph * 0.1, pw * rng.range(0.07, 0.11), ph * rng.range(0.06, 0.09));
  insertTransform(sketchOps, SKETCH, selection, pw, ph, rng);

  const lineOps: Operation[] = lines.strokes.map((s) => reveal(LINES, 'lineart', 'pen', s));
  insertEpisode(lineOps, rng.range(0.45, 0.6), rng.int(12, 25), [
    { kind: 'flip', phase: 'lineart', flipped: true },
    { kind: 'flip', phase: 'lineart', flipped: false },
  ]);
  insertAt(lineOps, rng.range(0.65, 0.8), { kind: 'opacity', phase: 'lineart', layer: SKETCH, opacity: 0.3 });
  // The inker hides the sketch for a while to judge the lines alone, then brings it back.
  insertEpisode(lineOps, rng.range(0.25, 0.4), rng.int(40, 60), [
    { kind: 'visibility', phase: 'lineart', layer: SKETCH, visible: false },
    { kind: 'visibility', phase: 'lineart', layer: SKETCH, visible: true },
  ]);
  lineOps.unshift({ kind: 'opacity', phase: 'lineart', layer: SKETCH, opacity: 0.55 });
  lineOps.push({ kind: 'visibility', phase: 'lineart', layer: SKETCH, visible: false });

  const flatPhase: Phase = mono ? 'values' : 'flats';
  const startCurve: Curve = {
    contrast: rng.range(0.86, 0.94),
    saturation: mono ? 1 : rng.range(0.8, 0.9),
    lift: rng.range(0.03, 0.1),
    warmth: mono ? 0 : rng.range(-0.15, 0.15),
  };
  const flatOpsAll: Operation[] = [
    ...flatOps.map((s) => reveal(FLATS, flatPhase, 'bucket', s)),
  ];
  const shadePhase: Phase = mono ? 'values' : 'shading';
  const shadeOpsAll: Operation[] = shadeOps.map((s) => reveal(SHADING, shadePhase, 'airbrush', s));
  // Lines off for a while to check the colours alone (long enough to read as a choice, not a blink).
  const colourOps = [...flatOpsAll, ...shadeOpsAll];
  if (!mono) insertEpisode(colourOps, rng.range(0.35, 0.55), Math.min(Math.floor(colourOps.length * 0.4), rng.int(40, 60)), [
    { kind: 'visibility', phase: flatPhase, layer: LINES, visible: false },
    { kind: 'visibility', phase: flatPhase, layer: LINES, visible: true },
  ]);

  // The colours are slightly off (flat, dull) through the rendering until the final levels tweak settles
  // them. Set only here: a non-identity curve costs every frame a full-canvas pass in the renderer.
  const renderAll: Operation[] = [{ kind: 'curve', phase: 'rendering', curve: startCurve }, ...renderOps];
  insertEpisode(renderAll, rng.range(0.3, 0.6), rng.int(8, 16), [
    { kind: 'flip', phase: 'rendering', flipped: true },
    { kind: 'flip', phase: 'rendering', flipped: false },
  ]);
  const finish: Operation[] = curveSettle(startCurve, 4);

  const ops = [...sketchOps, ...lineOps, ...colourOps, ...renderAll, ...finish];
  const layers: LayerSpec[] = [
    { id: 'sketch', name: 'Sketch', blend: 'normal', content: solidContent(W, H, SKETCH_INK), initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: mono ? 'values' : 'flats', name: mono ? 'Values' : 'Flats', blend: 'normal', content: flats.content, initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'shading', name: mono ? 'Value shading' : 'Shading', blend: 'normal', content: shading.content, initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'lineart', name: 'Line art', blend: 'normal', content: lineContent(a, lines.alphaFull), initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'rendering', name: 'Rendering', blend: 'normal', content: inputContent(a), initiallyVisible: true, initialOpacity: 1, exported: true },
  ];
  return { layers, ops };
}

function* planPainterly(a: Analysis, rng: Rng, check: () => void): Generator<PlanProgress, Plan, void> {
  const { pw, ph, full, img } = a;
  const W = full.width;
  const H = full.height;
  const SKETCH = 0;
  const BLOCK = 1;
  const REFINE = 2;
  const RENDER = 3;
  const n = pw * ph;
  const long = Math.max(pw, ph);

  const sketchBudget = rng.int(60, 85);
  const sketch = sketchStrokes(a, rng.fork(1), sketchBudget, check);
  yield { stage: 'planning', fraction: 0.3, message: 'sketch' };

  // Block-in: big colour masses (a heavy blur); refinement: medium blur; rendering: the input.
  const blockSigma = long / 60;
  const refineSigma = long / 200;
  const blk = [img.r, img.g, img.b].map((c) => gaussianBlur(c, pw, ph, blockSigma));
  const ref = [img.r, img.g, img.b].map((c) => gaussianBlur(c, pw, ph, refineSigma));
  check();
  /** Colour distance between `planes` and what the canvas shows (`base` where `cover` says so, else paper). */
  const errTo = (planes: Float32Array[], base: Float32Array[] | null, cover: Float32Array | null): Float32Array => {
    const e = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = cover ? cover[i]! : base ? 1 : 0;
      let s = 0;
      for (let ch = 0; ch < 3; ch++) {
        const shown = base ? base[ch]![i]! * c + 255 * (1 - c) : 255;
        s += Math.abs(planes[ch]![i]! - shown);
      }
      e[i] = s + 1;
    }
    return e;
  };
  const flow = flowField(a.lum, pw, ph);
  const start = subjectStart(a);
  const blockBudget = rng.int(220, 260);
  // Sized so the block-in covers the canvas (with the overlap strokes have) over its whole budget (a stroke covers ~14 r^2).
  const blockRadius = Math.sqrt((2.2 * n) / (14 * blockBudget));
  // Block-in only needs the canvas mostly covered (the layers above complete it).
  const blockPainter = new BrushPainter(pw, ph, BLOCK, errTo(blk, null, null), flow, rng.fork(2), start, 170);
  const blockOps = blockPainter.pass({
    count: blockBudget,
    phase: 'blockin',
    tool: 'brush',
    radius: [blockRadius * 0.8, blockRadius * 1.25],
    length: [blockRadius * 3, blockRadius * 6],
    seek: 'cover',
    feather: blockRadius / 2,
    check,
  });
  yield { stage: 'planning', fraction: 0.5, message: 'block-in' };
  const refineBudget = rng.int(230, 270);
  const refinePainter = new BrushPainter(pw, ph, REFINE, gaussianBlur(errTo(ref, blk, blockPainter.coverage), pw, ph, 2), flow, rng.fork(3), start);
  const refineOps = refinePainter.pass({
    count: refineBudget,
    phase: 'shading',
    tool: 'brush',
    radius: [blockRadius * 0.4, blockRadius * 0.7],
    length: [blockRadius * 2, blockRadius * 4],
    seek: 'error',
    feather: blockRadius / 4,
    check,
  });
  yield { stage: 'planning', fraction: 0.7, message: 'refinement' };

  const shownAfterRefine = [0, 1, 2].map((ch) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const cb = blockPainter.coverage[i]!;
      const cr = refinePainter.coverage[i]!;
      const under = blk[ch]![i]! * cb + 255 * (1 - cb);
      out[i] = ref[ch]![i]! * cr + under * (1 - cr);
    }
    return out;
  });
  // transform (2), sketch opacity (1), curve set (1), flip (2), sketch hide (1), peek (2), curve settle (4).
  const events = 13;
  const renderBudget = OPERATION_COUNT - events - sketch.length - blockOps.length - refineOps.length;
  const renderPainter = new BrushPainter(pw, ph, RENDER, gaussianBlur(errTo([img.r, img.g, img.b], shownAfterRefine, null), pw, ph, 1), flow, rng.fork(4), start);
  const renderOps = renderPasses(renderPainter, renderBudget, 'rendering', long, check);
  yield { stage: 'planning', fraction: 0.9, message: 'rendering' };

  const sketchOps: Operation[] = sketch.map((s) => reveal(SKETCH, 'sketch', 'pencil', s));
  const [hx, hy] = start;
  const selection = ellipseStamp(hx, hy + ph * 0.1, pw * rng.range(0.07, 0.11), ph * rng.range(0.06, 0.09));
  insertTransform(sketchOps, SKETCH, selection, pw, ph, rng);
  const startCurve: Curve = { contrast: rng.range(0.86, 0.94), saturation: rng.range(0.8, 0.9), lift: rng.range(0.03, 0.1), warmth: rng.range(-0.15, 0.15) };
  const blockAll: Operation[] = [
    { kind: 'opacity', phase: 'blockin', layer: SKETCH, opacity: 0.5 },
    ...blockOps,
  ];
  insertEpisode(blockAll, rng.range(0.4, 0.7), rng.int(10, 20), [
    { kind: 'flip', phase: 'blockin', flipped: true },
    { kind: 'flip', phase: 'blockin', flipped: false },
  ]);
  const refineAll: Operation[] = [...refineOps];
  // Painters switch the sketch off for a while early in the block-in to judge the masses, bring it back,
  // and hide it for good once the masses carry the drawing. (Hiding the layer being painted would make
  // its strokes invisible: idle steps.)
  insertAt(refineAll, 0.05, { kind: 'visibility', phase: 'shading', layer: SKETCH, visible: false });
  insertEpisode(blockAll, rng.range(0.15, 0.3), rng.int(40, 60), [
    { kind: 'visibility', phase: 'blockin', layer: SKETCH, visible: false },
    { kind: 'visibility', phase: 'blockin', layer: SKETCH, visible: true },
  ]);
  const ops = [...sketchOps, ...blockAll, ...refineAll, { kind: 'curve', phase: 'rendering', curve: startCurve } as Operation, ...renderOps, ...curveSettle(startCurve, 4)];
  const layers: LayerSpec[] = [
    { id: 'sketch', name: 'Sketch', blend: 'normal', content: solidContent(W, H, SKETCH_INK), initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'blockin', name: 'Block-in', blend: 'normal', content: upsampledContent(a, blk[0]!, blk[1]!, blk[2]!), initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'refinement', name: 'Refinement', blend: 'normal', content: upsampledContent(a, ref[0]!, ref[1]!, ref[2]!), initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'rendering', name: 'Rendering', blend: 'normal', content: inputContent(a), initiallyVisible: true, initialOpacity: 1, exported: true },
  ];
  return { layers, ops };
}

/**
 * The rendering phase in three passes: broad strokes where the canvas is already close (a unifying
 * pass that covers the canvas quietly), fine strokes where the error is largest, then a clean-up of
 * whatever is not fully covered; a last operation covers the remainder so step 0 is exact.
 */
export function renderPasses(painter: BrushPainter, budget: number, phase: Phase, long: number, check: () => void): RevealOperation[] {
  const cleanup = Math.max(8, Math.round(budget * 0.2));
  const detail = budget - 1 - cleanup;
  const ops: RevealOperation[] = [];
  ops.push(
    ...painter.pass({ count: detail, phase, tool: 'brush', radius: [long / 200, long / 90], length: [long / 40, long / 14], seek: 'error', feather: 1.5, check }),
  );
  // Size the clean-up brush so its strokes can cover what is left.
  const undone = painter.undoneCount;
  const r = Math.max(long / 100, Math.min(long / 14, Math.sqrt(undone / Math.max(1, cleanup) / 5)));
  ops.push(...painter.pass({ count: cleanup, phase, tool: 'brush', radius: [r * 0.8, r * 1.3], length: [r * 3, r * 6], seek: 'cover', feather: 2, check }));
  const residual = painter.residualStamp();
  ops.push({
    kind: 'reveal',
    phase,
    layer: painter.layer,
    // Nothing left to cover: repeat a tiny dab (a last check stroke) rather than an empty operation.
    stamp: residual ?? { x: 0, y: 0, width: 1, height: 1, alpha: new Uint8Array([255]) },
    strength: 1,
    tool: 'brush',
  });
  return ops;
}

/** Eases the global curve back to identity: the final levels tweak that makes the colours land. */
function curveSettle(from: Curve, count: number): Operation[] {
  const out: Operation[] = [];
  for (let k = 1; k <= count; k++) {
    const t = k / count;
    const lerp = (x: number, y: number): number => x + (y - x) * t;
    const curve: Curve =
      k === count
        ? IDENTITY_CURVE
        : {
            contrast: lerp(from.contrast, 1),
            saturation: lerp(from.saturation, 1),
            lift: lerp(from.lift, 0),
            warmth: lerp(from.warmth, 0),
          };
    out.push({ kind: 'curve', phase: 'finish', curve });
  }
  return out;
}
