/**
 * Flats (values in monochrome work): one flat colour per region of the segmentation, filled mass by
 * mass (masses.ts: a gradient's bands together; the subject first, the pen staying local), big regions in broad strokes or chunks so colour
 * spreads over the canvas gradually (region-fill.ts). Paper-white regions are left unpainted, as an
 * artist leaves the paper; in ink work, solid blacks are spotted with the ink, not painted as a value study.
 */
import type { Stamp } from '../../../core/timeline.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { mergeStamps } from '../budget.js';
import { flatsContent, held, type FlatsRecipe, type ValueHold } from '../content.js';
import { CLEAR_CHANGE, deltaE, JND } from '../../../core/visibility.js';
import { visibleMarks } from '../pacing.js';
import type { Rng } from '../rng.js';
import type { Region, Segmentation } from '../segment.js';
import { joinMasses } from './masses.js';
import { fillChunks } from './region-fill.js';
import type { PhaseWork } from './phase.js';

export interface FlatsPhase extends PhaseWork {
  readonly flats: Flats;
  /** Labels of the regions the flats paint (the others are left as paper). */
  readonly painted: ReadonlySet<number>;
}

export function luma(c: readonly [number, number, number]): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/**
 * Regions whose base colour is the paper's are left unpainted, as an artist leaves the paper (painting
 * white on white changes nothing but the sketch); any other region is filled, however light.
 */
export function paper(r: Region): boolean {
  return Math.min(...r.flat) >= 250;
}

/**
 * Smallest fill, as a share of the canvas: a flat is laid in strokes a brush or bucket would make, and a
 * frame of a timelapse (about ten operations) should show it, even a pale colour on white paper.
 */
const MIN_FILL = 0.008;

/** Operations a region's fill can take: one, or chunks of at least MIN_FILL of the canvas. */
function maxParts(r: Region, total: number): number {
  return Math.max(1, Math.floor(r.area / (total * MIN_FILL)));
}

/** Pixels of a mass whose held flat colour differs from white paper clearly (CLEAR_CHANGE) and noticeably (JND). */
function visibleFill(mass: Region, members: readonly number[][], seg: Segmentation, hold: ValueHold): { clear: number; noticeable: number } {
  let clear = 0;
  let noticeable = 0;
  for (const label of members[mass.label - 1]!) {
    const r = seg.regions[label - 1]!;
    const dE = deltaE(255, 255, 255, held(r.flat[0], 0, hold), held(r.flat[1], 1, hold), held(r.flat[2], 2, hold));
    if (dE >= CLEAR_CHANGE) clear += r.area;
    if (dE >= JND) noticeable += r.area;
  }
  return { clear, noticeable };
}

/**
 * Needs the segmentation (regions and their base colours); `grey` paints values instead of colours;
 * `hold`, how far the layer shows its colours (what a viewer sees each fill change).
 */
export function prepareFlats(a: Analysis, seg: Segmentation, grey: boolean, hold: ValueHold): FlatsPhase {
  const { pw, ph } = a;
  const total = pw * ph;
  const flats = buildFlats(a, seg, grey);
  const painted = seg.regions.filter((r) => !paper(r) && !(grey && luma(r.flat) < 60));
  const paintedLabels = new Set(painted.map((r) => r.label));
  // Fills lay in masses (a gradient's bands together), each pixel showing its own region's colour.
  const masses = joinMasses(seg, a.img, pw, paintedLabels);
  const paintedMasses = masses.regions.filter((m) => paintedLabels.has(masses.members[m.label - 1]![0]!));
  return {
    flats,
    painted: paintedLabels,
    // Fills that show: a mass is laid in as many strokes as its size allows, and as each can make visible
    // (a pale value on white paper, held back, changes little: it takes few operations).
    capacity: paintedMasses.reduce((acc, m) => {
      const { clear, noticeable } = visibleFill(m, masses.members, seg, hold);
      return acc + Math.min(maxParts(m, total), visibleMarks(clear, noticeable, total));
    }, 0),
    content: () => flatsContent(flats.recipe),
    propose(budget, rng) {
      const order = withEnclosed(orderRegions(a, paintedMasses, rng.fork(3)), masses, pw);
      const stamps: Stamp[] = [];
      const paintedArea = paintedMasses.reduce((acc, r) => acc + r.area, 0) || 1;
      const extraParts = Math.max(0, budget - paintedMasses.length);
      // Fills grow into paper and into masses already painted, never into one still white.
      const covered = new Uint8Array(masses.regions.length + 1);
      for (const m of masses.regions) if (!paintedMasses.includes(m)) covered[m.label] = 1;
      for (const mass of order) {
        const parts = Math.min(maxParts(mass, total), 1 + Math.floor((extraParts * mass.area) / paintedArea));
        stamps.push(...fillChunks(masses, mass, pw, parts, rng, covered));
        covered[mass.label] = 1;
      }
      return mergeStamps(stamps.map((s) => ({ stamp: s, strength: 1 })), budget);
    },
  };
}

