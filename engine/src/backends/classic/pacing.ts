/**
 * Pacing: the assembled process re-timed so that every stretch of it shows. A timelapse frame comes
 * about every ten operations; a run of operations that each change a little (thin pen lines
 * on a big canvas, shading that deepens a pale colour, touches of refinement) makes frames in which
 * nothing visibly happens, while elsewhere one operation fills a whole background. Both are fixed the
 * way a painter's own rhythm would: neighbouring small marks on one layer become one operation (a longer
 * pen stroke, one bigger dab of shading) and big marks become two (a fill laid in two strokes). Every
 * layer ends exactly as planned and every operation keeps its place in the order: only where the
 * operations fall changes, and the count stays OPERATION_COUNT. A layer hidden for a while stays hidden
 * for at least SHORTEST_HIDE operations: merges inside the episode never make it a blink.
 *
 * What an operation changes is measured on a replay of its coverage on every second or third plan pixel
 * (the lattice): its new coverage times the colour change its layer makes there, over what the layers
 * under it show once laid, hidden where layers above it are already laid. core/visibility.ts judges the
 * change, as the evaluation does. Only work that stays is worth more operations: marks whose lasting
 * change (`show`) is small may be merged and those whose lasting change is big are split; the pairs that
 * show least in all (`seen`: a sketch line shows, though the final picture undoes it) are merged first,
 * so the splits go to frames that would show nothing before they shorten a sketch that shows. It costs
 * 0.1-0.15 s of planning, about 0.3 s in a process's first plan (before the JIT has warmed up).
 */
import { renderContent } from '../../core/content.js';
import type { RgbImage } from '../../core/image.js';
import type { LayerSpec, Operation, RevealOperation, Stamp } from '../../core/timeline.js';
import { CLEAR_CHANGE, deltaE, JND, LARGE_AREA, SMALL_AREA } from '../../core/visibility.js';
import { DEFAULT_TIMELAPSE_FRAMES, OPERATION_COUNT } from '../../core/steps.js';
import { unionMark } from './budget.js';

/** Operations between two frames of the default timelapse: the pacing a process is made for. */
const OPS_PER_FRAME = OPERATION_COUNT / (DEFAULT_TIMELAPSE_FRAMES - 1);
/**
 * A layer hidden for fewer operations than this shows as a blink in a timelapse (a frame comes every
 * OPS_PER_FRAME operations, and a change undone within two frames reads as a glitch): hide episodes
 * last at least this long, and pacing never merges one shorter.
 */
export const SHORTEST_HIDE = Math.ceil(3 * OPS_PER_FRAME);
/**
 * An operation should carry this share of a visible frame's change, so a frame of OPS_PER_FRAME
 * operations shows it with a margin: marks overlap (a feathered edge changes a pixel in two marks, a
 * frame sees it once), so a frame changes less than the sum of its marks.
 */
const TARGET = 1.8 / OPS_PER_FRAME;
/**
 * How many marks, each carrying its TARGET share of a visible frame, a phase can make of its change on a
 * canvas of `pixels` plan pixels: `clear` pixels changed by CLEAR_CHANGE or more, `noticeable` pixels by
 * JND or more (see core/visibility.ts). What a phase can fill with visible marks is no more than this.
 */
export function visibleMarks(clear: number, noticeable: number, pixels: number): number {
  return Math.floor(Math.max(clear / (SMALL_AREA * pixels), noticeable / (LARGE_AREA * pixels)) / TARGET);
}

/** Two marks become one only while the merged box stays this many times their own boxes, or a small share of the canvas: one local shape. */
const MERGE_SPREAD = 3;
const MERGE_SMALL_BOX = 0.01;
/**
 * A mark is split only when it shows this share of a frame (each half then carries most of the target,
 * which has a margin), and its box is long enough to halve.
 */
const SPLIT_MIN = 1.5 * TARGET;
const SPLIT_MIN_SIDE = 4;
const MAX_SPLITS = 4;
/**
 * No mark in the last part of the process is split: its pace is set by the final pass (final-pass.ts),
 * and a longer ending would look finished sooner, relative to the end.
 */
