/** Step 0 is the input: the last frame of every timelapse is the artist's finished image. */
import { maxAbsDifference, type RgbImage } from '../../core/image.js';
import type { TimelineRenderer } from '../../core/renderer.js';
import { atMost, type LimitMetric } from './metric.js';

/** Max per-channel |step 0 - input| in levels (0..255), at full resolution. */
export function measureStep0(renderer: TimelineRenderer, input: RgbImage): number {
  return maxAbsDifference(renderer.renderStep(0), input);
}

export const step0: LimitMetric<number, 'step0MaxError'> = {
  id: 'step0',
  label: 'max error at step 0 (levels)',
  thresholdKey: 'step0MaxError',
  threshold: 1,
  definition:
    'the largest per-channel difference between step 0 rendered at full resolution and the decoded input flattened onto white.',
  judge: (error, limit) => atMost(error, limit),
};
