/**
 * Replays a timeline at plan resolution: the state every frame is composited from.
 *
 * A timeline's operations only touch plan-resolution state (coverage masks raised by stamps, layer
 * visibility and opacity, the flip, the curve, active transforms), so the replay costs the same at any
 * output size: a 512 px plan replays in milliseconds even for a 4096 px canvas.
 *
 * `preparePlan` replays every operation once and keeps what random access needs, all immutable:
 * snapshots of the state every `interval` operations, and for each operation the plan-pixel box whose
 * rendering it can change (so a renderer that jumps from step a to step b recomposites only what the
 * operations in between touched). Snapshot masks live in SharedArrayBuffers and the whole prepared plan
 * is structured-cloneable: worker threads share one plan and its snapshots without copying or planning again.
 */
import { OPERATION_COUNT } from './steps.js';
import { IDENTITY_CURVE, type Curve, type Operation, type Stamp, type Timeline } from './timeline.js';

/** A transform in force: the moved region and, in plan pixels, the box of everything it can change. */
export interface ActiveTransform {
  readonly region: Stamp;
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
  /** [x0, y0, x1, y1) in fractional plan pixels: the region united with where it moved to. */
  readonly reach: readonly [number, number, number, number];
}

/** Everything but the masks: small, copied on every restore. */
interface SmallState {
  readonly visible: readonly boolean[];
  readonly opacity: readonly number[];
  readonly flipped: boolean;
  readonly curve: Curve;
  readonly transforms: readonly (ActiveTransform | null)[];
  /** Per layer [x0, y0, x1, y1) of its non-zero coverage in plan pixels; x1 <= x0 when none. */
  readonly bounds: Int32Array;
}

export interface PlanSnapshot extends SmallState {
  readonly applied: number;
  /** Every layer's mask, one after another (planWidth * planHeight each). */
  readonly reveal: Uint8Array;
}

export interface PreparedPlan {
  readonly timeline: Timeline;
  /** Size of the coverage masks: the plan canvas, rounded up. */
  readonly planWidth: number;
  readonly planHeight: number;
  /** Operations between two snapshots; snapshots[k] holds the state after k * interval operations. */
  readonly interval: number;
  readonly snapshots: readonly PlanSnapshot[];
  /** Per operation i, [x0, y0, x1, y1) at 4i: plan pixels whose rendering operation i can change (x1 <= x0: none). */
  readonly dirty: Int32Array;
  /**
   * The same, closer: operation i's boxes are quads [x0, y0, x1, y1) from 4 * dirtyBandStart[i] to
   * 4 * dirtyBandStart[i + 1] in dirtyBands, where it has any. A stroke changes a thin band of its box:
   * each band of DIRTY_BAND plan rows gets the columns the stroke changed on them, so a frame recomposites
   * the tiles a diagonal stroke crossed, not its whole box. An operation without bands (it hides a
   * layer, moves one, or paints one being moved) changes its `dirty` box.
   */
  readonly dirtyBands: Int32Array;
  readonly dirtyBandStart: Int32Array;
}

/** Plan rows per band of a stroke's changed pixels (see PreparedPlan.dirtyBands). */
export const DIRTY_BAND = 8;

export interface PrepareOptions {
  /** Memory the snapshots may use (default 24 MiB); at least the blank state is always kept. */
  readonly snapshotBudgetBytes?: number;
}

const DEFAULT_SNAPSHOT_BUDGET = 24 * 1024 * 1024;
/** Replaying this many plan-resolution operations takes well under a millisecond; closer snapshots buy nothing. */
const MIN_INTERVAL = 16;

/** The coverage-mask size of a timeline: its plan canvas (full size / planScale), rounded up. */
export function planSizeOf(timeline: Pick<Timeline, 'width' | 'height' | 'planScale'>): { planWidth: number; planHeight: number } {
  return {
    planWidth: Math.max(1, Math.ceil(timeline.width / timeline.planScale - 1e-9)),
    planHeight: Math.max(1, Math.ceil(timeline.height / timeline.planScale - 1e-9)),
  };
}

function shared(bytes: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(bytes));
}

/**
 * Replays the whole timeline once; the result renders any step at any size (see renderer.ts). The plan's
 * timeline keeps its stamps in one SharedArrayBuffer (`withSharedStamps`).
 */