/**
 * The order with each region's enclosed small regions (a highlight in a flat, the bokeh in a
 * background) filled right after it, as an artist finishes an area before moving on: no holes are left
 * in a flat while the pen is elsewhere. A region is enclosed by the neighbour it shares most of its
 * border with when that neighbour is at least four times its size.
 */
function withEnclosed(order: readonly Region[], seg: Segmentation, pw: number): Region[] {
  const { labels, regions } = seg;
  const ph = labels.length / pw;
  const shared = new Map<number, number>();
  const border = new Float64Array(regions.length + 1);
  const touch = (p: number, q: number): void => {
    if (p === q) return;
    border[p]!++;
    border[q]!++;
    const kp = p * 65536 + q;
    const kq = q * 65536 + p;
    shared.set(kp, (shared.get(kp) ?? 0) + 1);
    shared.set(kq, (shared.get(kq) ?? 0) + 1);
  };
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const i = y * pw + x;
      if (x + 1 < pw) touch(labels[i]!, labels[i + 1]!);
      if (y + 1 < ph) touch(labels[i]!, labels[i + pw]!);
    }
  }
  const parent = new Int32Array(regions.length + 1);
  const best = new Float64Array(regions.length + 1);
  for (const [key, count] of shared) {
    const p = Math.floor(key / 65536);
    const q = key % 65536;
    if (count > best[p]!) {
      best[p] = count;
      parent[p] = q;
    }
  }
  const inOrder = new Set(order.map((r) => r.label));
  const children = new Map<number, Region[]>();
  for (const r of order) {
    const q = parent[r.label]!;
    const host = regions[q - 1];
    if (!host || !inOrder.has(q) || best[r.label]! < border[r.label]! * 0.6 || host.area < r.area * 4) continue;
    const list = children.get(q);
    if (list) list.push(r);
    else children.set(q, [r]);
  }
  const enclosed = new Set([...children.values()].flat().map((r) => r.label));
  const out: Region[] = [];
  const visit = (r: Region, depth: number): void => {
    out.push(r);
    if (depth < 4) for (const c of children.get(r.label) ?? []) visit(c, depth + 1);
  };
  for (const r of order) if (!enclosed.has(r.label)) visit(r, 0);
  // A cycle of mutual enclosure cannot happen (hosts are 4x larger), but never lose a region.
  if (out.length < order.length) for (const r of order) if (!out.includes(r)) out.push(r);
  return out;
}

/** Regions in drawing order: main subject and big regions first, moving locally. */
export function orderRegions(a: Analysis, regions: readonly Region[], rng: Rng): Region[] {
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

export interface Flats {
  readonly seg: Segmentation;
  readonly flatR: Float32Array;
  readonly flatG: Float32Array;
  readonly flatB: Float32Array;
  /** The layer's content at any size. */
  readonly recipe: FlatsRecipe;
}

export function buildFlats(a: Analysis, seg: Segmentation, grey: boolean): Flats {
  const { pw, ph } = a;
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
  const recipe: FlatsRecipe = {
    pw,
    ph,
    labels: Int32Array.from(seg.labels),
    colours: Float64Array.from(colour.flat()),
    means: Float64Array.from(seg.regions.flatMap((r) => [r.mean[0], r.mean[1], r.mean[2]])),
  };
  return { seg, flatR, flatG, flatB, recipe };
}
