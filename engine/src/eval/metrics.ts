/**
 * Quality metrics of a drawing-process timeline: floors every backend's process has to clear.
 * Each metric is described (what, how, why, threshold) in engine/src/eval/METRICS.md; keep both in step.
 *
 * Two resolutions are used on purpose:
 * - the end points (step 0 against the input, step 999 blank) are checked at full resolution, because
 *   "step 0 is the input" is a promise about the exported pixels;
 * - every per-operation metric replays the timeline once, sequentially, on a copy whose layers are
 *   downscaled to `metricSize` on the long side, by default the plan resolution (stamps stay in plan
 *   pixels; only planScale changes). 999 operations x a few passes over the plan canvas takes seconds,
 *   where full resolution would take minutes. Per-operation numbers are relative to that canvas.
 */
import sharp from 'sharp';
import { throwIfCancelled } from '../core/errors.js';
import { maxAbsDifference, type RgbImage } from '../core/image.js';
import { TimelineRenderer } from '../core/renderer.js';
import { MAX_STEP, OPERATION_COUNT, timelapseSteps } from '../core/steps.js';
import { isDeliberateEvent, type LayerSpec, type Operation, type Phase, type Timeline } from '../core/timeline.js';

/** A pixel "changed visibly" when some channel moved by at least this many levels (of 255). */
export const VISIBLE_CHANGE = 2;
/** Locality looks at clearly visible changes only; fainter ones read as texture, not as a shape. */
export const SHAPE_CHANGE = 8;
/** Changed pixels closer than this (Chebyshev, metric pixels) belong to one shape: a fill cut by line art is one fill. */
export const SHAPE_GAP = 2;

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
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  step0MaxError: 1,
  blankNonWhite: 0.01,
  divergentOps: 0.05,
  idleOps: 0.02,
  wideOps: 0.01,
  dustOps: 0.05,
  flickerWorstFrame: 0.005,
};

/** A reveal operation is "wide" when its visible change covers more than this fraction of the canvas. */
export const WIDE_AREA = 0.25;
/** Dust: at least this many separate shapes, the largest holding less than half of the changed pixels. */
export const DUST_MIN_SHAPES = 6;
export const DUST_MAX_MAIN_SHARE = 0.5;
/** Fewer clearly changed pixels than this: too small to judge its shape (a dab, a highlight). */
export const SHAPE_MIN_PIXELS = 8;
/** Flicker: a pixel jumps by more than FLICKER_JUMP and is back within FLICKER_RETURN a frame or two later. */
export const FLICKER_JUMP = 32;
export const FLICKER_RETURN = 8;
export const FLICKER_WINDOW = 2;

export interface OpList {
  readonly count: number;
  /** count / the population named by the metric. */
  readonly fraction: number;
  /** Counts per phase, to tell the backend author where to look. */
  readonly byPhase: Readonly<Partial<Record<Phase, number>>>;
  /** The first few offending operations, as steps (the canvas after the operation is that step). */
  readonly examples: readonly number[];
}

export interface EndpointMetrics {
  /** Max per-channel |step 0 - input| in levels (0..255). */
  readonly step0MaxError: number;
  /** Fraction of pixels at step 999 that differ from white by more than VISIBLE_CHANGE levels. */
  readonly blankNonWhite: number;
}

export interface LineColourOrder {
  /** Fraction of the canvas that the final image's line pixels cover. */
  readonly lineCoverage: number;
  /** Mean chroma (max - min channel, levels) of the final image. */
  readonly meanChroma: number;
  /** Step at which half of the final's line pixels are present, or null if never. */
  readonly lineStep50: number | null;
  /** Step at which half of the final's colour saturation is present, or null if never. */
  readonly colourStep50: number | null;
  /** False when the test does not apply (style, too few lines, too little colour); `reason` says why. */
  readonly applicable: boolean;
  readonly reason?: string;
  /** Lines first: lineStep50 > colourStep50 (steps count down to the finished image). */
  readonly linesFirst: boolean;
}

