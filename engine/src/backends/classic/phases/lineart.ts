/**
 * Line art: the line layer's content is the input's own dark line pixels (so weight and colour match the
 * final exactly); pen strokes along the traced centre lines reveal it, in inking order (subject first,
 * big contours first, the pen staying local).
 */
import { subjectStart, type Analysis } from '../analyse.js';
import { mergeStamps } from '../budget.js';
import { lineAlpha, lineArtContent } from '../content.js';
import { orderPaths, pathLength, splitIntoStrokes, traceSkeleton, type Path } from '../lines.js';
import { distanceTo, labelComponents, sample, StampBuilder, thin } from '../raster.js';
import type { Rng } from '../rng.js';
import { visibleMarks } from '../pacing.js';
import { CLEAR_CHANGE, deltaE } from '../../../core/visibility.js';
import type { Mark, PhaseWork } from './phase.js';

/** Shortest pen stroke, in plan pixels: shorter pieces would mostly re-cover their neighbours' round caps. */
const LINE_MIN_STROKE = 6;

export interface LineArtPhase extends PhaseWork {
  /** Where line alpha may be non-zero (the line mask, dilated), plan resolution, 0..1. */
  readonly gate: Float32Array;
  /** The line layer's alpha averaged down to plan resolution, 0..1. */
  readonly alphaPlan: Float32Array;
  readonly paths: LinePaths;
}

/** Needs the line mask (where the lines are), the full image (their exact pixels) and the subject. */
export function prepareLineArt(a: Analysis, rng: Rng, check: () => void): LineArtPhase {
  const layer = lineLayer(a);
  check();
  const paths = linePaths(a, layer.alphaPlan, rng, check);
  return {
    ...layer,
    paths,
    // As many strokes as the lines can fill, each long enough to show: sparse pen work on a big canvas
    // is inked in fewer, longer strokes, not in dabs that change too little for a timelapse frame.
    capacity: Math.floor(Math.min(paths.totalLength / LINE_MIN_STROKE, visibleMarks(visibleInk(a, layer.alphaPlan), 0, a.pw * a.ph))),
    content: () => lineArtContent({ pw: a.pw, ph: a.ph, gate: layer.gate, contrast: a.contrast }),
    propose: (budget, r) => lineStrokes(paths, budget, r),
  };
}

/**
 * The line-art layer: where its ink can be (the gate) and its alpha averaged to plan resolution, measured
 * on the analysis' detail image (the input itself up to twice the plan size, so the measure costs the same
 * for a 4096 px canvas as for a 1024 px one).
 */
export function lineLayer(a: Analysis): { gate: Float32Array; alphaPlan: Float32Array } {
  const { pw, ph, lineMask, detail: art, detailScale: scale } = a;
  const n = pw * ph;
  const toLine = distanceTo(lineMask, pw, ph, 8);
  const gate = new Float32Array(n);
  for (let i = 0; i < n; i++) gate[i] = Math.max(0, Math.min(1, 2 - toLine[i]!));
  const alpha = lineAlpha(art, gate, pw, ph, scale, a.contrast);
  const alphaPlan = new Float32Array(n);
  const count = new Float32Array(n);
  for (let y = 0; y < art.height; y++) {
    const row = Math.min(ph - 1, Math.floor(y / scale)) * pw;
    for (let x = 0; x < art.width; x++) {
      const i = row + Math.min(pw - 1, Math.floor(x / scale));
      alphaPlan[i]! += alpha[y * art.width + x]! / 255;
      count[i]!++;
    }
  }
  for (let i = 0; i < n; i++) alphaPlan[i]! /= count[i] || 1;
  return { gate, alphaPlan };
}

/**
 * Plan pixels where the line layer's ink changes white paper clearly (CLEAR_CHANGE): what a viewer sees
 * the pen lay down. The ink's colour is taken as the plan pixel's, at the line's plan-size alpha (a pixel
 * the line only grazes changes little).
 */
function visibleInk(a: Analysis, alphaPlan: Float32Array): number {
  const { r, g, b } = a.img;
  let count = 0;
  for (let i = 0; i < alphaPlan.length; i++) {
    const k = alphaPlan[i]!;
    if (k > 0 && deltaE(255, 255, 255, 255 - k * (255 - r[i]!), 255 - k * (255 - g[i]!), 255 - k * (255 - b[i]!)) >= CLEAR_CHANGE) count++;
  }
  return count;
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
export function lineStrokes(lp: LinePaths, budget: number, rng: Rng): Mark[] {
  const { pw, halfWidth } = lp;
  const strokes: Mark[] = [];
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
