/** Locality: an artist's mark is local; a reveal that changes a large part of the canvas at once is not. */
import { OpCollector, VISIBLE_CHANGE, atMost, quantile, type LimitMetric, type OpList } from './metric.js';
import type { OpChange, ReplayContext, ReplayObserver } from './replay.js';

/** A reveal operation is "wide" when its visible change covers more than this fraction of the canvas. */
export const WIDE_AREA = 0.25;

export interface AreaResult {
  /** Reveal operations that change something visibly (>= VISIBLE_CHANGE): the population of the area figures. */
  readonly measured: number;
  /** Visibly changed fraction of the canvas: median, 95th percentile and maximum over measured operations. */
  readonly medianArea: number;
  readonly p95Area: number;
  readonly maxArea: number;
  /** Population: all reveal operations. */
  readonly wide: OpList;
}

export class WideObserver implements ReplayObserver {
  private readonly wide = new OpCollector();
  private readonly areas: number[] = [];
  private revealOps = 0;

  constructor(private readonly ctx: ReplayContext) {}

  afterOp(c: OpChange): void {
    if (c.op.kind !== 'reveal') return;
    this.revealOps++;
    let visible = 0;
    for (let k = 0; k < c.count; k++) if (c.deltas[k]! >= VISIBLE_CHANGE) visible++;
    if (visible === 0) return;
    // Area counts faint changes too: a slow whole-canvas fade changes every pixel by a few levels.
    const area = visible / this.ctx.pixels;
    this.areas.push(area);
    if (area > WIDE_AREA) this.wide.add(c.op, c.applied);
  }

  result(): AreaResult {
    const areas = this.areas.sort((a, b) => a - b);
    return {
      measured: areas.length,
      medianArea: quantile(areas, 0.5),
      p95Area: quantile(areas, 0.95),
      maxArea: areas.length > 0 ? areas[areas.length - 1]! : 0,
      wide: this.wide.result(this.revealOps),
    };
  }
}

export const wide: LimitMetric<Pick<AreaResult, 'wide'>, 'wideOps'> = {
  id: 'wide',
  label: 'wide reveal ops (>25% of canvas)',
  thresholdKey: 'wideOps',
  threshold: 0.01,
  definition:
    'for every reveal operation, the visibly changed pixels (its area). The operation is **wide** when the visibly ' +
    'changed area exceeds 25% of the canvas — a whole-canvas fade or wash changes every pixel by a few levels and is ' +
    'caught here even when each step is faint. The report also gives the median and 95th percentile of the changed area.',
  judge: (r, limit) => atMost(r.wide.fraction, limit),
};
