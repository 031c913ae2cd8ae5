/**
 * Pacing, part two: each timelapse frame should change the picture visibly. A frame whose change from
 * the previous one is below what a viewer notices is a still frame in the video.
 */
import { atMost, type LimitMetric } from './metric.js';
import type { FrameInfo, ReplayContext, ReplayObserver } from './replay.js';

/**
 * One just-noticeable difference in CIELAB (ΔE*ab 2.3, Mahy et al. 1994): the smallest colour
 * difference seen between two large fields side by side. Applies to changes over a large area.
 */
export const JND = 2.3;
/**
 * A change of a small area must be a clearly different colour to be seen in a moving picture: ΔE*ab
 * 10 is the top of the "perceptible at a glance" range (2–10) for patches side by side; a small
 * mark among the whole picture, shown for a fraction of a second, needs that much.
 */
export const CLEAR_CHANGE = 10;
/** The smallest area a clear change must cover: 0.1% of the canvas (a 16 px square, or a 1 px stroke 330 px long, at 512x640). */
export const SMALL_AREA = 0.001;
/** The smallest area a just-noticeable change must cover: 5% of the canvas, a large field (a glaze, a colour pass). */
export const LARGE_AREA = 0.05;

/** sRGB level (0..255) to linear light. */
const LINEAR = Float64Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});
const labF = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);

/** CIELAB (D65) of one sRGB pixel, written to out[o..o+2]. */
export function srgbToLab(r: number, g: number, b: number, out: Float32Array, o: number): void {
  const R = LINEAR[r]!;
  const G = LINEAR[g]!;
  const B = LINEAR[b]!;
  // sRGB (IEC 61966-2-1) to XYZ, normalised by the D65 white.
  const fx = labF((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
  const fy = labF(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = labF((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
  out[o] = 116 * fy - 16;
  out[o + 1] = 500 * (fx - fy);
  out[o + 2] = 200 * (fy - fz);
}

/** How one frame's change from the previous one reads: the share of the canvas changed by each amount. */
export interface FrameChange {
  /** Share of the canvas whose colour changed by at least CLEAR_CHANGE (ΔE*ab). */
  readonly clearArea: number;
  /** Share of the canvas whose colour changed by at least JND (ΔE*ab). */
  readonly noticeableArea: number;
}

/** A frame change is visible when a small area changes clearly or a large area changes noticeably. */
export function isVisible(change: FrameChange): boolean {
  return change.clearArea >= SMALL_AREA || change.noticeableArea >= LARGE_AREA;
}

export interface InvisibleResult {
  /** False when the final image is blank paper: there is nothing to see change. */
  readonly applicable: boolean;
  /** Frame-to-frame changes judged (frames - 1). */
  readonly frameChanges: number;
  readonly invisibleChanges: number;
  /** invisibleChanges / frameChanges; 0 when the final image is blank paper. */
  readonly invisibleShare: number;
  /** The steps of the frames that changed invisibly from the frame before, in timelapse order. */
  readonly invisibleSteps: readonly number[];
}

/** Compares each timelapse frame's paint with the previous frame's, in CIELAB. */
export class InvisibleChangeObserver implements ReplayObserver {
  private readonly lastRgb: Uint8Array;
  private readonly lastLab: Float32Array;
  private readonly lab = new Float32Array(3);
  private frames = 0;
  private readonly invisibleSteps: number[] = [];

  constructor(private readonly ctx: ReplayContext) {
    this.lastRgb = new Uint8Array(ctx.pixels * 3);
    this.lastLab = new Float32Array(ctx.pixels * 3);
  }

  onFrame(frame: FrameInfo): void {
    const rgb = this.ctx.after;
    const last = this.lastRgb;
    const lastLab = this.lastLab;
    const lab = this.lab;
    const first = this.frames++ === 0;
    let clear = 0;
    let noticeable = 0;
    for (let p = 0; p < rgb.length; p += 3) {
      if (!first && rgb[p] === last[p] && rgb[p + 1] === last[p + 1] && rgb[p + 2] === last[p + 2]) continue;
      srgbToLab(rgb[p]!, rgb[p + 1]!, rgb[p + 2]!, lab, 0);
      const dE = Math.hypot(lab[0]! - lastLab[p]!, lab[1]! - lastLab[p + 1]!, lab[2]! - lastLab[p + 2]!);
      if (dE >= JND) noticeable++;
      if (dE >= CLEAR_CHANGE) clear++;
      last[p] = rgb[p]!;
      last[p + 1] = rgb[p + 1]!;
      last[p + 2] = rgb[p + 2]!;
      lastLab.set(lab, p);
    }
    if (first) return;
    const pixels = this.ctx.pixels;
    if (!isVisible({ clearArea: clear / pixels, noticeableArea: noticeable / pixels })) this.invisibleSteps.push(frame.step);
  }

  result(): InvisibleResult {
    const frameChanges = Math.max(0, this.frames - 1);
    const blankFinal = this.ctx.startDistance === 0;
    const invisibleChanges = blankFinal ? 0 : this.invisibleSteps.length;
    return {
      applicable: !blankFinal,
      frameChanges,
      invisibleChanges,
      invisibleShare: frameChanges > 0 ? invisibleChanges / frameChanges : 0,
      invisibleSteps: blankFinal ? [] : this.invisibleSteps,
    };
  }
}

export const invisible: LimitMetric<InvisibleResult, 'invisibleFrames'> = {
  id: 'invisible',
  label: 'invisible frame changes',
  thresholdKey: 'invisibleFrames',
  threshold: 0.1,
  definition:
    'the same timelapse frames, each compared with the one before on the paint, pixel by pixel, as a CIELAB colour ' +
    'difference ΔE*ab (CIE 1976, sRGB D65). A frame **changes visibly** when at least 0.1% of the canvas changes by ' +
    'ΔE 10 or more (a small mark, clearly a different colour) or at least 5% of the canvas changes by ΔE 2.3 or more ' +
    '(a large field, by one just-noticeable difference); otherwise its change is **invisible**. The metric is the share ' +
    'of the frame-to-frame changes that are invisible; the report lists their steps.',
  judge: (r, limit) =>
    !r.applicable
      ? { value: null, pass: true, applicable: false, note: 'the final image is blank paper' }
      : atMost(
          r.invisibleShare,
          limit,
          r.invisibleChanges === 0
            ? undefined
            : `${r.invisibleChanges} of ${r.frameChanges}, e.g. at steps ${r.invisibleSteps.slice(0, 5).join(', ')}`,
        ),
};
