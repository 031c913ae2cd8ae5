/**
 * Flats (values in monochrome work): one flat colour per region of the segmentation, filled region by
 * region (the subject first, the pen staying local), big regions in several geodesic chunks so colour
 * spreads over the canvas gradually. Paper-white regions are left unpainted, as an artist leaves the
 * paper; in ink work, solid blacks are spotted with the ink, not painted as a value study.
 */
import type { Stamp } from '../../../core/timeline.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { mergeStamps } from '../budget.js';
import { flatsContent, type FlatsRecipe } from '../content.js';
import { stampFromLabel } from '../raster.js';
import type { Rng } from '../rng.js';
import type { Region, Segmentation } from '../segment.js';
import type { PhaseWork } from './phase.js';

export interface FlatsPhase extends PhaseWork {
  readonly flats: Flats;
}

export function luma(c: readonly [number, number, number]): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/** Needs the segmentation (regions and their base colours); `grey` paints values instead of colours. */
export function prepareFlats(a: Analysis, seg: Segmentation, grey: boolean): FlatsPhase {
  const { pw, ph } = a;
  const total = pw * ph;
  const flats = buildFlats(a, seg, grey);
  const painted = seg.regions.filter((r) => Math.min(r.flat[0], r.flat[1], r.flat[2]) < 250 && !(grey && luma(r.flat) < 60));
  return {
    flats,
    capacity: painted.reduce((acc, r) => acc + Math.min(80, Math.max(1, Math.floor(r.area / (total * 0.0005)))), 0),
    content: () => flatsContent(flats.recipe),
    propose(budget, rng) {
      const order = orderRegions(a, painted, rng.fork(3));
      const stamps: Stamp[] = [];
      const paintedArea = painted.reduce((acc, r) => acc + r.area, 0) || 1;
      const extraParts = Math.max(0, budget - painted.length);
      for (const region of order) {
        const parts = Math.min(200, 1 + Math.floor((extraParts * region.area) / paintedArea));
        stamps.push(...regionChunks(seg, region, pw, parts, rng));
      }
      return mergeStamps(stamps.map((s) => ({ stamp: s, strength: 1 })), budget);
    },
  };
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

/** Splits a big region into chunks (Voronoi cells of random points inside it), filled one after another. */
export function regionChunks(seg: Segmentation, region: Region, pw: number, parts: number, rng: Rng): Stamp[] {
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
