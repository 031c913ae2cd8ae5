/**
 * Quality metrics of a drawing-process timeline: floors every backend's process has to clear.
 * One metric per module in ./metrics/ (what it measures, its threshold and its definition, together);
 * METRICS below is the list, in the order tables print it. METRICS.md documents every metric of the
 * list, and tests/eval/metrics-doc.test.ts keeps the two in step.
 *
 * To add a metric: a module in ./metrics/ exporting its Metric and the code that measures it (an
 * observer of the replay for per-operation metrics), a field in ProcessMetrics (or TimelineMetrics),
 * a row in METRICS, its threshold in Thresholds, and a section in METRICS.md.
 *
 * Two resolutions are used on purpose:
 * - the end points (step 0 against the input, step 999 blank) are checked at full resolution, because
 *   "step 0 is the input" is a promise about the exported pixels;
 * - every per-operation metric replays the timeline once, sequentially, on a copy whose layers are
 *   downscaled to `metricSize` on the long side, by default the plan resolution (stamps stay in plan
 *   pixels; only planScale changes). 999 operations x a few passes over the plan canvas takes seconds,
 *   where full resolution would take minutes. Per-operation numbers are relative to that canvas.
 */
import { throwIfCancelled } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { TimelineRenderer } from '../core/renderer.js';
import type { Timeline } from '../core/timeline.js';
import { blank, measureBlank } from './metrics/blank.js';
import { DivergentObserver, divergent, type DivergentResult } from './metrics/divergent.js';
import { DustObserver, dust } from './metrics/dust.js';
import { FlickerObserver, flicker, type FlickerResult } from './metrics/flicker.js';
import { IdleObserver, idle } from './metrics/idle.js';
import { InvisibleChangeObserver, invisible, type InvisibleResult } from './metrics/invisible.js';
import { LineColourObserver, lineColour, type LineColourOrder } from './metrics/line-colour.js';
import type { Check, Informative, Metric, OpList } from './metrics/metric.js';
import { ProgressObserver, progress, type RemainingResult } from './metrics/progress.js';
import { Replay, defaultMetricSize, reduceTimeline } from './metrics/replay.js';
import { SettleObserver, settle, type SettleResult } from './metrics/settle.js';
import { measureStep0, step0 } from './metrics/step0.js';
import { WideObserver, wide } from './metrics/wide.js';

export { MAX_DEFAULT_METRIC_SIZE, defaultMetricSize, reduceTimeline } from './metrics/replay.js';
export { SHAPE_CHANGE, VISIBLE_CHANGE, type Check, type Metric, type OpList } from './metrics/metric.js';
export { measureFlicker } from './metrics/flicker.js';
export type { LineColourOrder } from './metrics/line-colour.js';

export interface Thresholds {
  /** Largest per-channel difference between step 0 and the decoded input, in levels of 255. */
  readonly step0MaxError: number;
  /** Largest fraction of non-white pixels at step 999. */
  readonly blankNonWhite: number;
  /** Largest fraction of counted operations that move the canvas away from the final image. */
  readonly divergentOps: number;
  /** Largest fraction of all operations that change nothing visible. */
  readonly idleOps: number;
  /** Largest fraction of reveal operations that change more than WIDE_AREA of the canvas. */
  readonly wideOps: number;
  /** Largest fraction of reveal operations whose visible change is scattered dust. */
  readonly dustOps: number;
  /** Largest fraction of the canvas that may blink in any one timelapse frame. */
  readonly flickerWorstFrame: number;
  /** Largest share of the process that may remain once the timelapse looks finished. */
  readonly settledTail: number;
  /** Largest share of frame-to-frame changes of the timelapse that may be invisible. */
  readonly invisibleFrames: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  step0MaxError: step0.threshold,
  blankNonWhite: blank.threshold,
  divergentOps: divergent.threshold,
  idleOps: idle.threshold,
  wideOps: wide.threshold,
  dustOps: dust.threshold,
  flickerWorstFrame: flicker.threshold,
  settledTail: settle.threshold,
  invisibleFrames: invisible.threshold,
};

export interface EndpointMetrics {
  /** Max per-channel |step 0 - input| in levels (0..255). */
  readonly step0MaxError: number;
  /** Fraction of pixels at step 999 that differ from white by more than VISIBLE_CHANGE levels. */
  readonly blankNonWhite: number;
}

export interface ProcessMetrics {
  /** Size of the canvas the per-operation metrics were computed on. */
  readonly width: number;
  readonly height: number;
  readonly idle: OpList;
  /** Population: reveal operations outside flip episodes on layers visible in the final image. */
  readonly divergent: DivergentResult;
  readonly lineColour: LineColourOrder;
  /**
   * Share of the blank canvas's distance to the final image still to go at steps 750, 500 and 250
   * (informative, no threshold): a process whose second half changes nothing shows as a static video.
   */
  readonly remaining: RemainingResult;
  readonly locality: {
    /** Reveal operations that change something visibly (>= VISIBLE_CHANGE): the population of the area figures. */
    readonly measured: number;
    /** Reveal operations with at least SHAPE_MIN_PIXELS clearly changed (>= SHAPE_CHANGE) pixels: the population of meanShapes. */
    readonly shaped: number;
    /** Visibly changed fraction of the canvas: median, 95th percentile and maximum over measured operations. */
    readonly medianArea: number;
    readonly p95Area: number;
    readonly maxArea: number;
    /** Mean number of separate shapes per shaped operation. */
    readonly meanShapes: number;
    /** Population of wide and dust: all reveal operations. */
    readonly wide: OpList;
    readonly dust: OpList;
  };
  readonly flicker: FlickerResult;
  /** Whether the timelapse keeps changing visibly to the end. */
  readonly pacing: SettleResult & InvisibleResult;
}

