/**
 * What every metric module shares: the shape of a metric (its id, threshold and definition beside the
 * code that measures it), the verdict it returns, the list of offending operations, and the
 * per-pixel change levels the definitions in METRICS.md are written in.
 */
import { MAX_STEP } from '../../core/steps.js';
import type { Operation, Phase } from '../../core/timeline.js';

/** A pixel "changed visibly" when some channel moved by at least this many levels (of 255). */
export const VISIBLE_CHANGE = 2;
/** Locality looks at clearly visible changes only; fainter ones read as texture, not as a shape. */
export const SHAPE_CHANGE = 8;

/** One row of a metrics table: a measured value against its documented limit. */
export interface Check {
  readonly id: string;
  readonly label: string;
  /** Measured value, shown as is; `limit` is the documented threshold, `null` for boolean checks. */
  readonly value: number | boolean | null;
  readonly limit: number | null;
  readonly pass: boolean;
  /** Not applicable checks always pass; `note` says why. */
  readonly applicable: boolean;
  readonly note?: string;
}

/** What a metric concludes from its measurement and its limit. */
export interface Verdict {
  readonly value: number | boolean | null;
  readonly pass: boolean;
  /** Default true. */
  readonly applicable?: boolean;
  readonly note?: string;
}

/** A measurement reported for information, with no threshold (e.g. progress). */
export interface Informative {
  /** Stable id, used in reports, `eval --json` and METRICS.md. */
  readonly id: string;
  /** Short label of the metrics table. */
  readonly label: string;
  /** The definition, as METRICS.md gives it after "*What*:" (markdown, one paragraph). */
  readonly definition: string;
}

/**
 * A quality metric with a limit: what it is called, its threshold and its one-paragraph definition,
 * beside the code that measures it. `R` is what it measured (a number, or a record of the replay);
 * `judge` compares it with the limit. METRICS.md documents every metric of the list in
 * engine/src/eval/metrics.ts, and tests/eval/metrics-doc.test.ts keeps the two in step.
 */
export interface LimitMetric<R, K extends string = string> extends Informative {
  /** Name of its limit in the thresholds object (`eval --json` prints it). */
  readonly thresholdKey: K;
  /** The documented limit. */
  readonly threshold: number;
  judge(measured: R, limit: number): Verdict;
}

/** A quality metric that passes or fails with no numeric limit (e.g. lines before colour). */
export interface PassFailMetric<R> extends Informative {
  readonly thresholdKey: null;
  readonly threshold: null;
  judge(measured: R): Verdict;
}

export type Metric<R, K extends string = string> = LimitMetric<R, K> | PassFailMetric<R>;

/** The usual verdict of a "no more than" threshold. */
export function atMost(value: number, limit: number, note?: string): Verdict {
  return { value, pass: value <= limit, ...(note === undefined ? {} : { note }) };
}

export interface OpList {
  readonly count: number;
  /** count / the population named by the metric. */
  readonly fraction: number;
  /** Counts per phase, to tell the backend author where to look. */
  readonly byPhase: Readonly<Partial<Record<Phase, number>>>;
  /** The first few offending operations, as steps (the canvas after the operation is that step). */
  readonly examples: readonly number[];
}

/** Collects offending operations into an OpList. */
export class OpCollector {
  count = 0;
  readonly byPhase: Partial<Record<Phase, number>> = {};
  readonly examples: number[] = [];

  add(op: Operation, applied: number): void {
    this.count++;
    this.byPhase[op.phase] = (this.byPhase[op.phase] ?? 0) + 1;
    if (this.examples.length < 8) this.examples.push(MAX_STEP - applied);
  }

  result(population: number): OpList {
    return { count: this.count, fraction: population > 0 ? this.count / population : 0, byPhase: this.byPhase, examples: this.examples };
  }
}

/** The element at quantile `q` of an ascending list; 0 for an empty list. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