export interface ProcessMetrics {
  /** Size of the canvas the per-operation metrics were computed on. */
  readonly width: number;
  readonly height: number;
  readonly idle: OpList;
  /** Population: reveal operations outside flip episodes on layers visible in the final image. */
  readonly divergent: OpList & { readonly counted: number };
  readonly lineColour: LineColourOrder;
  /**
   * Share of the blank canvas's distance to the final image still to go at steps 750, 500 and 250
   * (informative, no threshold): a process whose second half changes nothing shows as a static video.
   */
  readonly remaining: { readonly 750: number; readonly 500: number; readonly 250: number };
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
  readonly flicker: {
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
  };
}

export interface TimelineMetrics extends EndpointMetrics {
  readonly process: ProcessMetrics;
  readonly style: string;
}

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

// ----------------------------------------------------------------------------------------------
// End points, at full resolution.

/** Step 0 against the input and step 999 against white paper, at full resolution. */
export function measureEndpoints(renderer: TimelineRenderer, input: RgbImage): EndpointMetrics {
  const blank = renderer.renderStep(MAX_STEP);
  let nonWhite = 0;
  const b = blank.data;
  for (let i = 0; i < b.length; i += 3) {
    if (255 - Math.min(b[i]!, b[i + 1]!, b[i + 2]!) > VISIBLE_CHANGE) nonWhite++;
  }
  const finished = renderer.renderStep(0);
  return {
    step0MaxError: maxAbsDifference(finished, input),
    blankNonWhite: nonWhite / (blank.width * blank.height),
  };
}

// ----------------------------------------------------------------------------------------------
// Reduced timeline.

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
  const layers = await Promise.all(
    timeline.layers.map(async (layer): Promise<LayerSpec> => {
      const c = layer.content;
      // sharp premultiplies alpha while resampling, so transparent pixels do not bleed their colour.
      const data = await sharp(c.data, { raw: { width: c.width, height: c.height, channels: 4 } })
        .resize(width, height, { fit: 'fill', kernel: 'linear' })
        .raw()
        .toBuffer();
      return { ...layer, content: { width, height, channels: 4, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } };
    }),
  );
  return { ...timeline, width, height, planScale: timeline.planScale * (width / timeline.width), layers };
}

// ----------------------------------------------------------------------------------------------
// Per-operation metrics.

class OpCollector {
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

function maxChannelDiff(a: Uint8Array, b: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > max) max = d;
  }
  return max;
}

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

const luma = (d: Uint8Array, p: number): number => 0.299 * d[p]! + 0.587 * d[p + 1]! + 0.114 * d[p + 2]!;
const chroma = (d: Uint8Array, p: number): number => Math.max(d[p]!, d[p + 1]!, d[p + 2]!) - Math.min(d[p]!, d[p + 1]!, d[p + 2]!);

/** Radius (pixels) of the neighbourhood a line pixel is compared with: 7x7, about twice a line's width at plan size. */
const LINE_BACKGROUND_RADIUS = 3;
/** A final-image pixel is a line pixel when it is this much darker than its surroundings and dark itself. */
const LINE_CONTRAST = 40;
const LINE_MAX_LUMA = 140;
/** Below this share of line pixels, or this mean chroma, the line-before-colour test does not apply. */
const MIN_LINE_COVERAGE = 0.005;
const MIN_MEAN_CHROMA = 6;

/**
 * Counts how many of the final image's line pixels are present on the canvas.
 *
 * A line pixel of the final is dark and clearly darker than the mean of its (2r+1)^2 neighbourhood
 * (a difference of box means: cheap, and good enough at metric size). It is present on the canvas once
 * it is darker than its own canvas neighbourhood by at least half the final's contrast. Comparing with
 * the canvas neighbourhood rather than with the final's luma matters: a line drawn on white paper counts
 * even where, at metric size, it is thinner than a pixel and shows as grey; a dark flat colour painted
 * where a line has not been drawn yet does not.
 */
class LineTracker {
  readonly count: number;
  present = 0;
  /** Per pixel: half the final's local contrast for line pixels, -1 elsewhere. */
  private readonly need: Float32Array;
  /** Canvas luma, and its box sums at line pixels. */
  private readonly luma: Float32Array;
  private readonly sums: Float64Array;
  private readonly state: Uint8Array;
  private readonly dirtyMark: Uint8Array;
  private dirty: number[] = [];

