/** Idle operations: steps of the process where nothing visible happens. */
import { OPERATION_COUNT } from '../../core/steps.js';
import type { Operation } from '../../core/timeline.js';
import { OpCollector, VISIBLE_CHANGE, atMost, type LimitMetric, type OpList } from './metric.js';
import type { OpChange, ReplayContext, ReplayObserver } from './replay.js';

function maxChannelDiff(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > max) max = d;
  }
  return max;
}

/**
 * Idle is judged on what the artist sees: paint operations on the composite, flips and curves (which
 * change the view, not the paint) on the view before and after them.
 */
export class IdleObserver implements ReplayObserver {
  private readonly idle = new OpCollector();
  private viewBefore: Uint8Array | null = null;

  constructor(private readonly ctx: ReplayContext) {}

  beforeOp(op: Operation): void {
    this.viewBefore = op.kind === 'flip' || op.kind === 'curve' ? this.ctx.renderer.currentCanvas().data : null;
  }

  afterOp(c: OpChange): void {
    const change = this.viewBefore ? maxChannelDiff(this.viewBefore, this.ctx.renderer.currentCanvas().data) : c.maxChange;
    if (change < VISIBLE_CHANGE) this.idle.add(c.op, c.applied);
  }

  result(): OpList {
    return this.idle.result(OPERATION_COUNT);
  }
}

export const idle: LimitMetric<OpList, 'idleOps'> = {
  id: 'idle',
  label: 'idle ops',
  thresholdKey: 'idleOps',
  threshold: 0.02,
  definition:
    'operations after which no pixel changed by 2 levels or more. Paint operations are judged on the composite; ' +
    'flips and curves, which change only the view, on the canvas as the artist sees it.',
  judge: (r, limit) => atMost(r.fraction, limit),
};