const ENDING = 0.13;

/**
 * The canvas the process is measured on: the finished artwork at the plan size (where stamps live, and
 * what the layers' contents are made from).
 */
export interface PacingCanvas {
  readonly art: RgbImage;
}

/** Plan canvases at least this long are measured on every second plan pixel (a quarter of the work), at least THIRD_FROM long on every third. */
const HALVE_FROM = 256;
const THIRD_FROM = 448;

/**
 * The measuring lattice: every k-th plan pixel along each side (a frame's change is an area, which a
 * quarter or a ninth of the pixels measures as well). The lattice samples the artwork and the stamps,
 * never their averages: a line one plan pixel wide is met on a third of the lattice rows it crosses, at
 * its full darkness, so the area it changes clearly is counted as it is, where an average would spread
 * it, paler, over whole measuring pixels (two or three times its area).
 */
interface Lattice {
  readonly k: number;
  /** Measuring pixels along each side. */
  readonly width: number;
  readonly height: number;
}

function latticeOf(canvas: PacingCanvas): Lattice {
  const { width, height } = canvas.art;
  const long = Math.max(width, height);
  const k = long >= THIRD_FROM ? 3 : long >= HALVE_FROM ? 2 : 1;
  return { k, width: Math.max(1, Math.floor(width / k)), height: Math.max(1, Math.floor(height / k)) };
}

/**
 * The artwork on the lattice: measuring pixel (mx, my) is plan pixel (mx k, my k), not the mean of the
 * block around it. Layer contents are made from it at 1 / k of the plan scale, so a thin line's pixel
 * keeps its darkness where the lattice meets it.
 */
function latticeArt(art: RgbImage, lattice: Lattice): RgbImage {
  const { k, width, height } = lattice;
  if (k === 1) return art;
  const data = new Uint8Array(width * height * 3);
  for (let my = 0; my < height; my++) {
    for (let mx = 0; mx < width; mx++) {
      const p = (my * k * art.width + mx * k) * 3;
      const o = (my * width + mx) * 3;
      data[o] = art.data[p]!;
      data[o + 1] = art.data[p + 1]!;
      data[o + 2] = art.data[p + 2]!;
    }
  }
  return { width, height, channels: 3, data };
}

/**
 * Visits the stamp pixels on the measuring lattice (plan pixels whose coordinates are multiples of the
 * step between measuring pixels), with their stamp coordinates and measuring pixel index.
 */
function eachSample(s: Stamp, lattice: Lattice, visit: (sx: number, sy: number, i: number) => void): void {
  const { k, width: mw, height: mh } = lattice;
  const firstY = Math.ceil(Math.max(0, s.y) / k) * k - s.y;
  const firstX = Math.ceil(Math.max(0, s.x) / k) * k - s.x;
  for (let y = firstY; y < s.height; y += k) {
    const my = (y + s.y) / k;
    if (my >= mh) break;
    for (let x = firstX; x < s.width; x += k) {
      const mx = (x + s.x) / k;
      if (mx >= mw) break;
      visit(x, y, my * mw + mx);
    }
  }
}

interface Slot {
  op: Operation;
  /**
   * Share of a visible frame's change this operation makes, as a viewer sees it: any change, also one
   * the finished picture undoes (a sketch line). Deliberate events count as visible. The least visible
   * pairs are merged first.
   */
  seen: number;
  /** The part of `seen` that brings the canvas closer to the final: the work worth more operations. Marks are merged under the target and split over it by this. */
  show: number;
  /** The change (new coverage times ΔE) along one side of the stamp, the longer when measured (reveals only): where a split halves it. */
  profile: Float64Array | null;
  /** The profile runs along x (else along y). */
  alongX: boolean;
  /** Merged from several marks: not split again (its profile is gone). */
  merged: boolean;
  /** How many times this mark's original was halved (at most MAX_SPLITS: a fill in a few strokes, not slivers). */
  splits: number;
  /** The hide episodes (indices into `Episodes`) this operation lies inside. */
  inside: readonly number[];
}

