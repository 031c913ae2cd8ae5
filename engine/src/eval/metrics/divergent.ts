/** Monotone convergence: paint operations bring the canvas closer to the final image. */
import { isDeliberateEvent, type Timeline } from '../../core/timeline.js';
import { OpCollector, atMost, type LimitMetric, type OpList } from './metric.js';
import type { OpChange, ReplayContext, ReplayObserver } from './replay.js';

export type DivergentResult = OpList & { readonly counted: number };

/** Which layers still show at step 0: reveals on the others (construction sketches) cannot converge. */
function finalLayerShown(timeline: Timeline): boolean[] {
  const visible = timeline.layers.map((l) => l.initiallyVisible);
  const opacity = timeline.layers.map((l) => l.initialOpacity);
  for (const op of timeline.operations) {
    if (op.kind === 'visibility') visible[op.layer] = op.visible;
    else if (op.kind === 'opacity') opacity[op.layer] = op.opacity;
  }
  return visible.map((v, i) => v && opacity[i]! > 0);
}

export class DivergentObserver implements ReplayObserver {
  private readonly shown: boolean[];
  private readonly divergent = new OpCollector();
  private counted = 0;

  constructor(ctx: ReplayContext) {
    this.shown = finalLayerShown(ctx.timeline);
  }

  afterOp(c: OpChange): void {
    const op = c.op;
    // isDeliberateEvent is the core's definition of "not paint"; today that is every non-reveal op.
    if (op.kind !== 'reveal' || isDeliberateEvent(op) || c.flipped || c.flippedBefore || !this.shown[op.layer]) return;
    this.counted++;
    // Rounding in the compositor may move a pixel by a level: one level per changed pixel is noise.
    if (c.distance - c.distanceBefore > c.count) this.divergent.add(op, c.applied);
  }

  result(): DivergentResult {
    return { ...this.divergent.result(this.counted), counted: this.counted };
  }
}

export const divergent: LimitMetric<DivergentResult, 'divergentOps'> = {
  id: 'divergent',
  label: 'ops moving away from final',
  thresholdKey: 'divergentOps',
  threshold: 0.05,
  definition:
    'for each reveal operation, the L1 distance (sum over pixels and channels) between the canvas and the final image ' +
    'before and after it; the operation **diverges** when the distance grows by more than one level per changed pixel ' +
    "(the compositor's rounding). *Counted*: reveal operations outside flip episodes, on layers still shown in the final " +
    'image. Deliberate events (`isDeliberateEvent`: visibility, opacity, flip, curve, transform) are excluded, and so are ' +
    'strokes on layers hidden at the end (construction sketches are meant to be covered or hidden).',
  judge: (r, limit) => atMost(r.fraction, limit),
};