  constructor(
    final: Uint8Array,
    canvas: Uint8Array,
    private readonly width: number,
    private readonly height: number,
  ) {
    const n = width * height;
    const finalLuma = lumaPlane(final, n);
    const finalMeans = boxMeans(finalLuma, width, height);
    this.need = new Float32Array(n).fill(-1);
    let count = 0;
    for (let i = 0; i < n; i++) {
      const contrast = finalMeans[i]! - finalLuma[i]!;
      if (finalLuma[i]! <= LINE_MAX_LUMA && contrast >= LINE_CONTRAST) {
        this.need[i] = contrast / 2;
        count++;
      }
    }
    this.count = count;
    this.luma = lumaPlane(canvas, n);
    const means = boxMeans(this.luma, width, height);
    this.sums = new Float64Array(n);
    this.state = new Uint8Array(n);
    this.dirtyMark = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (this.need[i]! < 0) continue;
      this.sums[i] = means[i]! * this.area(i);
      if (means[i]! - this.luma[i]! >= this.need[i]!) {
        this.state[i] = 1;
        this.present++;
      }
    }
  }

  private area(i: number): number {
    const r = LINE_BACKGROUND_RADIUS;
    const x = i % this.width;
    const y = (i - x) / this.width;
    return (Math.min(this.width - 1, x + r) - Math.max(0, x - r) + 1) * (Math.min(this.height - 1, y + r) - Math.max(0, y - r) + 1);
  }

  /** Pixel `i` of the canvas now has luma `value`. */
  update(i: number, value: number): void {
    const delta = value - this.luma[i]!;
    if (delta === 0) return;
    this.luma[i] = value;
    const r = LINE_BACKGROUND_RADIUS;
    const w = this.width;
    const x = i % w;
    const y = (i - x) / w;
    const x0 = Math.max(0, x - r);
    const x1 = Math.min(w - 1, x + r);
    for (let yy = Math.max(0, y - r); yy <= Math.min(this.height - 1, y + r); yy++) {
      for (let k = yy * w + x0; k <= yy * w + x1; k++) {
        if (this.need[k]! < 0) continue;
        this.sums[k] = this.sums[k]! + delta;
        if (!this.dirtyMark[k]) {
          this.dirtyMark[k] = 1;
          this.dirty.push(k);
        }
      }
    }
  }

  /** Re-judges the line pixels whose neighbourhood changed since the last commit. */
  commit(): void {
    for (const k of this.dirty) {
      this.dirtyMark[k] = 0;
      const now = this.sums[k]! / this.area(k) - this.luma[k]! >= this.need[k]! ? 1 : 0;
      this.present += now - this.state[k]!;
      this.state[k] = now;
    }
    this.dirty = [];
  }
}

function lumaPlane(rgb: Uint8Array, n: number): Float32Array {
  const l = new Float32Array(n);
  for (let i = 0; i < n; i++) l[i] = luma(rgb, i * 3);
  return l;
}

/** Mean of each pixel's (2r+1)^2 neighbourhood, clipped at the borders, via a summed-area table. */
function boxMeans(l: Float32Array, width: number, height: number): Float32Array {
  const sat = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += l[y * width + x]!;
      sat[(y + 1) * (width + 1) + x + 1] = sat[y * (width + 1) + x + 1]! + row;
    }
  }
  const r = LINE_BACKGROUND_RADIUS;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height, y + r + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width, x + r + 1);
      const sum = sat[y1 * (width + 1) + x1]! - sat[y0 * (width + 1) + x1]! - sat[y1 * (width + 1) + x0]! + sat[y0 * (width + 1) + x0]!;
      out[y * width + x] = sum / ((x1 - x0) * (y1 - y0));
    }
  }
  return out;
}

/**
 * Labels the clearly changed pixels of `mask` inside a box with gap-tolerant connectivity and returns
 * [shapes, pixels in the largest shape]. Union-find over the box; neighbours within SHAPE_GAP.
 */