/** The operations between each hide (a layer made invisible) and its show, now and at least. */
interface Episodes {
  readonly length: number[];
  /** The planned length, or SHORTEST_HIDE if that is less: merges never take an episode below it. */
  readonly floor: readonly number[];
}

/** Marks each slot with the hide episodes it lies inside. */
function findEpisodes(slots: Slot[]): Episodes {
  const length: number[] = [];
  const hidden = new Map<number, { episode: number; from: number }>();
  const inside: number[][] = slots.map(() => []);
  slots.forEach(({ op }, k) => {
    if (op.kind !== 'visibility') return;
    const open = hidden.get(op.layer);
    if (!op.visible && !open) hidden.set(op.layer, { episode: length.push(0) - 1, from: k });
    if (op.visible && open) {
      hidden.delete(op.layer);
      length[open.episode] = k - open.from - 1;
      for (let j = open.from + 1; j < k; j++) inside[j]!.push(open.episode);
    }
  });
  slots.forEach((slot, k) => (slot.inside = inside[k]!));
  return { length, floor: length.map((l) => Math.min(l, SHORTEST_HIDE)) };
}

/**
 * Re-times `ops` (see the module comment); `layers` are the timeline's layers. Returns a new list of the
 * same length; stamps are never modified in place.
 */
export function paceOperations(ops: readonly Operation[], layers: readonly LayerSpec[], canvas: PacingCanvas, check: () => void): Operation[] {
  const lattice = latticeOf(canvas);
  const slots = measure(ops, layers, canvas.art, lattice, check);
  const episodes = findEpisodes(slots);
  check();
  const n = canvas.art.width * canvas.art.height;
  // Merge the least visible neighbouring pair of marks that each carry less lasting change than the
  // target, and split the strongest mark once for each merge, so the count stays the same.
  while (true) {
    let best = -1;
    let bestSeen = Infinity;
    for (let k = 0; k + 1 < slots.length; k++) {
      const a = slots[k]!;
      const b = slots[k + 1]!;
      if (a.op.kind !== 'reveal' || b.op.kind !== 'reveal' || Math.max(a.show, b.show) >= TARGET) continue;
      const sum = a.seen + b.seen;
      if (sum >= bestSeen || !mergeable(a.op, b.op, n) || a.inside.some((e) => episodes.length[e]! <= episodes.floor[e]!)) continue;
      best = k;
      bestSeen = sum;
    }
    if (best < 0) break;
    const split = strongest(slots, Math.floor(slots.length * (1 - ENDING)));
    if (split < 0) break;
    const halves = splitSlot(slots[split]!);
    const a = slots[best]!;
    const b = slots[best + 1]!;
    const merged: Slot = {
      op: mergeReveals(a.op as RevealOperation, b.op as RevealOperation),
      seen: a.seen + b.seen,
      show: a.show + b.show,
      profile: null,
      alongX: true,
      merged: true,
      splits: 0,
      inside: a.inside,
    };
    for (const e of a.inside) episodes.length[e]!--;
    for (const e of slots[split]!.inside) episodes.length[e]!++;
    // Replace the later index first so the earlier one stays valid.
    if (split > best + 1) {
      slots.splice(split, 1, ...halves);
      slots.splice(best, 2, merged);
    } else {
      slots.splice(best, 2, merged);
      slots.splice(split, 1, ...halves);
    }
  }
  return slots.map((s) => s.op);
}

/** Same layer, phase and tool, and the merged box stays one local shape. */
function mergeable(a: Operation, b: Operation, n: number): boolean {
  if (a.kind !== 'reveal' || b.kind !== 'reveal' || a.layer !== b.layer || a.phase !== b.phase || a.tool !== b.tool) return false;
  const s = a.stamp;
  const t = b.stamp;
  const union = (Math.max(s.x + s.width, t.x + t.width) - Math.min(s.x, t.x)) * (Math.max(s.y + s.height, t.y + t.height) - Math.min(s.y, t.y));
  return union <= Math.max(MERGE_SPREAD * (s.width * s.height + t.width * t.height), MERGE_SMALL_BOX * n);
}

