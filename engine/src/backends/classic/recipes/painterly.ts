/**
 * The recipe for painterly pieces (no line art): sketch, block-in of big masses, refinement of forms,
 * rendering. Phases build on the coverage of the ones under them, so they are proposed in order.
 */
import { OPERATION_COUNT } from '../../../core/steps.js';
import type { Operation } from '../../../core/timeline.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { flowField } from '../brush.js';
import { curveSettle, driftedCurve, flipEpisode, hideEpisode, insertAt, liftAndMove } from '../habits.js';
import { BlockIn } from '../phases/block-in.js';
import { errorTo, shownAfter } from '../phases/canvas.js';
import { Refinement } from '../phases/refinement.js';
import { prepareRendering } from '../phases/rendering.js';
import { prepareSketch } from '../phases/sketch.js';
import { gaussianBlur } from '../raster.js';
import type { Rng } from '../rng.js';
import { layer, reveals, type Plan, type PlanProgress } from './plan.js';

const SKETCH = 0;
const BLOCK = 1;
const REFINE = 2;
const RENDER = 3;

/** Habit events: transform (2), sketch opacity (1), curve set (1), flip (2), sketch hide (1), peek (2), curve settle (4). */
const EVENTS = 13;

export function* planPainterly(a: Analysis, rng: Rng, check: () => void): Generator<PlanProgress, Plan, void> {
  const { pw, ph, img } = a;

  const sketchBudget = rng.int(60, 85);
  const sketchRng = rng.fork(1);
  const sketch = prepareSketch(a, sketchRng, check);
  const sketchMarks = sketch.propose(sketchBudget, sketchRng);
  yield { stage: 'planning', fraction: 0.3, message: 'sketch' };

  const flow = flowField(a.lum, pw, ph);
  const start = subjectStart(a);
  const blockIn = new BlockIn(a, flow, start, check);
  const blockMarks = blockIn.propose(rng.int(220, 260), rng.fork(2));
  yield { stage: 'planning', fraction: 0.5, message: 'block-in' };
  const refineBudget = rng.int(230, 270);
  const refinement = new Refinement(a, blockIn, flow, start, check);
  const refineMarks = refinement.propose(refineBudget, rng.fork(3));
  yield { stage: 'planning', fraction: 0.7, message: 'refinement' };

  const renderBudget = OPERATION_COUNT - EVENTS - sketchMarks.length - blockMarks.length - refineMarks.length;
  const shown = shownAfter([blockIn, refinement]);
  const rendering = prepareRendering(a, gaussianBlur(errorTo([img.r, img.g, img.b], shown, null), pw, ph, 1), flow, check);
  const renderMarks = rendering.propose(renderBudget, rng.fork(4));
  yield { stage: 'planning', fraction: 0.9, message: 'rendering' };

  const sketchOps: Operation[] = reveals(SKETCH, 'sketch', 'pencil', sketchMarks);
  liftAndMove(sketchOps, SKETCH, a, rng);
  const startCurve = driftedCurve(rng);
  const blockAll: Operation[] = [{ kind: 'opacity', phase: 'blockin', layer: SKETCH, opacity: 0.5 }, ...reveals(BLOCK, 'blockin', 'brush', blockMarks)];
  flipEpisode(blockAll, 'blockin', rng, [0.4, 0.7], [10, 20]);
  const refineAll: Operation[] = reveals(REFINE, 'shading', 'brush', refineMarks);
  // Painters switch the sketch off for a while early in the block-in to judge the masses, bring it back,
  // and hide it for good once the masses carry the drawing. (Hiding the layer being painted would make
  // its strokes invisible: idle steps.)
  insertAt(refineAll, 0.05, { kind: 'visibility', phase: 'shading', layer: SKETCH, visible: false });
  hideEpisode(blockAll, 'blockin', SKETCH, rng, [0.15, 0.3], [40, 60]);
  const ops: Operation[] = [
    ...sketchOps,
    ...blockAll,
    ...refineAll,
    { kind: 'curve', phase: 'rendering', curve: startCurve },
    ...reveals(RENDER, 'rendering', 'brush', renderMarks),
    ...curveSettle(startCurve, 4),
  ];
  const layers = [
    layer('sketch', 'Sketch', sketch.content()),
    layer('blockin', 'Block-in', blockIn.content()),
    layer('refinement', 'Refinement', refinement.content()),
    layer('rendering', 'Rendering', rendering.content()),
  ];
  return { layers, ops };
}