export function preparePlan(source: Timeline, options: PrepareOptions = {}): PreparedPlan {
  const timeline = withSharedStamps(source);
  const { planWidth, planHeight } = planSizeOf(timeline);
  const layerBytes = planWidth * planHeight;
  const snapshotBytes = layerBytes * timeline.layers.length;
  const budget = options.snapshotBudgetBytes ?? DEFAULT_SNAPSHOT_BUDGET;
  const count = Math.max(1, Math.floor(budget / Math.max(1, snapshotBytes)));
  const interval = Math.max(MIN_INTERVAL, Math.ceil(OPERATION_COUNT / count));
  const dirty = new Int32Array(new SharedArrayBuffer(OPERATION_COUNT * 4 * 4));
  const dirtyBandStart = new Int32Array(new SharedArrayBuffer((OPERATION_COUNT + 1) * 4));
  const bands: number[] = [];
  const state = new PlanState({ timeline, planWidth, planHeight, interval, snapshots: [], dirty, dirtyBands: new Int32Array(0), dirtyBandStart });
  const snapshots: PlanSnapshot[] = [state.snapshot()];
  const box = new Int32Array(4);
  for (let i = 0; i < OPERATION_COUNT; i++) {
    state.apply(timeline.operations[i]!, box, bands);
    dirty.set(box, i * 4);
    dirtyBandStart[i + 1] = bands.length / 4;
    if ((i + 1) % interval === 0 && snapshots.length * snapshotBytes + snapshotBytes <= Math.max(budget, snapshotBytes)) {
      snapshots.push(state.snapshot());
    }
  }
  const dirtyBands = new Int32Array(new SharedArrayBuffer(bands.length * 4));
  dirtyBands.set(bands);
  return { timeline, planWidth, planHeight, interval, snapshots, dirty, dirtyBands, dirtyBandStart };
}

/**
 * `timeline` with the masks of its stamps (reveal strokes, transform regions) in one SharedArrayBuffer,
 * the same values. A plan handed to another worker thread then shares them, as it shares its snapshots,
 * rather than copying about a thousand small arrays (~6 MB) into every worker and through the main thread.
 */
function withSharedStamps(timeline: Timeline): Timeline {
  const stamps = (op: Operation): Stamp | null => (op.kind === 'reveal' ? op.stamp : op.kind === 'transform' ? op.region : null);
  let total = 0;
  for (const op of timeline.operations) {
    const stamp = stamps(op);
    if (stamp && !(stamp.alpha.buffer instanceof SharedArrayBuffer)) total += stamp.alpha.length;
  }
  if (total === 0) return timeline;
  const buffer = shared(total);
  let offset = 0;
  const move = (stamp: Stamp): Stamp => {
    if (stamp.alpha.buffer instanceof SharedArrayBuffer) return stamp;
    const alpha = buffer.subarray(offset, offset + stamp.alpha.length);
    alpha.set(stamp.alpha);
    offset += stamp.alpha.length;
    return { ...stamp, alpha };
  };
  const operations = timeline.operations.map((op): Operation => {
    if (op.kind === 'reveal') return { ...op, stamp: move(op.stamp) };
    if (op.kind === 'transform' && op.region) return { ...op, region: move(op.region) };
    return op;
  });
  return { ...timeline, operations };
}

/**
 * Memory a prepared plan holds besides its source image (`timeline.finished`): every buffer under it
 * (snapshots, stamps, layer contents' parameters), each counted once, whole (a view pins all of its
 * buffer). For memory budgets: what keeping the plan costs.
 */
export function planBytes(plan: PreparedPlan): number {
  const seen = new Set<object>([plan.timeline.finished.data.buffer]);
  let bytes = 0;
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      if (seen.has(value.buffer)) return;
      seen.add(value.buffer);
      bytes += value.buffer.byteLength;
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child);
  };
  visit(plan);
  return bytes;
}

/** The live replay state of one renderer: seek it to any operation count. */
export class PlanState {
  readonly plan: PreparedPlan;
  readonly planWidth: number;
  readonly planHeight: number;
  /** Every layer's coverage mask (planWidth * planHeight, 0..255), views into one buffer. */
  readonly reveal: Uint8Array[];
  private readonly revealAll: Uint8Array;
  visible: boolean[];
  opacity: number[];
  flipped = false;
  curve: Curve = IDENTITY_CURVE;
  transforms: (ActiveTransform | null)[];
  readonly bounds: Int32Array;
  private appliedCount = 0;