/** Index of the reveal before `end` showing most that can still be halved, or -1. */
function strongest(slots: readonly Slot[], end: number): number {
  let best = -1;
  let bestShow = SPLIT_MIN;
  for (let k = 0; k < end; k++) {
    const s = slots[k]!;
    if (s.merged || s.profile === null || s.splits >= MAX_SPLITS || s.show < bestShow || s.profile.length < SPLIT_MIN_SIDE) continue;
    best = k;
    bestShow = s.show;
  }
  return best;
}

/** One reveal as two, cut across its profile where half of its change lies. */
function splitSlot(slot: Slot): [Slot, Slot] {
  const op = slot.op as RevealOperation;
  const profile = slot.profile!;
  let total = 0;
  for (const v of profile) total += v;
  let acc = 0;
  let cut = 1;
  for (let k = 0; k < profile.length - 1; k++) {
    acc += profile[k]!;
    cut = k + 1;
    if (acc >= total / 2) break;
  }
  const first = acc / (total || 1);
  const [one, two] = splitStamp(op.stamp, slot.alongX, cut);
  // Each part's profile in its own coordinates: the first keeps what lies before the cut, the second after it.
  const oneProfile = new Float64Array(slot.alongX ? one.width : one.height);
  oneProfile.set(profile.subarray(0, Math.min(cut, oneProfile.length)));
  const twoStart = profile.length - (slot.alongX ? two.width : two.height);
  const twoProfile = new Float64Array(profile.length - twoStart);
  // Across a narrow mark the seam may not dip below the cut, and the second part starts after it.
  const twoFrom = Math.max(cut, twoStart);
  twoProfile.set(profile.subarray(twoFrom), twoFrom - twoStart);
  const splits = slot.splits + 1;
  return [
    { op: { ...op, stamp: one }, seen: slot.seen * first, show: slot.show * first, profile: oneProfile, alongX: slot.alongX, merged: false, splits, inside: slot.inside },
    { op: { ...op, stamp: two }, seen: slot.seen * (1 - first), show: slot.show * (1 - first), profile: twoProfile, alongX: slot.alongX, merged: false, splits, inside: slot.inside },
  ];
}

/** How far the seam between two parts of a split mark waves, as a share of the mark's length, and how soft it is (pixels). */
const SEAM_WAVE = 0.08;
const SEAM_FEATHER = 2;

/**
 * A mark as two strokes that meet at `cut` along its length: the first fades out over a wavy, soft seam
 * (two brush strokes meet so, never along a ruler), the second covers the rest of the mark in full. As
 * coverage only rises, the two leave exactly the mark.
 */
function splitStamp(s: Stamp, alongX: boolean, cut: number): [Stamp, Stamp] {
  const length = alongX ? s.width : s.height;
  const across = alongX ? s.height : s.width;
  const wave = Math.min(Math.max(1, Math.round(length * SEAM_WAVE)), cut - 1, length - cut - 1);
  const period = Math.max(8, across / 1.5);
  const seam = Float64Array.from({ length: across }, (_, j) => cut + Math.max(0, wave) * Math.sin((2 * Math.PI * j) / period + cut));
  const end = Math.min(length, Math.ceil(Math.max(...seam) + SEAM_FEATHER));
  const start = Math.max(0, Math.floor(Math.min(...seam) - SEAM_FEATHER));
  const first = alongX ? crop(s, 0, 0, end, s.height) : crop(s, 0, 0, s.width, end);
  const a = first.alpha;
  for (let y = 0; y < first.height; y++) {
    for (let x = 0; x < first.width; x++) {
      const t = alongX ? x : y;
      const w = Math.min(1, Math.max(0, (seam[alongX ? y : x]! - t) / (2 * SEAM_FEATHER) + 0.5));
      a[y * first.width + x] = Math.round(a[y * first.width + x]! * w);
    }
  }
  const second = alongX ? crop(s, start, 0, length - start, s.height) : crop(s, 0, start, s.width, length - start);
  return [first, second];
}

