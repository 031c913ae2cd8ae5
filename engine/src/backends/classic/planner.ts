/**
 * The classic planner: turns a finished illustration into a drawing-process Timeline, the way an
 * illustrator works. It analyses the image (analyse.ts), picks the recipe of its style (recipes/),
 * which prepares its phases (phases/), shares the operation budget (budget.ts) and interleaves the
 * habits (habits.ts). Analysis and stroke planning happen at plan resolution; layer contents are
 * built at full resolution so lines and flats stay crisp.
 *
 * The top "rendering" layer's content is the input itself and its coverage reaches 255 everywhere by
 * the last operation, which makes step 0 equal to the input exactly.
 */
import type { SourceImage } from '../../core/backend.js';
import { cancelledError } from '../../core/errors.js';
import { OPERATION_COUNT } from '../../core/steps.js';
import type { Timeline } from '../../core/timeline.js';
import { analyse, type Style } from './analyse.js';
import { planLineBased } from './recipes/line-based.js';
import { planPainterly } from './recipes/painterly.js';
import type { PlanProgress } from './recipes/plan.js';
import { Rng } from './rng.js';
import { paceOperations } from './pacing.js';
import type { RgbImage } from '../../core/image.js';
import type { PlanRgb } from './raster.js';

export type { PlanProgress } from './recipes/plan.js';

export const CLASSIC_VERSION = '1.0.0';

export interface PlanOptions {
  /** Force a style instead of detecting it. */
  readonly style?: Style;
}

/** Plans synchronously; `signal` is checked between stages and inside long loops. */
export function planTimeline(
  source: SourceImage,
  seed: number,
  options: PlanOptions = {},
  signal?: AbortSignal,
  onProgress?: (p: PlanProgress) => void,
): Timeline {
  const steps = planSteps(source, seed, options, signal);
  while (true) {
    const r = steps.next();
    if (r.done) return r.value;
    onProgress?.(r.value);
  }
}

/**
 * The planner as a generator that yields between stages, so an async caller can give the event loop a
 * turn (and see an abort) while a synchronous caller just runs it through.
 */
export function* planSteps(
  source: SourceImage,
  seed: number,
  options: PlanOptions = {},
  signal?: AbortSignal,
): Generator<PlanProgress, Timeline, void> {
  const check = (): void => {
    if (signal?.aborted) throw cancelledError();
  };
  check();
  yield { stage: 'analysing', fraction: 0, message: 'reading structure' };
  const a = analyse(source.image);
  const style = options.style ?? a.style;
  check();
  const rng = new Rng(seed);
  yield { stage: 'analysing', fraction: 0.15, message: `style: ${style}` };

  const plan = style === 'painterly' ? yield* planPainterly(a, rng, check) : yield* planLineBased(a, rng, check, style);
  yield { stage: 'planning', fraction: 0.95, message: 'pacing' };
  const ops = paceOperations(plan.ops, plan.layers, { art: planArt(a.img) }, check);
  if (ops.length !== OPERATION_COUNT) throw new Error(`planner produced ${ops.length} operations, expected ${OPERATION_COUNT}`);
  yield { stage: 'planning', fraction: 1, message: 'done' };
  return {
    width: source.image.width,
    height: source.image.height,
    planScale: a.scale,
    finished: source.image,
    layers: plan.layers,
    operations: ops,
    info: { backend: 'classic', backendVersion: CLASSIC_VERSION, seed, style },
  };
}

/** The plan image as 8-bit RGB: the artwork pacing measures layer changes against (pacing.ts). */
function planArt(img: PlanRgb): RgbImage {
  const { width, height } = img;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; i < width * height; i++, o += 3) {
    data[o] = Math.round(img.r[i]!);
    data[o + 1] = Math.round(img.g[i]!);
    data[o + 2] = Math.round(img.b[i]!);
  }
  return { width, height, channels: 3, data };
}