  constructor(plan: PreparedPlan) {
    this.plan = plan;
    this.planWidth = plan.planWidth;
    this.planHeight = plan.planHeight;
    const layers = plan.timeline.layers;
    const n = this.planWidth * this.planHeight;
    this.revealAll = shared(n * layers.length);
    this.reveal = layers.map((_, l) => this.revealAll.subarray(l * n, (l + 1) * n));
    this.visible = layers.map((l) => l.initiallyVisible);
    this.opacity = layers.map((l) => l.initialOpacity);
    this.transforms = layers.map(() => null);
    this.bounds = new Int32Array(layers.length * 4);
    for (let l = 0; l < layers.length; l++) this.bounds.set([this.planWidth, this.planHeight, 0, 0], l * 4);
  }

  /** Operations applied in the current state. */
  get applied(): number {
    return this.appliedCount;
  }

  /** Brings the state to `count` applied operations (0..OPERATION_COUNT). */
  seek(count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > OPERATION_COUNT) {
      throw new RangeError(`operation count must be an integer in 0..${OPERATION_COUNT}, got ${count}`);
    }
    const { snapshots, interval, timeline } = this.plan;
    const nearest = snapshots[Math.min(snapshots.length - 1, Math.floor(count / interval))]!;
    if (count < this.appliedCount || nearest.applied > this.appliedCount) this.restore(nearest);
    while (this.appliedCount < count) this.apply(timeline.operations[this.appliedCount]!);
  }

  snapshot(): PlanSnapshot {
    const reveal = shared(this.revealAll.length);
    reveal.set(this.revealAll);
    return {
      applied: this.appliedCount,
      reveal,
      visible: [...this.visible],
      opacity: [...this.opacity],
      flipped: this.flipped,
      curve: this.curve,
      transforms: [...this.transforms],
      bounds: this.bounds.slice(),
    };
  }

  private restore(s: PlanSnapshot): void {
    this.revealAll.set(s.reveal);
    this.visible = [...s.visible];
    this.opacity = [...s.opacity];
    this.flipped = s.flipped;
    this.curve = s.curve;
    this.transforms = [...s.transforms];
    this.bounds.set(s.bounds);
    this.appliedCount = s.applied;
  }

  /**
   * Applies the next operation; `dirty`, when given, receives the plan box whose rendering it changed,
   * and `bands` that box band by band (quads appended, see PreparedPlan.dirtyBands) where it can be told.
   */
  apply(op: Operation, dirty?: Int32Array, bands?: number[]): void {
    this.appliedCount++;
    dirty?.fill(0);
    switch (op.kind) {
      case 'reveal': {
        const shown = dirty !== undefined && this.shows(op.layer);
        // A layer being moved shows its pixels elsewhere: its box then takes in the transform's reach.
        const changed = this.applyReveal(op.layer, op.stamp, op.strength, shown && !this.transforms[op.layer] ? bands : undefined);
        if (dirty && changed && shown) {
          dirty.set(changed);
          this.uniteTransform(op.layer, dirty);
        }
        return;
      }
      case 'visibility':
      case 'opacity': {
        const before = this.shows(op.layer);
        const opacityBefore = this.opacity[op.layer];
        if (op.kind === 'visibility') this.visible[op.layer] = op.visible;
        else this.opacity[op.layer] = op.opacity;
        const changed = op.kind === 'visibility' ? before !== this.shows(op.layer) : opacityBefore !== op.opacity && (before || this.shows(op.layer));
        if (dirty && changed) {
          dirty.set(this.bounds.subarray(op.layer * 4, op.layer * 4 + 4));
          this.uniteTransform(op.layer, dirty);
        }
        return;
      }
      case 'flip':
        this.flipped = op.flipped;
        return;
      case 'curve':
        this.curve = op.curve;
        return;
      case 'transform': {
        const before = this.transforms[op.layer] ?? null;
        const after = op.region ? activeTransform(op.region, op.dx, op.dy, op.scale) : null;
        this.transforms[op.layer] = after;
        if (dirty && this.shows(op.layer)) {
          if (before) unite(dirty, reachBox(before));
          if (after) unite(dirty, reachBox(after));
        }
        return;
      }
    }
  }

  /** Whether a layer's paint reaches the canvas at all. */
  private shows(layer: number): boolean {
    return this.visible[layer]! && this.opacity[layer]! > 0;
  }

  private uniteTransform(layer: number, dirty: Int32Array): void {
    const t = this.transforms[layer];
    if (t) unite(dirty, reachBox(t));
  }

  /**
   * Raises the mask under the stamp; returns the box of the pixels that changed, or null. `bands`, when
   * given, receives the changed pixels' box of every DIRTY_BAND rows (quads, see PreparedPlan.dirtyBands).
   */
  private applyReveal(layer: number, stamp: Stamp, strength: number, bands?: number[]): Int32Array | null {
    const pw = this.planWidth;
    const mask = this.reveal[layer]!;
    const { x: sx, y: sy, width: sw, height: sh, alpha } = stamp;
    const x0 = Math.max(0, sx);
    const y0 = Math.max(0, sy);
    const x1 = Math.min(pw, sx + sw);
    const y1 = Math.min(this.planHeight, sy + sh);
    let cx0 = x1;
    let cy0 = y1;
    let cx1 = x0;
    let cy1 = y0;
    // The band being gathered: its changed columns [bx0, bx1) and rows [by0, by1).
    let bx0 = x1;
    let bx1 = x0;
    let by0 = y0;
    let by1 = y0;
    for (let y = y0; y < y1; y++) {
      if (bands && y % DIRTY_BAND === 0 && bx1 > bx0) {
        bands.push(bx0, by0, bx1, by1);
        bx0 = x1;
        bx1 = x0;
      }
      const src = (y - sy) * sw - sx;
      const dst = y * pw;
      for (let x = x0; x < x1; x++) {
        const a = alpha[src + x]!;
        if (a === 0) continue;
        const v = strength === 1 ? a : Math.round(a * strength);
        if (v <= mask[dst + x]!) continue;
        mask[dst + x] = v;
        if (x < cx0) cx0 = x;
        if (x >= cx1) cx1 = x + 1;
        if (y < cy0) cy0 = y;
        cy1 = y + 1;
        if (bands === undefined) continue;
        if (bx1 <= bx0) {
          by0 = y;
          bx0 = x;
          bx1 = x + 1;
        } else {
          if (x < bx0) bx0 = x;
          if (x >= bx1) bx1 = x + 1;
        }
        by1 = y + 1;
      }
    }
    if (bands && bx1 > bx0) bands.push(bx0, by0, bx1, by1);
    if (cx1 <= cx0) return null;
    const changed = Int32Array.of(cx0, cy0, cx1, cy1);
    const b = this.bounds.subarray(layer * 4, layer * 4 + 4);
    if (b[2]! <= b[0]!) b.set(changed);
    else unite(b, changed);
    return changed;
  }
}

