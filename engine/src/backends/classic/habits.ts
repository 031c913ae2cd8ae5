/**
 * Human habits interleaved with a recipe's strokes: flipping the canvas to check proportions, hiding a
 * layer for a while to judge the others, lowering the sketch's opacity, an early idea moved into place
 * (lasso-and-transform), and a global colour curve that is slightly off until a final levels tweak
 * settles it.
 * Habits only insert operations; they never change a phase's marks.
 */
import { IDENTITY_CURVE, type Curve, type Operation, type Phase, type Stamp } from '../../core/timeline.js';
import { subjectStart, type Analysis } from './analyse.js';
import type { Rng } from './rng.js';
import { SHORTEST_HIDE } from './pacing.js';

/** The index a fraction of the way through `ops` (0..1). */
function indexAt(ops: readonly Operation[], fraction: number): number {
  return Math.max(0, Math.min(ops.length, Math.round(ops.length * fraction)));
}

/** Inserts `events` at a fraction of the way through `ops` (0..1). */
export function insertAt(ops: Operation[], fraction: number, ...events: Operation[]): void {
  ops.splice(indexAt(ops, fraction), 0, ...events);
}

/** Inserts `events[0]` at a fraction of the way through and `events[1]` `length` operations later. */
export function insertEpisode(ops: Operation[], fraction: number, length: number, events: readonly [Operation, Operation]): void {
  const at = indexAt(ops, fraction);
  const end = Math.min(ops.length, at + Math.max(1, length));
  ops.splice(end, 0, events[1]);
  ops.splice(at, 0, events[0]);
}

/** A flip of the canvas somewhere in `at` (fractions of `ops`), flipped back after `length` operations. */
export function flipEpisode(ops: Operation[], phase: Phase, rng: Rng, at: readonly [number, number], length: readonly [number, number]): void {
  insertEpisode(ops, rng.range(at[0], at[1]), rng.int(length[0], length[1]), [
    { kind: 'flip', phase, flipped: true },
    { kind: 'flip', phase, flipped: false },
  ]);
}

/** Where an episode starts (a fraction of the operations it is placed in) and how many operations it lasts. */
export interface EpisodeTiming {
  readonly fraction: number;
  readonly length: number;
}

/** An episode's timing drawn from `at` (fractions) and `length` (operations). */
export function episodeTiming(rng: Rng, at: readonly [number, number], length: readonly [number, number]): EpisodeTiming {
  const fraction = rng.range(at[0], at[1]);
  return { fraction, length: rng.int(length[0], length[1]) };
}

/**
 * `layer` hidden somewhere in `at` and shown again after `length` operations (at most `maxLength`):
 * long enough to read as a choice, not a blink.
 */
export function hideEpisode(
  ops: Operation[],
  phase: Phase,
  layer: number,
  rng: Rng,
  at: readonly [number, number],
  length: readonly [number, number],
  maxLength = Infinity,
): void {
  placeHide(ops, phase, layer, episodeTiming(rng, at, length), maxLength);
}

/**
 * Places a hide episode of `timing` in `ops`, lasting at most `maxLength` of them. When that would be a
 * blink (under SHORTEST_HIDE operations: a phase of few operations) and `after` (the operations that
 * follow `ops` in the process) is given, the layer stays hidden on into them for the whole length instead,
 * and comes back during their phase.
 */
export function placeHide(
  ops: Operation[],
  phase: Phase,
  layer: number,
  timing: EpisodeTiming,
  maxLength = Infinity,
  after?: { readonly ops: Operation[]; readonly phase: Phase },
): void {
  const off: Operation = { kind: 'visibility', phase, layer, visible: false };
  const length = Math.min(maxLength, timing.length);
  if (length >= SHORTEST_HIDE || after === undefined) {
    insertEpisode(ops, timing.fraction, length, [off, { kind: 'visibility', phase, layer, visible: true }]);
    return;
  }
  const at = indexAt(ops, timing.fraction);
  ops.splice(at, 0, off);
  const into = Math.max(0, Math.min(after.ops.length, timing.length - (ops.length - at - 1)));
  after.ops.splice(into, 0, { kind: 'visibility', phase: after.phase, layer, visible: true });
}

/**
 * The early idea moved into place (lasso-and-transform): a part of a layer around where the artist
 * started (usually the head) is drawn a little off (shifted, scaled) for a while, then lassoed and moved
 * to where it belongs. The transform is active from early in `ops` until the move, so everything drawn in
 * that part meanwhile shows off-place, and the move is one visible change that stays (never a blink).
 */
export function liftAndMove(ops: Operation[], layer: number, a: Analysis, rng: Rng): void {
  const { pw, ph } = a;
  const [hx, hy] = subjectStart(a);
  const region = ellipseStamp(hx, hy + ph * 0.1, pw * rng.range(0.08, 0.12), ph * rng.range(0.07, 0.1));
  const at = Math.round(ops.length * rng.range(0.05, 0.2));
  const settle = Math.max(at + 1, Math.round(ops.length * rng.range(0.6, 0.85)));
  ops.splice(settle, 0, { kind: 'transform', phase: 'sketch', layer, region: null, dx: 0, dy: 0, scale: 1 });
  ops.splice(at, 0, {
    kind: 'transform',
    phase: 'sketch',
    layer,
    region,
    dx: (rng.chance(0.5) ? 1 : -1) * rng.range(0.012, 0.025) * pw,
    dy: (rng.chance(0.5) ? 1 : -1) * rng.range(0.008, 0.018) * ph,
    scale: rng.range(0.93, 1.08),
  });
}

/** An elliptical selection centred at (cx, cy). */
export function ellipseStamp(cx: number, cy: number, rx: number, ry: number): Stamp {
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

/** Colours slightly off (flat, dull, warmer or cooler) while the piece is rendered; `grey` keeps hue alone. */
export function driftedCurve(rng: Rng, grey = false): Curve {
  return {
    contrast: rng.range(0.86, 0.94),
    saturation: grey ? 1 : rng.range(0.8, 0.9),
    lift: rng.range(0.03, 0.1),
    warmth: grey ? 0 : rng.range(-0.15, 0.15),
  };
}

/** Eases the global curve back to identity: the final levels tweak that makes the colours land. */
export function curveSettle(from: Curve, count: number): Operation[] {
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
