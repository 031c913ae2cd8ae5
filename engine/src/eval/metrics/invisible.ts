/**
 * Pacing, part two: each timelapse frame should change the picture visibly. A frame whose change from
 * the previous one is below what a viewer notices is a still frame in the video.
 */
import { CLEAR_CHANGE, JND, isVisible, srgbToLab } from '../../core/visibility.js';
import { atMost, type LimitMetric } from './metric.js';
import type { FrameInfo, ReplayContext, ReplayObserver } from './replay.js';

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