function shapes(mask: Uint8Array, width: number, box: [number, number, number, number], parent: Int32Array): [number, number] {
  const [x0, y0, x1, y1] = box;
  const bw = x1 - x0;
  const bh = y1 - y0;
  const find = (i: number): number => {
    let root = i;
    while (parent[root]! !== root) root = parent[root]!;
    while (parent[i]! !== root) {
      const next = parent[i]!;
      parent[i] = root;
      i = next;
    }
    return root;
  };
  const g = SHAPE_GAP;
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const i = y * bw + x;
      if (!mask[(y + y0) * width + x + x0]) {
        parent[i] = -1;
        continue;
      }
      parent[i] = i;
      // Earlier neighbours only (rows above within the gap, and the left part of this row).
      for (let dy = -g; dy <= 0; dy++) {
        const yy = y + dy;
        if (yy < 0) continue;
        const xEnd = dy === 0 ? -1 : g;
        for (let dx = -g; dx <= xEnd; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= bw) continue;
          const j = yy * bw + xx;
          if (parent[j]! < 0) continue;
          const a = find(i);
          const b = find(j);
          if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
        }
      }
    }
  }
  const sizes = new Map<number, number>();
  for (let i = 0; i < bw * bh; i++) {
    if (parent[i]! < 0) continue;
    const root = find(i);
    sizes.set(root, (sizes.get(root) ?? 0) + 1);
  }
  let largest = 0;
  for (const s of sizes.values()) largest = Math.max(largest, s);
  return [sizes.size, largest];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Replays `timeline` operation by operation and measures every per-operation metric.
 * Pass a timeline already reduced to metric size (see reduceTimeline); its canvas is measured as is.
 *
 * Paint is measured on the renderer's composite (layers over paper, before the global curve and the
 * flip): strokes drawn while the canvas is flipped are judged like any other, and no full-canvas copy
 * is made per operation. Flip and curve operations change only the view, so they alone are judged
 * on the view (currentCanvas) for idleness; timelapse frames for flicker are views too.
 */
