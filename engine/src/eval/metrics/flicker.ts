/** Flicker: a change that is undone a frame or two later reads as a glitch in the timelapse. */
import { MAX_STEP } from '../../core/steps.js';
import { isDeliberateEvent, type Operation, type Timeline } from '../../core/timeline.js';
import { atMost, type LimitMetric } from './metric.js';
import type { FrameInfo, ReplayContext, ReplayObserver } from './replay.js';

/** Flicker: a pixel jumps by more than FLICKER_JUMP and is back within FLICKER_RETURN a frame or two later. */
export const FLICKER_JUMP = 32;
export const FLICKER_RETURN = 8;
export const FLICKER_WINDOW = 2;

export interface FlickerResult {
  readonly frames: number;
  /** Frames judged (not inside or next to a flip episode). */
  readonly countedFrames: number;
  /** Blinking pixels over (pixels x counted frames). */
  readonly meanFraction: number;
  readonly worstFrameFraction: number;
  /** The step of the worst frame, or null when no frame blinks. */
  readonly worstStep: number | null;
  /** Deliberate events around the worst frame, e.g. "step 397: visibility of layer 3 (shading) off". */
  readonly suspects: readonly string[];
}

/**
 * Blinks between consecutive timelapse frames: a pixel that jumps by more than FLICKER_JUMP at frame t
 * and is back within FLICKER_RETURN of frame t-1 within FLICKER_WINDOW frames. Windows touching a
 * flipped frame are skipped: a flip episode is a deliberate, whole-canvas blink.
 */
export function measureFlicker(
  frames: readonly Uint8Array[],
  flipped: readonly boolean[],
  steps: readonly number[],
  pixels: number,
): Omit<FlickerResult, 'suspects'> {
  let counted = 0;
  let total = 0;
  let worst = 0;
  let worstStep: number | null = null;
  for (let t = 1; t + 1 < frames.length; t++) {
    const last = Math.min(frames.length - 1, t + FLICKER_WINDOW);
    let skip = false;
    for (let u = t - 1; u <= last; u++) if (flipped[u]) skip = true;
    if (skip) continue;
    counted++;
    const a = frames[t - 1]!;
    const b = frames[t]!;
    let blinking = 0;
    for (let p = 0; p < a.length; p += 3) {
      if (a[p] === b[p] && a[p + 1] === b[p + 1] && a[p + 2] === b[p + 2]) continue;
      const jump = Math.max(Math.abs(b[p]! - a[p]!), Math.abs(b[p + 1]! - a[p + 1]!), Math.abs(b[p + 2]! - a[p + 2]!));
      if (jump <= FLICKER_JUMP) continue;
      for (let u = t + 1; u <= last; u++) {
        const c = frames[u]!;
        const back = Math.max(Math.abs(c[p]! - a[p]!), Math.abs(c[p + 1]! - a[p + 1]!), Math.abs(c[p + 2]! - a[p + 2]!));
        if (back <= FLICKER_RETURN) {
          blinking++;
          break;
        }
      }
    }
    total += blinking;
    const fraction = blinking / pixels;
    if (fraction > worst) {
      worst = fraction;
      worstStep = steps[t] ?? null;
    }
  }
  return {
    frames: frames.length,
    countedFrames: counted,
    meanFraction: counted > 0 ? total / (pixels * counted) : 0,
    worstFrameFraction: worst,
    worstStep,
  };
}

function describeOp(timeline: Timeline, op: Operation): string {
  const layerName = (l: number): string => `layer ${l} (${timeline.layers[l]?.id ?? '?'})`;
  switch (op.kind) {
    case 'visibility':
      return `visibility of ${layerName(op.layer)} ${op.visible ? 'on' : 'off'}`;
    case 'opacity':
      return `opacity of ${layerName(op.layer)} to ${op.opacity.toFixed(2)}`;
    case 'transform':
      return op.region ? `transform of ${layerName(op.layer)}` : `transform of ${layerName(op.layer)} settled`;
    case 'flip':
      return op.flipped ? 'flip' : 'flip back';
    case 'curve':
      return 'curve';
    case 'reveal':
      return `${op.tool} on ${layerName(op.layer)}`;
  }
}

/** The deliberate events applied from the frame before `worstStep` to FLICKER_WINDOW frames after it. */
function flickerSuspects(timeline: Timeline, steps: readonly number[], worstStep: number | null): string[] {
  if (worstStep === null) return [];
  const t = steps.indexOf(worstStep);
  const from = MAX_STEP - (steps[Math.max(0, t - 1)] ?? worstStep);
  const to = MAX_STEP - (steps[Math.min(steps.length - 1, t + FLICKER_WINDOW)] ?? worstStep);
  const out: string[] = [];
  for (let applied = from + 1; applied <= to; applied++) {
    const op = timeline.operations[applied - 1];
    if (op && isDeliberateEvent(op)) out.push(`step ${MAX_STEP - applied}: ${describeOp(timeline, op)}`);
  }
  return out;
}

/** Keeps the timelapse frames as viewed, and judges them once the replay is over. */
export class FlickerObserver implements ReplayObserver {
  private readonly frames: Uint8Array[] = [];
  private readonly flipped: boolean[] = [];
  private readonly steps: number[] = [];

  constructor(private readonly ctx: ReplayContext) {}

  onFrame(frame: FrameInfo): void {
    this.frames.push(frame.view);
    this.flipped.push(frame.flipped);
    this.steps.push(frame.step);
  }

  result(): FlickerResult {
    const steps = this.steps;
    const measured = measureFlicker(this.frames, this.flipped, steps, this.ctx.pixels);
    return { ...measured, suspects: flickerSuspects(this.ctx.timeline, steps, measured.worstStep) };
  }
}

export const flicker: LimitMetric<FlickerResult, 'flickerWorstFrame'> = {
  id: 'flicker',
  label: 'worst frame flicker',
  thresholdKey: 'flickerWorstFrame',
  threshold: 0.005,
  definition:
    'the 100 frames of a default timelapse (steps evenly spaced from 999 to 0), as viewed. A pixel **blinks** at ' +
    'frame t when it jumps by more than 32 levels from frame t−1 and is back within 8 levels of frame t−1 in one of ' +
    'the next 2 frames. Windows that touch a flipped frame are skipped (a flip episode is a deliberate whole-canvas ' +
    'change). The metric is the largest share of the canvas blinking in one frame; the report names the deliberate ' +
    'events around the worst frame.',
  judge: (r, limit) => atMost(r.worstFrameFraction, limit, r.worstStep === null ? undefined : `at step ${r.worstStep}`),
};
