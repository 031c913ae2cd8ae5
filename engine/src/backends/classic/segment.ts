/**
 * Colour segmentation for flats: region growing on a line-aware smoothed image, where line-art pixels
 * are walls, so two objects separated by a line stay two regions even when their colours are close.
 * Small regions are merged into their most similar neighbour; line pixels join the neighbour region
 * they resemble (flats are painted under the line art, with no gaps).
 */
import type { Analysis } from './analyse.js';
import { maskedBlurPlanes } from './raster.js';

export interface Region {
  readonly label: number;
  readonly area: number;
  /** [x0, y0, x1, y1], inclusive, plan pixels. */
  readonly box: [number, number, number, number];
  readonly cx: number;
  readonly cy: number;
  /** The flat colour: the region's most common colour (its base tone, not the shaded average). */
  readonly flat: [number, number, number];
  readonly mean: [number, number, number];
  /** Mean subject weight, 0..1. */
  readonly subject: number;
}

export interface Segmentation {
  /** 1..regions.length for every plan pixel. */
  readonly labels: Int32Array;
  /** regions[label - 1]. */
  readonly regions: Region[];
}

export interface SegmentOptions {
  /** Neighbour-to-neighbour colour step allowed inside a region. */
  readonly step: number;
  /** Distance from the region's running mean allowed. */
  readonly spread: number;
  /** Minimum region size as a fraction of the canvas. */
  readonly minFraction: number;
  readonly useLines: boolean;
}

/**
 * Regions for flats. Tolerances are tight enough that a white card does not join a pale background
 * (22 levels apart), loose enough that JPEG noise and soft gradients stay one region per few bands.
 */
export const FLAT_REGIONS: SegmentOptions = { step: 7, spread: 22, minFraction: 0.0006, useLines: true };