export function measureProcess(timeline: Timeline, options: { frames?: number; signal?: AbortSignal } = {}): ProcessMetrics {
  const { width, height } = timeline;
  const pixels = width * height;
  // Sequential replay needs no snapshots beyond the initial one.
  const renderer = new TimelineRenderer(timeline, { snapshotBudgetBytes: 0 });
  renderer.seek(OPERATION_COUNT);
  const final = renderer.compositeView.slice();
  renderer.seek(0);

  const shown = finalLayerShown(timeline);
  const comp = renderer.compositeView;
  const prev = comp.slice();
  let finalChroma = 0;
  const chromaF = new Uint8Array(pixels);
  let distance = 0;
  let colourPresent = 0;
  for (let i = 0, p = 0; i < pixels; i++, p += 3) {
    const cf = chroma(final, p);
    chromaF[i] = cf;
    finalChroma += cf;
    colourPresent += Math.min(chroma(prev, p), cf);
    distance += Math.abs(prev[p]! - final[p]!) + Math.abs(prev[p + 1]! - final[p + 1]!) + Math.abs(prev[p + 2]! - final[p + 2]!);
  }
  const meanChroma = finalChroma / pixels;
  const lines = new LineTracker(final, prev, width, height);
  const linePixels = lines.count;
  const startDistance = distance;
  const remaining = { 750: 0, 500: 0, 250: 0 };
  let lineStep50: number | null = linePixels > 0 && lines.present * 2 >= linePixels ? MAX_STEP : null;
  let colourStep50: number | null = finalChroma > 0 && colourPresent * 2 >= finalChroma ? MAX_STEP : null;

  const frameSteps = timelapseSteps(options.frames ?? 100, 'draw');
  const frameAt = new Set<number>(frameSteps.map((s) => MAX_STEP - s));
  const frames: Uint8Array[] = [];
  const frameFlipped: boolean[] = [];
  if (frameAt.has(0)) {
    frames.push(renderer.currentCanvas().data);
    frameFlipped.push(renderer.isFlipped);
  }

  const idle = new OpCollector();
  const divergent = new OpCollector();
  let counted = 0;
  const wide = new OpCollector();
  const dust = new OpCollector();
  let revealOps = 0;
  const areas: number[] = [];
  let shapeSum = 0;
  let shaped = 0;
  const mask = new Uint8Array(pixels);
  const parent = new Int32Array(pixels);
  // Word-wise comparison finds the changed pixels ~4x faster than byte-wise; a 3-byte pixel can
  // straddle two words, so the words are mapped back to the pixels they touch.
  const aligned = comp.byteOffset % 4 === 0 && prev.byteOffset % 4 === 0;
  const words = Math.floor(comp.length / 4);
  const compWords = aligned ? new Uint32Array(comp.buffer, comp.byteOffset, words) : null;
  const prevWords = aligned ? new Uint32Array(prev.buffer, prev.byteOffset, words) : null;

  for (let applied = 1; applied <= OPERATION_COUNT; applied++) {
    if ((applied & 63) === 0) throwIfCancelled(options.signal);
    const op = timeline.operations[applied - 1]!;
    const viewOnly = op.kind === 'flip' || op.kind === 'curve';
    const viewBefore = viewOnly ? renderer.currentCanvas().data : null;
    const flippedBefore = renderer.isFlipped;
    renderer.seek(applied);
    const flipped = renderer.isFlipped;

    let maxChange = 0;
    let visible = 0;
    let clear = 0;
    let changedPixels = 0;
    let bx0 = width;
    let by0 = height;
    let bx1 = -1;
    let by1 = -1;
    const before = distance;
    let lastPixel = -1;
    // Updates every running sum for one changed pixel, then brings `prev` up to date.
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
      changedPixels++;
      const d = Math.max(Math.abs(r1 - r0), Math.abs(g1 - g0), Math.abs(b1 - b0));
      if (d > maxChange) maxChange = d;
      if (d >= VISIBLE_CHANGE) visible++;
      if (d >= SHAPE_CHANGE) {
        mask[i] = 1;
        clear++;
        const x = i % width;
        const y = (i - x) / width;
        if (x < bx0) bx0 = x;
        if (x > bx1) bx1 = x;
        if (y < by0) by0 = y;
        if (y > by1) by1 = y;
      }
      const fr = final[p]!;
      const fg = final[p + 1]!;
      const fb = final[p + 2]!;
      distance += Math.abs(r1 - fr) + Math.abs(g1 - fg) + Math.abs(b1 - fb) - (Math.abs(r0 - fr) + Math.abs(g0 - fg) + Math.abs(b0 - fb));
      const cf = chromaF[i]!;
      colourPresent += Math.min(chroma(comp, p), cf) - Math.min(chroma(prev, p), cf);
      lines.update(i, luma(comp, p));
      prev[p] = r1;
      prev[p + 1] = g1;
      prev[p + 2] = b1;
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
    lines.commit();
    const step = MAX_STEP - applied;
    if (step === 750 || step === 500 || step === 250) remaining[step] = startDistance > 0 ? distance / startDistance : 0;
    if (lineStep50 === null && linePixels > 0 && lines.present * 2 >= linePixels) lineStep50 = step;
    if (colourStep50 === null && finalChroma > 0 && colourPresent * 2 >= finalChroma) colourStep50 = step;

    // Idle is judged on what the artist sees: a flip or a curve changes the view, not the paint.
    const change = viewBefore ? maxChannelDiff(viewBefore, renderer.currentCanvas().data) : maxChange;
    if (change < VISIBLE_CHANGE) idle.add(op, applied);

    if (op.kind === 'reveal') {
      revealOps++;
      // isDeliberateEvent is the core's definition of "not paint"; today that is every non-reveal op.
      // Rounding in the compositor may move a pixel by a level: one level per changed pixel is noise.
      if (!isDeliberateEvent(op) && !flipped && !flippedBefore && shown[op.layer]) {
        counted++;
        if (distance - before > changedPixels) divergent.add(op, applied);
      }
      if (visible > 0) {
        // Area counts faint changes too: a slow whole-canvas fade changes every pixel by a few levels.
        const area = visible / pixels;
        areas.push(area);
        if (area > WIDE_AREA) wide.add(op, applied);
      }
      if (clear >= SHAPE_MIN_PIXELS) {
        const [count, largest] = shapes(mask, width, [bx0, by0, bx1 + 1, by1 + 1], parent);
        shaped++;
        shapeSum += count;
        if (count >= DUST_MIN_SHAPES && largest < DUST_MAX_MAIN_SHARE * clear) dust.add(op, applied);
      }
    }
    if (clear > 0) {
      for (let y = by0; y <= by1; y++) mask.fill(0, y * width + bx0, y * width + bx1 + 1);
    }

    if (frameAt.has(applied)) {
      frames.push(renderer.currentCanvas().data);
      frameFlipped.push(flipped);
    }
  }

  const measured = measureFlicker(frames, frameFlipped, frameSteps, pixels);
  const flicker = { ...measured, suspects: flickerSuspects(timeline, frameSteps, measured.worstStep) };
  areas.sort((a, b) => a - b);
  const lineCoverage = linePixels / pixels;
  const style = timeline.info.style;
  let reason: string | undefined;
  if (style === 'painterly' || style === 'monochrome') reason = `a ${style} process has no line-art-then-colour order`;
  else if (lineCoverage < MIN_LINE_COVERAGE) reason = `the image has few line pixels (${(lineCoverage * 100).toFixed(2)}% of the canvas)`;
  else if (meanChroma < MIN_MEAN_CHROMA) reason = `the image has little colour (mean chroma ${meanChroma.toFixed(1)})`;
  const linesFirst = lineStep50 !== null && (colourStep50 === null || lineStep50 > colourStep50);

  return {
    width,
    height,
    idle: idle.result(OPERATION_COUNT),
    divergent: { ...divergent.result(counted), counted },
    remaining,
    lineColour: {
      lineCoverage,
      meanChroma,
      lineStep50,
      colourStep50,
      applicable: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
      linesFirst,
    },
    locality: {
      measured: areas.length,
      shaped,
      medianArea: quantile(areas, 0.5),
      p95Area: quantile(areas, 0.95),
      maxArea: areas.length > 0 ? areas[areas.length - 1]! : 0,
      meanShapes: shaped > 0 ? shapeSum / shaped : 0,
      wide: wide.result(revealOps),
      dust: dust.result(revealOps),
    },
    flicker,
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
): Omit<ProcessMetrics['flicker'], 'suspects'> {
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

// ----------------------------------------------------------------------------------------------
// Everything together.

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
  const p = m.process;
  const at = (value: number, limit: number): boolean => value <= limit;
  const lc = p.lineColour;
  return [
    { id: 'step0', label: 'max error at step 0 (levels)', value: m.step0MaxError, limit: thresholds.step0MaxError, pass: at(m.step0MaxError, thresholds.step0MaxError), applicable: true },
    { id: 'blank', label: 'non-white at step 999', value: m.blankNonWhite, limit: thresholds.blankNonWhite, pass: at(m.blankNonWhite, thresholds.blankNonWhite), applicable: true },
    { id: 'divergent', label: 'ops moving away from final', value: p.divergent.fraction, limit: thresholds.divergentOps, pass: at(p.divergent.fraction, thresholds.divergentOps), applicable: true },
    {
      id: 'lineColour',
      label: 'lines before colour',
      value: lc.linesFirst,
      limit: null,
      pass: !lc.applicable || lc.linesFirst,
      applicable: lc.applicable,
      note: lc.applicable ? `50% lines at step ${lc.lineStep50 ?? 'never'}, 50% colour at step ${lc.colourStep50 ?? 'never'}` : lc.reason,
    },
    { id: 'wide', label: 'wide reveal ops (>25% of canvas)', value: p.locality.wide.fraction, limit: thresholds.wideOps, pass: at(p.locality.wide.fraction, thresholds.wideOps), applicable: true },
    { id: 'dust', label: 'scattered-dust reveal ops', value: p.locality.dust.fraction, limit: thresholds.dustOps, pass: at(p.locality.dust.fraction, thresholds.dustOps), applicable: true },
    { id: 'idle', label: 'idle ops', value: p.idle.fraction, limit: thresholds.idleOps, pass: at(p.idle.fraction, thresholds.idleOps), applicable: true },
    {
      id: 'flicker',
      label: 'worst frame flicker',
      value: p.flicker.worstFrameFraction,
      limit: thresholds.flickerWorstFrame,
      pass: at(p.flicker.worstFrameFraction, thresholds.flickerWorstFrame),
      applicable: true,
      ...(p.flicker.worstStep === null ? {} : { note: `at step ${p.flicker.worstStep}` }),
    },
  ];
}
