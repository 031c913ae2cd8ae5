/** Step 999 is a blank canvas: PaintsUndo's definition of the start of the process. */
import type { TimelineRenderer } from '../../core/renderer.js';
import { MAX_STEP } from '../../core/steps.js';
import { VISIBLE_CHANGE, atMost, type LimitMetric } from './metric.js';

/** Fraction of pixels at step 999 that differ from white by more than VISIBLE_CHANGE levels, at full resolution. */
export function measureBlank(renderer: TimelineRenderer): number {
  const blank = renderer.renderStep(MAX_STEP);
  let nonWhite = 0;
  const b = blank.data;
  for (let i = 0; i < b.length; i += 3) {
    if (255 - Math.min(b[i]!, b[i + 1]!, b[i + 2]!) > VISIBLE_CHANGE) nonWhite++;
  }
  return nonWhite / (blank.width * blank.height);
}

export const blank: LimitMetric<number, 'blankNonWhite'> = {
  id: 'blank',
  label: 'non-white at step 999',
  thresholdKey: 'blankNonWhite',
  threshold: 0.01,
  definition: 'the fraction of pixels at step 999 that differ from white by more than 2 levels.',
  judge: (fraction, limit) => atMost(fraction, limit),
};