export function segment(a: Analysis, opts: SegmentOptions, check: () => void): Segmentation {
  const { pw, ph, img, lineMask } = a;
  const n = pw * ph;
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) weight[i] = opts.useLines && lineMask[i] ? 0 : 1;
  const [r, g, b] = maskedBlurPlanes([img.r, img.g, img.b], weight, pw, ph, 1) as [Float32Array, Float32Array, Float32Array];
  check();

  let labels = new Int32Array(n);
  const queue = new Int32Array(n);
  let count = 0;
  const step2 = opts.step * opts.step;
  const spread2 = opts.spread * opts.spread;
  for (let s = 0; s < n; s++) {
    if (labels[s] || weight[s] === 0) continue;
    count++;
    labels[s] = count;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    let mr = r[s]!;
    let mg = g[s]!;
    let mb = b[s]!;
    let size = 1;
    while (head < tail) {
      const i = queue[head++]!;
      const x = i % pw;
      const y = (i - x) / pw;
      const ri = r[i]!;
      const gi = g[i]!;
      const bi = b[i]!;
      for (let k = 0; k < 4; k++) {
        const xx = k === 0 ? x + 1 : k === 1 ? x - 1 : x;
        const yy = k === 2 ? y + 1 : k === 3 ? y - 1 : y;
        if (xx < 0 || yy < 0 || xx >= pw || yy >= ph) continue;
        const j = yy * pw + xx;
        if (labels[j] || weight[j] === 0) continue;
        const dr = r[j]! - ri;
        const dg = g[j]! - gi;
        const db = b[j]! - bi;
        if (dr * dr + dg * dg + db * db > step2) continue;
        const er = r[j]! - mr;
        const eg = g[j]! - mg;
        const eb = b[j]! - mb;
        if (er * er + eg * eg + eb * eb > spread2) continue;
        labels[j] = count;
        queue[tail++] = j;
        size++;
        mr += (r[j]! - mr) / size;
        mg += (g[j]! - mg) / size;
        mb += (b[j]! - mb) / size;
      }
    }
  }
  check();
  fillUnlabelled(labels, pw, ph, r, g, b);

  // Merge small regions into the most similar neighbour, a few rounds (merges create new neighbours).
  const minArea = Math.max(12, Math.round(n * opts.minFraction));
  for (let round = 0; round < 4; round++) {
    const stats = regionStats(labels, count, r, g, b);
    const parent = new Int32Array(count + 1);
    for (let l = 0; l <= count; l++) parent[l] = l;
    const find = (l: number): number => {
      while (parent[l] !== l) {
        parent[l] = parent[parent[l]!]!;
        l = parent[l]!;
      }
      return l;
    };
    const best = new Int32Array(count + 1);
    const bestD = new Float32Array(count + 1).fill(Infinity);
    // Slivers (anti-aliasing rings along line art, thin gaps) are merged like specks: a region whose
    // pixels are mostly on its own border is no object an artist would fill.
    const border = new Float64Array(count + 1);
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        const i = y * pw + x;
        const l = labels[i]!;
        if ((x + 1 < pw && labels[i + 1] !== l) || (x > 0 && labels[i - 1] !== l) || (y + 1 < ph && labels[i + pw] !== l) || (y > 0 && labels[i - pw] !== l)) border[l]!++;
      }
    }
    const small = new Uint8Array(count + 1);
    for (let l = 1; l <= count; l++) small[l] = stats.area[l]! < minArea || (stats.area[l]! < minArea * 20 && border[l]! > stats.area[l]! * 0.7) ? 1 : 0;
    const offer = (u: number, v: number): void => {
      if (!small[u]) return;
      // Prefer a real region over another sliver, or slivers only merge among themselves.
      const d =
        Math.abs(stats.r[u]! - stats.r[v]!) + Math.abs(stats.g[u]! - stats.g[v]!) + Math.abs(stats.b[u]! - stats.b[v]!) + (small[v] ? 80 : 0);
      if (d < bestD[u]!) {
        bestD[u] = d;
        best[u] = v;
      }
    };
    const consider = (p: number, q: number): void => {
      if (p === q) return;
      offer(p, q);
      offer(q, p);
    };
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        const i = y * pw + x;
        if (x + 1 < pw) consider(labels[i]!, labels[i + 1]!);
        if (y + 1 < ph) consider(labels[i]!, labels[i + pw]!);
      }
    }
    let merged = 0;
    // Smallest first, so a speck joins its surroundings rather than the other way round.
    const order = Array.from({ length: count }, (_, k) => k + 1).sort((p, q) => stats.area[p]! - stats.area[q]!);
    for (const l of order) {
      if (!small[l] || best[l] === 0) continue;
      const a1 = find(l);
      const a2 = find(best[l]!);
      if (a1 === a2) continue;
      parent[a1] = a2;
      merged++;
    }
    if (merged === 0) break;
    const remap = new Int32Array(count + 1);
    let next = 0;
    for (let l = 1; l <= count; l++) {
      const root = find(l);
      if (remap[root] === 0) remap[root] = ++next;
      remap[l] = remap[root]!;
    }
    const relabelled = new Int32Array(n);
    for (let i = 0; i < n; i++) relabelled[i] = remap[labels[i]!]!;
    labels = relabelled;
    count = next;
    check();
  }

  const regions = describeRegions(labels, count, a, r, g, b);
  return { labels, regions };
}

/** Gives every unlabelled pixel (line art) the label of the adjacent region whose colour it is closest to. */
function fillUnlabelled(labels: Int32Array, pw: number, ph: number, r: Float32Array, g: Float32Array, b: Float32Array): void {
  const n = pw * ph;
  let frontier: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i] === 0) frontier.push(i);
  if (frontier.length === n) {
    labels.fill(1);
    return;
  }
  while (frontier.length > 0) {
    const assigned: [number, number][] = [];
    const rest: number[] = [];
    for (const i of frontier) {
      const x = i % pw;
      const y = (i - x) / pw;
      let best = 0;
      let bestD = Infinity;
      for (let k = 0; k < 4; k++) {
        const xx = k === 0 ? x + 1 : k === 1 ? x - 1 : x;
        const yy = k === 2 ? y + 1 : k === 3 ? y - 1 : y;
        if (xx < 0 || yy < 0 || xx >= pw || yy >= ph) continue;
        const j = yy * pw + xx;
        const l = labels[j]!;
        if (l === 0) continue;
        const d = Math.abs(r[j]! - r[i]!) + Math.abs(g[j]! - g[i]!) + Math.abs(b[j]! - b[i]!);
        if (d < bestD) {
          bestD = d;
          best = l;
        }
      }
      if (best) assigned.push([i, best]);
      else rest.push(i);
    }
    for (const [i, l] of assigned) labels[i] = l;
    if (assigned.length === 0) {
      for (const i of rest) labels[i] = 1;
      break;
    }
    frontier = rest;
  }
}

