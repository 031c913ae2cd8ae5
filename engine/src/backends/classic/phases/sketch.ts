/**
 * Sketch: construction strokes from the coarse structure. Edges of a strongly blurred image are thinned
 * and traced, simplified into a few straight-ish pencil strokes each, slightly off the final lines and
 * overshooting their ends the way loose sketching does.
 */
import { solidContent } from '../../../core/content.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { mergeStamps } from '../budget.js';
import { orderPaths, pathLength, simplify, smoothPath, splitIntoStrokes, traceSkeleton, type Path } from '../lines.js';
import { gaussianBlur, planeQuantile, sample, StampBuilder, thin } from '../raster.js';
import type { Rng } from '../rng.js';
import type { Mark, PhaseWork } from './phase.js';

/** Pencil colour of the sketch layer. */
export const SKETCH_INK: readonly [number, number, number] = [88, 92, 108];

export interface SketchPhase extends PhaseWork {
  /** Every stroke worth drawing, in drawing order (before fitting to a budget). */
  readonly strokes: readonly SketchStroke[];
}

/** Needs the plan image (its blurred edges) and the subject (where to start). */
export function prepareSketch(a: Analysis, rng: Rng, check: () => void): SketchPhase {
  const strokes = sketchPaths(a, rng, check);
  return {
    strokes,
    // Loose sketching goes over the same shapes more than once.
    capacity: strokes.length * 2,
    content: () => solidContent({ rgb: SKETCH_INK }),
    propose: (budget, r) => sketchStamps(strokes, budget, a.scale, r),
  };
}

export interface SketchStroke {
  readonly path: Path;
  readonly strength: number;
}

/**
 * `budget` sketch operations: the longest strokes when there are too many; when there are too few, the
 * longest shapes are gone over again with another loose line (as sketching does), right after the first,
 * each pass searching a little wider (looseStroke).
 */
export function sketchStamps(strokes: readonly SketchStroke[], budget: number, scale: number, rng: Rng): Mark[] {
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
      for (let t = 1; t < times[k]!; t++) kept.push({ path: looseStroke(st.path, rng, t), strength: st.strength * 0.8 });
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
export function sketchPaths(a: Analysis, rng: Rng, check: () => void): SketchStroke[] {
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
      const rx = r[i + 1]! - r[i - 1]!;
      const ry = r[i + pw]! - r[i - pw]!;
      const gx = g[i + 1]! - g[i - 1]!;
      const gy = g[i + pw]! - g[i - pw]!;
      const bx = b[i + 1]! - b[i - 1]!;
      const by = b[i + pw]! - b[i - pw]!;
      mag[i] = Math.sqrt(rx * rx + ry * ry + (gx * gx + gy * gy) + (bx * bx + by * by));
    }
  }
  check();
  // Keep the strongest ~9% of edges: the big shapes, not texture.
  const threshold = Math.max(6, planeQuantile(mag, 0.91));
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
  const strokes: SketchStroke[] = [];
  for (const { path } of ordered) {
    for (const s of splitIntoStrokes(path, Math.max(18, Math.max(pw, ph) / 14), rng)) {
      const passes = rng.chance(0.3) ? 2 : 1;
      for (let k = 0; k < passes; k++) strokes.push({ path: looseStroke(s, rng, 1), strength: rng.range(0.4, 0.65) });
    }
  }
  check();
  return strokes;
}

/**
 * Offsets a stroke sideways by a slowly varying amount and extends both ends: a sketcher's loose line.
 * Going over a shape again (`pass` 2, 3, ...), the line searches a little wider each time (the spread
 * grows with the square root of the pass), so every pass lays new pencil beside the earlier ones rather
 * than retracing them, and still shows in a timelapse frame.
 */
function looseStroke(p: Path, rng: Rng, pass: number): Path {
  const m = p.length / 2;
  const spread = 1.6 * Math.sqrt(pass);
  const off0 = rng.normal() * spread;
  const off1 = rng.normal() * spread;
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
