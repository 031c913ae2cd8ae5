/** Line before colour: illustrators draw line art, then colour under it. */
import { MAX_STEP } from '../../core/steps.js';
import type { PassFailMetric } from './metric.js';
import type { OpChange, ReplayContext, ReplayObserver } from './replay.js';

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

/** Follows line pixels and colour through the replay and notes when half of each is present. */
export class LineColourObserver implements ReplayObserver {
  private readonly lines: LineTracker;
  private readonly chromaF: Uint8Array;
  private readonly finalChroma: number;
  private colourPresent = 0;
  private lineStep50: number | null;
  private colourStep50: number | null;

  constructor(private readonly ctx: ReplayContext) {
    const { final, before, pixels } = ctx;
    this.chromaF = new Uint8Array(pixels);
    let finalChroma = 0;
    for (let i = 0, p = 0; i < pixels; i++, p += 3) {
      const cf = chroma(final, p);
      this.chromaF[i] = cf;
      finalChroma += cf;
      this.colourPresent += Math.min(chroma(before, p), cf);
    }
    this.finalChroma = finalChroma;
    this.lines = new LineTracker(final, before, ctx.width, ctx.height);
    this.lineStep50 = this.linesHalfway() ? MAX_STEP : null;
    this.colourStep50 = this.colourHalfway() ? MAX_STEP : null;
  }

  private linesHalfway(): boolean {
    return this.lines.count > 0 && this.lines.present * 2 >= this.lines.count;
  }

  private colourHalfway(): boolean {
    return this.finalChroma > 0 && this.colourPresent * 2 >= this.finalChroma;
  }

  afterOp(c: OpChange): void {
    const { before, after } = this.ctx;
    for (let k = 0; k < c.count; k++) {
      const i = c.changed[k]!;
      const p = i * 3;
      const cf = this.chromaF[i]!;
      this.colourPresent += Math.min(chroma(after, p), cf) - Math.min(chroma(before, p), cf);
      this.lines.update(i, luma(after, p));
    }
    this.lines.commit();
    if (this.lineStep50 === null && this.linesHalfway()) this.lineStep50 = c.step;
    if (this.colourStep50 === null && this.colourHalfway()) this.colourStep50 = c.step;
  }

  result(): LineColourOrder {
    const pixels = this.ctx.pixels;
    const lineCoverage = this.lines.count / pixels;
    const meanChroma = this.finalChroma / pixels;
    const style = this.ctx.timeline.info.style;
    let reason: string | undefined;
    if (NO_LINE_ART_STAGE.has(style)) reason = `a ${style} process has no line-art-then-colour order`;
    else if (lineCoverage < MIN_LINE_COVERAGE) reason = `the image has few line pixels (${(lineCoverage * 100).toFixed(2)}% of the canvas)`;
    else if (meanChroma < MIN_MEAN_CHROMA) reason = `the image has little colour (mean chroma ${meanChroma.toFixed(1)})`;
    const { lineStep50, colourStep50 } = this;
    return {
      lineCoverage,
      meanChroma,
      lineStep50,
      colourStep50,
      applicable: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
      linesFirst: lineStep50 !== null && (colourStep50 === null || lineStep50 > colourStep50),
    };
  }
}

/**
 * Styles whose process has no line art stage before the colour: paintings, ink work (no colour), and
 * flat colour or cel pieces without drawn line art (their few real lines are details, drawn last).
 */
const NO_LINE_ART_STAGE = new Set(['painterly', 'monochrome', 'flat']);

export const lineColour: PassFailMetric<LineColourOrder> = {
  id: 'lineColour',
  label: 'lines before colour',
  thresholdKey: null,
  threshold: null,
  definition:
    'line pixels of the final image are dark pixels (luma ≤ 140) at least 40 levels darker than the mean of their 7×7 ' +
    'neighbourhood. A line pixel is **present** once the canvas there is darker than its own 7×7 canvas neighbourhood by ' +
    "at least half of the final's contrast (so a line on white paper counts, and a dark flat where no line is drawn yet " +
    'does not). Colour is chroma (max − min channel); the colour present is Σ min(canvas chroma, final chroma) over ' +
    'Σ final chroma. The metric reports the step at which 50% of the line pixels are present and the step at which 50% ' +
    'of the colour is present.',
  judge: (lc) => ({
    value: lc.linesFirst,
    pass: !lc.applicable || lc.linesFirst,
    applicable: lc.applicable,
    ...(lc.applicable
      ? { note: `50% lines at step ${lc.lineStep50 ?? 'never'}, 50% colour at step ${lc.colourStep50 ?? 'never'}` }
      : lc.reason === undefined
        ? {}
        : { note: lc.reason }),
  }),
};