function crop(s: Stamp, x: number, y: number, width: number, height: number): Stamp {
  const alpha = new Uint8Array(width * height);
  for (let row = 0; row < height; row++) alpha.set(s.alpha.subarray((row + y) * s.width + x, (row + y) * s.width + x + width), row * width);
  return { x: s.x + x, y: s.y + y, width, height, alpha };
}

/** Two reveals of one layer as one (budget.ts `unionMark`): what both leave, in one operation. */
function mergeReveals(a: RevealOperation, b: RevealOperation): RevealOperation {
  return { ...a, ...unionMark([a, b]) };
}

/**
 * Replays the reveals on coverage masks at the measuring size and measures what each changes: the new
 * coverage of each pixel times the colour change its layer makes there when fully laid (`layerChanges`).
 */
function measure(ops: readonly Operation[], layers: readonly LayerSpec[], art: RgbImage, lattice: Lattice, check: () => void): Slot[] {
  const change = layerChanges(ops, layers, art, lattice);
  check();
  const m = lattice.width * lattice.height;
  const cover = layers.map(() => new Uint8Array(m));
  // Each measuring pixel stands for the plan pixels around it: its share of the canvas is 1 / m.
  const clearShare = 1 / (SMALL_AREA * m);
  const noticeShare = 1 / (LARGE_AREA * m);
  return ops.map((op): Slot => {
    if (op.kind !== 'reveal') return { op, seen: 1, show: 1, profile: null, alongX: true, merged: false, splits: 0, inside: [] };
    const s = op.stamp;
    const mask = cover[op.layer]!;
    const { dE, progress } = change[op.layer]!;
    const alongX = s.width >= s.height;
    const profile = new Float64Array(alongX ? s.width : s.height);
    // Clear and noticeable areas of all the change, then of the progress alone.
    let clear = 0;
    let noticeable = 0;
    let clearProgress = 0;
    let noticeableProgress = 0;
    eachSample(s, lattice, (x, y, i) => {
      const v = Math.round(s.alpha[y * s.width + x]! * op.strength);
      const old = mask[i]!;
      if (v <= old) return;
      mask[i] = v;
      const e = ((v - old) / 255) * dE[i]!;
      const c = e >= CLEAR_CHANGE ? clearShare : 0;
      const j = e >= JND ? noticeShare : 0;
      clear += c;
      noticeable += j;
      if (progress[i] === 0) return;
      profile[alongX ? x : y]! += e;
      clearProgress += c;
      noticeableProgress += j;
    });
    // A frame shows when either its clear or its noticeable change is enough (isVisible), not their sum.
    const seen = Math.max(clear, noticeable);
    return { op, seen, show: Math.max(clearProgress, noticeableProgress), profile, alongX, merged: false, splits: 0, inside: [] };
  });
}

/** What laying one layer changes, per measuring pixel. */
interface LayerChange {
  /** ΔE*ab between the canvas before the layer is laid and after (0 under two levels in all). */
  readonly dE: Float32Array;
  /** 1 where that change brings the canvas closer to the final. */
  readonly progress: Uint8Array;
}

/**
 * Per layer, the change it makes (LayerChange) over what the layers under it show (those that start
 * before it, as laid in the end), hidden by the layers above it that start before it. Content alpha is
 * part of the change (a line layer changes only its lines).
 */
