/**
 * The sequential replay every per-operation metric observes: the timeline, reduced to metric size, is
 * applied one operation at a time; after each one the observers see which composite pixels changed,
 * by how much, and how far the canvas still is from the final image. Timelapse frames are handed out
 * as they pass. One replay serves every metric, so adding a metric adds no pass over the process.
 */
import { imageContent, renderContent } from '../../core/content.js';
import { throwIfCancelled } from '../../core/errors.js';
import { resizeRgbArea } from '../../core/image.js';
import { TimelineRenderer } from '../../core/renderer.js';
import { DEFAULT_TIMELAPSE_FRAMES, MAX_STEP, OPERATION_COUNT, timelapseSteps } from '../../core/steps.js';
import type { LayerSpec, Operation, Timeline } from '../../core/timeline.js';

/**
 * Below the plan resolution, stamps are point-sampled between plan pixels: a one-plan-pixel pen line
 * renders at half coverage or disappears, so the reduced process is no longer the planned one.
 * The default therefore measures at the plan resolution, capped to keep one image at a few seconds.
 */
export const MAX_DEFAULT_METRIC_SIZE = 512;

/** The default metric long side of a timeline: its plan resolution, capped. */
export function defaultMetricSize(timeline: Timeline): number {
  const planLong = Math.round(Math.max(timeline.width, timeline.height) / timeline.planScale);
  return Math.min(MAX_DEFAULT_METRIC_SIZE, planLong);
}

/**
 * The same timeline with every layer downscaled so the long side is at most `longSide` pixels.
 * Operations are shared unchanged: stamps live in plan pixels, and planScale maps them to the new size.
 */
export async function reduceTimeline(timeline: Timeline, longSide: number): Promise<Timeline> {
  const long = Math.max(timeline.width, timeline.height);
  if (long <= longSide) return timeline;
  const k = longSide / long;
  const width = Math.max(1, Math.round(timeline.width * k));
  const height = Math.max(1, Math.round(timeline.height * k));
  const art = resizeRgbArea(timeline.finished, width, height);
  const planScale = timeline.planScale * (width / timeline.width);
  // Each layer's content is produced at the reduced size once and kept as fixed pixels.
  const layers = timeline.layers.map((layer): LayerSpec => ({ ...layer, content: imageContent({ image: renderContent(layer.content, { art, scale: planScale }) }) }));
  return { ...timeline, width, height, planScale, finished: art, layers };
}

/** What every observer can read, for the whole replay; observers must not write to its buffers. */
export type ReplayContext = Omit<Replay, 'run'>;

/** One applied operation, as the observers see it. */
export interface OpChange {
  readonly op: Operation;
  /** Operations applied so far, this one included (1..999); the canvas is now at step MAX_STEP - applied. */
  readonly applied: number;
  readonly step: number;
  readonly flippedBefore: boolean;
  readonly flipped: boolean;
  /** Indices of the composite pixels that changed, in ascending order: the first `count` entries. */
  readonly changed: Int32Array;
  /** Per changed pixel (same order): its largest channel change in levels. */
  readonly deltas: Uint8Array;
  readonly count: number;
  /** Largest channel change of any pixel, 0 when nothing changed. */
  readonly maxChange: number;
  /** L1 distance to the final before and after the operation. */
  readonly distanceBefore: number;
  readonly distance: number;
}

/** A timelapse frame as it passes. */
export interface FrameInfo {
  /** Index in the timelapse, from 0 (step 999). */
  readonly index: number;
  readonly step: number;
  readonly applied: number;
  /** The canvas as viewed (flip and curve applied): a copy the observer may keep. */
  readonly view: Uint8Array;
  readonly flipped: boolean;
  /** L1 distance of the composite to the final. */
  readonly distance: number;
}

/** A per-operation metric's view of the replay. Observers must not write to the context's buffers. */
export interface ReplayObserver {
  /** Before the operation is applied: the renderer still shows the previous step. */
  beforeOp?(op: Operation, applied: number): void;
  /** After the operation; `ctx.before` still holds the previous composite. */
  afterOp?(change: OpChange): void;
  /** At each timelapse frame (the frame at step 999 first, before any operation). */
  onFrame?(frame: FrameInfo): void;
}

export interface ReplayOptions {
  /** Frames of the timelapse handed to onFrame. Default 100, the export default. */
  readonly frames?: number;
  readonly signal?: AbortSignal;
}

/**
 * Replays a timeline operation by operation for per-operation metrics. Construct it, create the
 * observers from it (it is their ReplayContext: they may read the final image and the blank canvas),
 * then `run` them. Pass a timeline already reduced to metric size (see reduceTimeline); its canvas is
 * measured as is.
 *
 * Paint is read from the renderer's composite (layers over paper, before the global curve and the
 * flip): strokes drawn while the canvas is flipped are seen like any other, and no full-canvas copy
 * is made per operation. The view (currentCanvas) is read only where an observer asks for it.
 */
