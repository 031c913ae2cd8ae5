/** Progress: how much of the way is still to go at three points of the process (informative, no threshold). */
import type { Informative } from './metric.js';
import type { OpChange, ReplayContext, ReplayObserver } from './replay.js';

/** Share of the blank canvas's distance to the final image still to go at steps 750, 500 and 250. */
export interface RemainingResult {
  readonly 750: number;
  readonly 500: number;
  readonly 250: number;
}

export class ProgressObserver implements ReplayObserver {
  private readonly remaining = { 750: 0, 500: 0, 250: 0 };

  constructor(private readonly ctx: ReplayContext) {}

  afterOp(c: OpChange): void {
    const step = c.step;
    if (step === 750 || step === 500 || step === 250) {
      this.remaining[step] = this.ctx.startDistance > 0 ? c.distance / this.ctx.startDistance : 0;
    }
  }

  result(): RemainingResult {
    return this.remaining;
  }
}

export const progress: Informative = {
  id: 'progress',
  label: 'progress',
  definition:
    'the L1 distance between the canvas and the final image at steps 750, 500 and 250, as a share of the blank ' +
    "canvas's distance.",
};