function layerChanges(ops: readonly Operation[], layers: readonly LayerSpec[], planArt: RgbImage, lattice: Lattice): LayerChange[] {
  const n = lattice.width * lattice.height;
  const start = layers.map(() => Infinity);
  const laid = layers.map(() => new Uint8Array(n));
  ops.forEach((op, k) => {
    if (op.kind !== 'reveal') return;
    if (start[op.layer] === Infinity) start[op.layer] = k;
    const s = op.stamp;
    const mask = laid[op.layer]!;
    eachSample(s, lattice, (x, y, i) => {
      const v = Math.round(s.alpha[y * s.width + x]! * op.strength);
      if (v > mask[i]!) mask[i] = v;
    });
  });
  // Each layer's visibility and opacity (0 when hidden) when each layer starts: a sketch hidden before the
  // flats start is not covered by them.
  const shownAt = layers.map(() => new Float32Array(layers.length));
  const state = layers.map((l) => (l.initiallyVisible ? l.initialOpacity : 0));
  const vis = layers.map((l) => l.initiallyVisible);
  const lev = layers.map((l) => l.initialOpacity);
  ops.forEach((op, k) => {
    for (let l = 0; l < layers.length; l++) if (start[l] === k) shownAt[l]!.set(state);
    if (op.kind === 'visibility') vis[op.layer] = op.visible;
    else if (op.kind === 'opacity') lev[op.layer] = op.opacity;
    else return;
    state[op.layer] = vis[op.layer] ? lev[op.layer]! : 0;
  });
  const sampled = latticeArt(planArt, lattice);
  const contents = layers.map((l) => renderContent(l.content, { art: sampled, scale: 1 / lattice.k }).data);
  const art = sampled.data;
  return layers.map((layer, l): LayerChange => {
    const out = new Float32Array(n);
    const progress = new Uint8Array(n);
    if (start[l] === Infinity) return { dE: out, progress };
    const mine = laid[l]!;
    const content = contents[l]!;
    const multiply = layer.blend === 'multiply';
    // The layers laid before this one starts, and how much of each shows then.
    const under: { c: Uint8Array; laid: Uint8Array; shown: number; multiply: boolean }[] = [];
    const over: { c: Uint8Array; laid: Uint8Array; shown: number }[] = [];
    for (let k = 0; k < layers.length; k++) {
      const shown = shownAt[l]![k]!;
      if (k === l || start[k]! > start[l]! || shown === 0) continue;
      if (k < l) under.push({ c: contents[k]!, laid: laid[k]!, shown, multiply: layers[k]!.blend === 'multiply' });
      else if (layers[k]!.blend === 'normal') over.push({ c: contents[k]!, laid: laid[k]!, shown });
    }
    for (let i = 0; i < n; i++) {
      const p4 = i * 4;
      if (mine[i] === 0 || content[p4 + 3] === 0) continue;
      let hidden = 1;
      for (const o of over) hidden *= 1 - ((o.laid[i]! * o.c[p4 + 3]!) / 65025) * o.shown;
      if (hidden <= 0) continue;
      let r = 255;
      let g = 255;
      let b = 255;
      for (const u of under) {
        const a = ((u.laid[i]! * u.c[p4 + 3]!) / 65025) * u.shown;
        if (a === 0) continue;
        r = blend(r, u.c[p4]!, a, u.multiply);
        g = blend(g, u.c[p4 + 1]!, a, u.multiply);
        b = blend(b, u.c[p4 + 2]!, a, u.multiply);
      }
      const a = content[p4 + 3]! / 255;
      const ar = blend(r, content[p4]!, a, multiply);
      const ag = blend(g, content[p4 + 1]!, a, multiply);
      const ab = blend(b, content[p4 + 2]!, a, multiply);
      // Under two levels in all no colour changes by a just-noticeable difference.
      if (Math.abs(ar - r) + Math.abs(ag - g) + Math.abs(ab - b) < 2) continue;
      out[i] = hidden * deltaE(r, g, b, ar, ag, ab);
      // A change that takes the canvas away from the final (a sketch line, a passing tone) shows, but is
      // no reason to give a layer more operations.
      const p3 = i * 3;
      const fr = art[p3]!;
      const fg = art[p3 + 1]!;
      const fb = art[p3 + 2]!;
      if (Math.abs(r - fr) + Math.abs(g - fg) + Math.abs(b - fb) > Math.abs(ar - fr) + Math.abs(ag - fg) + Math.abs(ab - fb)) progress[i] = 1;
    }
    return { dE: out, progress };
  });
}

/** One channel of a layer colour `src` laid over `base` with coverage `a` (0..1), as the renderer blends. */
function blend(base: number, src: number, a: number, multiply: boolean): number {
  return multiply ? base * (1 - a + (a * src) / 255) : base + (src - base) * a;
}