export class Replay {
  readonly width: number;
  readonly height: number;
  readonly pixels: number;
  /** The renderer being replayed (its view is what the artist sees: flip and curve applied). */
  readonly renderer: TimelineRenderer;
  /** The final composite (RGB), the image every step converges to. */
  readonly final: Uint8Array;
  /** The composite before the current operation (RGB); brought up to date after every observer ran. */
  readonly before: Uint8Array;
  /** The composite after the current operation (RGB, the renderer's live buffer). */
  readonly after: Uint8Array;
  /** L1 distance (sum over pixels and channels) between the blank canvas (step 999) and the final. */
  readonly startDistance: number;

  constructor(readonly timeline: Timeline) {
    this.width = timeline.width;
    this.height = timeline.height;
    this.pixels = this.width * this.height;
    // Sequential replay needs no snapshots beyond the initial one.
    this.renderer = new TimelineRenderer(timeline, { snapshotBudgetBytes: 0 });
    this.renderer.seek(OPERATION_COUNT);
    this.final = this.renderer.compositeView.slice();
    this.renderer.seek(0);
    this.after = this.renderer.compositeView;
    this.before = this.after.slice();
    let distance = 0;
    for (let p = 0; p < this.before.length; p++) distance += Math.abs(this.before[p]! - this.final[p]!);
    this.startDistance = distance;
  }

  /** Applies every operation once, in order, telling the observers; call once. */
  run(observers: readonly ReplayObserver[], options: ReplayOptions = {}): void {
    const { timeline, renderer, final, pixels } = this;
    const prev = this.before;
    const comp = this.after;
    let distance = this.startDistance;

    const frameAt = new Map<number, number>(timelapseSteps(options.frames ?? DEFAULT_TIMELAPSE_FRAMES, 'draw').map((s, index) => [MAX_STEP - s, index]));
    const frame = (applied: number): void => {
      const index = frameAt.get(applied);
      if (index === undefined) return;
      const info: FrameInfo = { index, step: MAX_STEP - applied, applied, view: renderer.currentCanvas().data, flipped: renderer.isFlipped, distance };
      for (const o of observers) o.onFrame?.(info);
    };
    frame(0);

    const changed = new Int32Array(pixels);
    const deltas = new Uint8Array(pixels);
    // Word-wise comparison finds the changed pixels ~4x faster than byte-wise; a 3-byte pixel can
    // straddle two words, so the words are mapped back to the pixels they touch.
    const aligned = comp.byteOffset % 4 === 0 && prev.byteOffset % 4 === 0;
    const words = Math.floor(comp.length / 4);
    const compWords = aligned ? new Uint32Array(comp.buffer, comp.byteOffset, words) : null;
    const prevWords = aligned ? new Uint32Array(prev.buffer, prev.byteOffset, words) : null;

    for (let applied = 1; applied <= OPERATION_COUNT; applied++) {
      if ((applied & 63) === 0) throwIfCancelled(options.signal);
      const op = timeline.operations[applied - 1]!;
      for (const o of observers) o.beforeOp?.(op, applied);
      const flippedBefore = renderer.isFlipped;
      renderer.seek(applied);

      let count = 0;
      let maxChange = 0;
      const distanceBefore = distance;
      let lastPixel = -1;
      const visit = (i: number): void => {
        if (i <= lastPixel || i >= pixels) return;
        lastPixel = i;
        const p = i * 3;
        const r0 = prev[p]!;
        const g0 = prev[p + 1]!;
        const b0 = prev[p + 2]!;
        const r1 = comp[p]!;
        const g1 = comp[p + 1]!;
        const b1 = comp[p + 2]!;
        if (r0 === r1 && g0 === g1 && b0 === b1) return;
        const d = Math.max(Math.abs(r1 - r0), Math.abs(g1 - g0), Math.abs(b1 - b0));
        if (d > maxChange) maxChange = d;
        changed[count] = i;
        deltas[count] = d;
        count++;
        const fr = final[p]!;
        const fg = final[p + 1]!;
        const fb = final[p + 2]!;
        distance += Math.abs(r1 - fr) + Math.abs(g1 - fg) + Math.abs(b1 - fb) - (Math.abs(r0 - fr) + Math.abs(g0 - fg) + Math.abs(b0 - fb));
      };
      if (compWords && prevWords) {
        for (let w = 0; w < words; w++) {
          if (compWords[w] === prevWords[w]) continue;
          const first = Math.floor((w * 4) / 3);
          const last = Math.floor((w * 4 + 3) / 3);
          for (let i = first; i <= last; i++) visit(i);
        }
        // Bytes after the last whole word.
        for (let i = Math.floor((words * 4) / 3); i < pixels; i++) visit(i);
      } else {
        for (let i = 0; i < pixels; i++) visit(i);
      }

      const change: OpChange = { op, applied, step: MAX_STEP - applied, flippedBefore, flipped: renderer.isFlipped, changed, deltas, count, maxChange, distanceBefore, distance };
      for (const o of observers) o.afterOp?.(change);
      for (let k = 0; k < count; k++) {
        const p = changed[k]! * 3;
        prev[p] = comp[p]!;
        prev[p + 1] = comp[p + 1]!;
        prev[p + 2] = comp[p + 2]!;
      }
      frame(applied);
    }
  }
}