export interface TimelineMetrics extends EndpointMetrics {
  readonly process: ProcessMetrics;
  readonly style: string;
}

/** A metric of the list: its description and how to judge a timeline's measurements with it. */
export interface ListedMetric extends Informative {
  readonly thresholdKey: keyof Thresholds | null;
  readonly threshold: number | null;
  check(m: TimelineMetrics, thresholds: Thresholds): Check;
}

/** Binds a metric to where its measurement lives in TimelineMetrics. */
function listed<R>(metric: Metric<R, keyof Thresholds>, measured: (m: TimelineMetrics) => R): ListedMetric {
  return {
    id: metric.id,
    label: metric.label,
    definition: metric.definition,
    thresholdKey: metric.thresholdKey,
    threshold: metric.threshold,
    check(m, thresholds) {
      const limit = metric.thresholdKey === null ? null : thresholds[metric.thresholdKey];
      const v = metric.thresholdKey === null ? metric.judge(measured(m)) : metric.judge(measured(m), thresholds[metric.thresholdKey]);
      return {
        id: metric.id,
        label: metric.label,
        value: v.value,
        limit,
        pass: v.pass,
        applicable: v.applicable ?? true,
        ...(v.note === undefined ? {} : { note: v.note }),
      };
    },
  };
}

/** Every metric with a threshold, in the order tables print them. */
export const METRICS: readonly ListedMetric[] = [
  listed(step0, (m) => m.step0MaxError),
  listed(blank, (m) => m.blankNonWhite),
  listed(divergent, (m) => m.process.divergent),
  listed(lineColour, (m) => m.process.lineColour),
  listed(wide, (m) => m.process.locality),
  listed(dust, (m) => m.process.locality),
  listed(idle, (m) => m.process.idle),
  listed(flicker, (m) => m.process.flicker),
  listed(settle, (m) => m.process.pacing),
  listed(invisible, (m) => m.process.pacing),
];

/** Measurements reported for information only (no threshold, no check row). */
export const INFORMATIVE: readonly Informative[] = [progress];

export interface MetricsOptions {
  /**
   * Long side, in pixels, of the canvas the per-operation metrics use (never above the timeline's).
   * Default: the plan resolution, capped at MAX_DEFAULT_METRIC_SIZE.
   */
  readonly metricSize?: number;
  /** Frames of the timelapse judged for flicker. Default 100, the export default. */
  readonly frames?: number;
  readonly signal?: AbortSignal;
}

/** Step 0 against the input and step 999 against white paper, at full resolution. */
export function measureEndpoints(renderer: TimelineRenderer, input: RgbImage): EndpointMetrics {
  const blankNonWhite = measureBlank(renderer);
  return { step0MaxError: measureStep0(renderer, input), blankNonWhite };
}

/**
 * Replays `timeline` operation by operation and measures every per-operation metric.
 * Pass a timeline already reduced to metric size (see reduceTimeline); its canvas is measured as is.
 */
export function measureProcess(timeline: Timeline, options: { frames?: number; signal?: AbortSignal } = {}): ProcessMetrics {
  const replay = new Replay(timeline);
  const idleOps = new IdleObserver(replay);
  const divergentOps = new DivergentObserver(replay);
  const lines = new LineColourObserver(replay);
  const remaining = new ProgressObserver(replay);
  const areas = new WideObserver(replay);
  const shapes = new DustObserver(replay);
  const frames = new FlickerObserver(replay);
  const settling = new SettleObserver(replay);
  const changes = new InvisibleChangeObserver(replay);
  replay.run([idleOps, divergentOps, lines, remaining, areas, shapes, frames, settling, changes], options);

  const a = areas.result();
  const s = shapes.result();
  return {
    width: timeline.width,
    height: timeline.height,
    idle: idleOps.result(),
    divergent: divergentOps.result(),
    remaining: remaining.result(),
    lineColour: lines.result(),
    locality: { measured: a.measured, shaped: s.shaped, medianArea: a.medianArea, p95Area: a.p95Area, maxArea: a.maxArea, meanShapes: s.meanShapes, wide: a.wide, dust: s.dust },
    flicker: frames.result(),
    pacing: { ...settling.result(), ...changes.result() },
  };
}

/**
 * All metrics of one timeline against the decoded input it should reproduce. `renderer`, when given,
 * is a full-resolution renderer of `timeline` to reuse (e.g. the one the contact sheet used).
 */
export async function measureTimeline(
  timeline: Timeline,
  input: RgbImage,
  options: MetricsOptions = {},
  renderer?: TimelineRenderer,
): Promise<TimelineMetrics> {
  const full = renderer ?? new TimelineRenderer(timeline, { snapshotBudgetBytes: 0 });
  const endpoints = measureEndpoints(full, input);
  throwIfCancelled(options.signal);
  const small = await reduceTimeline(timeline, options.metricSize ?? defaultMetricSize(timeline));
  const process = measureProcess(small, {
    ...(options.frames === undefined ? {} : { frames: options.frames }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { ...endpoints, process, style: timeline.info.style };
}

/** Every threshold check, in the order tables print them. */
export function checkMetrics(m: TimelineMetrics, thresholds: Thresholds = DEFAULT_THRESHOLDS): Check[] {
  return METRICS.map((metric) => metric.check(m, thresholds));
}