function activeTransform(region: Stamp, dx: number, dy: number, scale: number): ActiveTransform {
  const cx = region.x + region.width / 2;
  const cy = region.y + region.height / 2;
  const mx0 = cx + (region.x - cx) * scale + dx;
  const my0 = cy + (region.y - cy) * scale + dy;
  const mx1 = cx + (region.x + region.width - cx) * scale + dx;
  const my1 = cy + (region.y + region.height - cy) * scale + dy;
  return {
    region,
    dx,
    dy,
    scale,
    reach: [Math.min(region.x, mx0, mx1), Math.min(region.y, my0, my1), Math.max(region.x + region.width, mx0, mx1), Math.max(region.y + region.height, my0, my1)],
  };
}

/** A transform's reach in whole plan pixels, one pixel wider on each side for bilinear sampling. */
function reachBox(t: ActiveTransform): Int32Array {
  const [x0, y0, x1, y1] = t.reach;
  return Int32Array.of(Math.floor(x0) - 1, Math.floor(y0) - 1, Math.ceil(x1) + 1, Math.ceil(y1) + 1);
}

/** `into` becomes the box around itself and `box` (an empty `into`, x1 <= x0, takes `box`). */
function unite(into: Int32Array, box: Int32Array): void {
  if (box[2]! <= box[0]! || box[3]! <= box[1]!) return;
  if (into[2]! <= into[0]! || into[3]! <= into[1]!) {
    into.set(box);
    return;
  }
  into[0] = Math.min(into[0]!, box[0]!);
  into[1] = Math.min(into[1]!, box[1]!);
  into[2] = Math.max(into[2]!, box[2]!);
  into[3] = Math.max(into[3]!, box[3]!);
}