function regionStats(labels: Int32Array, count: number, r: Float32Array, g: Float32Array, b: Float32Array) {
  const area = new Float64Array(count + 1);
  const sr = new Float64Array(count + 1);
  const sg = new Float64Array(count + 1);
  const sb = new Float64Array(count + 1);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    area[l]!++;
    sr[l]! += r[i]!;
    sg[l]! += g[i]!;
    sb[l]! += b[i]!;
  }
  for (let l = 1; l <= count; l++) {
    const a = area[l] || 1;
    sr[l]! /= a;
    sg[l]! /= a;
    sb[l]! /= a;
  }
  return { area, r: sr, g: sg, b: sb };
}

function describeRegions(labels: Int32Array, count: number, a: Analysis, r: Float32Array, g: Float32Array, b: Float32Array): Region[] {
  const { pw, subject } = a;
  const stats = regionStats(labels, count, r, g, b);
  // Integer boxes (x0, y0, x1, y1 per label): regions' boxes then hold small integers, which the loops
  // that use them (phases/region-fill.ts) are optimised for; Infinity would make them doubles.
  const boxes = new Int32Array(4 * (count + 1));
  for (let l = 0; l <= count; l++) boxes.set([pw, a.ph, -1, -1], 4 * l);
  const sx = new Float64Array(count + 1);
  const sy = new Float64Array(count + 1);
  const ss = new Float64Array(count + 1);
  // Base colour = most common 4-bit-quantised colour (the unshaded tone an artist would pick for flats),
  // found by sorting (label, colour bin) keys rather than with per-region hash maps.
  const keys = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const x = i % pw;
    const y = (i - x) / pw;
    const o = 4 * l;
    if (x < boxes[o]!) boxes[o] = x;
    if (y < boxes[o + 1]!) boxes[o + 1] = y;
    if (x > boxes[o + 2]!) boxes[o + 2] = x;
    if (y > boxes[o + 3]!) boxes[o + 3] = y;
    sx[l]! += x;
    sy[l]! += y;
    ss[l]! += subject[i]!;
    keys[i] = l * 4096 + ((r[i]! >> 4) << 8) + ((g[i]! >> 4) << 4) + (b[i]! >> 4);
  }
  const sortedKeys = keys.slice().sort();
  const modeKey = new Float64Array(count + 1);
  const modeCount = new Float64Array(count + 1);
  for (let k = 0; k < sortedKeys.length; ) {
    const key = sortedKeys[k]!;
    let e = k + 1;
    while (e < sortedKeys.length && sortedKeys[e] === key) e++;
    const l = Math.floor(key / 4096);
    if (e - k > modeCount[l]!) {
      modeCount[l] = e - k;
      modeKey[l] = key;
    }
    k = e;
  }
  const modeR = new Float64Array(count + 1);
  const modeG = new Float64Array(count + 1);
  const modeB = new Float64Array(count + 1);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (keys[i] !== modeKey[l]) continue;
    modeR[l]! += r[i]!;
    modeG[l]! += g[i]!;
    modeB[l]! += b[i]!;
  }
  const regions: Region[] = [];
  for (let l = 1; l <= count; l++) {
    const area = stats.area[l]!;
    const c = modeCount[l]! || 1;
    const flat: [number, number, number] = [modeR[l]! / c, modeG[l]! / c, modeB[l]! / c];
    regions.push({
      label: l,
      area,
      box: [boxes[4 * l]!, boxes[4 * l + 1]!, boxes[4 * l + 2]!, boxes[4 * l + 3]!],
      cx: sx[l]! / (area || 1),
      cy: sy[l]! / (area || 1),
      flat,
      mean: [stats.r[l]!, stats.g[l]!, stats.b[l]!],
      subject: ss[l]! / (area || 1),
    });
  }
  return regions;
}
