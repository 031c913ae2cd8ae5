/** Pacing, part one: the picture must not look finished long before the process ends. */
import { OPERATION_COUNT } from '../../core/steps.js';
import { atMost, type LimitMetric } from './metric.js';
import type { FrameInfo, ReplayContext, ReplayObserver } from './replay.js';

/** A frame "looks finished" when its distance to the final is below this share of the blank canvas's. */
export const SETTLED_DISTANCE = 0.1;

export interface SettleResult {
  /**
   * Share of the process (operations applied / 999) after which every timelapse frame stays within
   * SETTLED_DISTANCE of the final; null when the final image is blank paper (nothing to settle).
   */
  readonly settleFraction: number | null;
  /** The step of the first frame of that settled tail, null as above. */
  readonly settleStep: number | null;
}

/** Follows the timelapse frames' distance to the final and remembers where the settled tail begins. */
export class SettleObserver implements ReplayObserver {
  /** The first frame of the current run of settled frames, or null while the last frame was not settled. */
  private settledSince: FrameInfo | null = null;

  constructor(private readonly ctx: ReplayContext) {}

  onFrame(frame: FrameInfo): void {
    const settled = frame.distance < SETTLED_DISTANCE * this.ctx.startDistance;
    if (!settled) this.settledSince = null;
    else if (this.settledSince === null) this.settledSince = frame;
  }

  result(): SettleResult {
    const since = this.ctx.startDistance > 0 ? this.settledSince : null;
    return { settleFraction: since === null ? null : since.applied / OPERATION_COUNT, settleStep: since === null ? null : since.step };
  }
}

export const settle: LimitMetric<SettleResult, 'settledTail'> = {
  id: 'settle',
  label: 'process left once it looks finished',
  thresholdKey: 'settledTail',
  threshold: 0.1,
  definition:
    'the timelapse frames (100, steps evenly spaced from 999 to 0) measured on the paint, like every per-operation ' +
    'metric: the mean distance of a frame to the final image is its L1 distance (sum over pixels and channels), and a ' +
    'frame **looks finished** when that distance is below 10% of the blank canvas\'s distance to the final. The ' +
    '**settle fraction** is the share of the process (operations applied, of 999) at the first frame after which every ' +
    'frame looks finished; the metric is the rest of the process, 1 − settle fraction. It does not apply when the ' +
    'final image is blank paper.',
  judge: (r, limit) =>
    r.settleFraction === null || r.settleStep === null
      ? { value: null, pass: true, applicable: false, note: 'the final image is blank paper' }
      : atMost(1 - r.settleFraction, limit, `looks finished from step ${r.settleStep} (${Math.round(r.settleFraction * 100)}% of the process)`),
};
