/**
 * The recipe for painterly pieces (no line art, no flat shapes: paintings, photo-like renders): sketch,
 * a lay-in that tones the whole canvas with broad strokes, block-in of big masses, refinement of forms,
 * rendering. Phases build on the coverage of the ones under them, so they are proposed in order.
 */
import { OPERATION_COUNT } from '../../../core/steps.js';
import type { Operation } from '../../../core/timeline.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { flowField } from '../brush.js';
import { heldContent, heldPlanes, valueHold } from '../content.js';
import { curveSettle, driftedCurve, flipEpisode, hideEpisode, insertAt, liftAndMove } from '../habits.js';
import { BlockIn } from '../phases/block-in.js';
import { LayIn } from '../phases/lay-in.js';
import { errorTo, shownAfter } from '../phases/canvas.js';
import { Refinement } from '../phases/refinement.js';
import { FINAL_PASS_HOLD, FINAL_PASS_SHARE, prepareFinalPass } from '../phases/final-pass.js';
import { prepareRendering } from '../phases/rendering.js';
import { prepareSketch } from '../phases/sketch.js';
import type { Rng } from '../rng.js';
import { layer, reveals, type Plan, type PlanProgress } from './plan.js';

// The sketch lies on top (multiplied, as painters keep it digitally), so it guides the lay-in and the
// block-in, and is hidden once the forms carry the drawing, before the rendering.
const LAYIN = 0;
const BLOCK = 1;
const REFINE = 2;
const RENDER = 3;
const FINAL = 4;
const SKETCH = 5;

/** Habit events: transform (2), sketch opacity (1), curve set (1), flip (2), sketch hide (1), peek (2), curve settle (4). */
const EVENTS = 13;

export function* planPainterly(a: Analysis, rng: Rng, check: () => void): Generator<PlanProgress, Plan, void> {
  const { pw, ph, img } = a;

  const sketchBudget = rng.int(60, 85);
  const sketchRng = rng.fork(1);
  const sketch = prepareSketch(a, sketchRng, check);
  let sketchMarks = sketch.propose(sketchBudget, sketchRng);
  yield { stage: 'planning', fraction: 0.3, message: 'sketch' };

  const flow = flowField(a.lum, pw, ph);
  const start = subjectStart(a);
  // Values build up from the paper: the toned canvas shows under half of the way to the final colours,
  // the masses more, the refinement more still, the rendering FINAL_PASS_HOLD; the final pass ends them.
  const finalHold = valueHold(FINAL_PASS_HOLD);
  const finalPass = prepareFinalPass(a, flow, check);
  const finalMarks = finalPass.propose(Math.min(finalPass.capacity, Math.round(OPERATION_COUNT * FINAL_PASS_SHARE)), rng.fork(7));
  const layIn = new LayIn(a, valueHold(0.45), check);
  const layMarks = layIn.propose(rng.int(24, 32), rng.fork(5));
  const blockIn = new BlockIn(a, valueHold(0.58), [layIn], flow, start, check);
  const blockMarks = blockIn.propose(rng.int(170, 210), rng.fork(2));
  yield { stage: 'planning', fraction: 0.5, message: 'block-in' };
  const refineBudget = rng.int(230, 270);
  const refinement = new Refinement(a, valueHold(0.7), [layIn, blockIn], blockIn.radius, flow, start, check);
  const refineMarks = refinement.propose(refineBudget, rng.fork(3));
  yield { stage: 'planning', fraction: 0.7, message: 'refinement' };

  const renderBudget = OPERATION_COUNT - EVENTS - finalMarks.length - sketchMarks.length - layMarks.length - blockMarks.length - refineMarks.length;
  const shown = shownAfter([layIn, blockIn, refinement]);
  const rendering = prepareRendering(a, errorTo(heldPlanes([img.r, img.g, img.b], finalHold), shown, null), 1, flow, check, true);
  let renderMarks = rendering.propose(renderBudget, rng.fork(4));
  // Rendering stops when nothing visible is left: the sketch goes over its shapes more instead (within
  // reason: a sketch that goes on for half the process is no sketch), the rest stays with the rendering.
  const both = sketchMarks.length + renderBudget;
  if (renderMarks.length < renderBudget && sketch.capacity > 0) sketchMarks = sketch.propose(Math.min(sketchBudget * 2, both - renderMarks.length), rng.fork(6));
  if (sketchMarks.length + renderMarks.length !== both) renderMarks = rendering.propose(both - sketchMarks.length, rng.fork(4), true);
  yield { stage: 'planning', fraction: 0.9, message: 'rendering' };

  const sketchOps: Operation[] = reveals(SKETCH, 'sketch', 'pencil', sketchMarks);
  liftAndMove(sketchOps, SKETCH, a, rng);
  const startCurve = driftedCurve(rng);
  const blockAll: Operation[] = [
    { kind: 'opacity', phase: 'blockin', layer: SKETCH, opacity: 0.5 },
    ...reveals(LAYIN, 'blockin', 'brush', layMarks),
    ...reveals(BLOCK, 'blockin', 'brush', blockMarks),
  ];
  flipEpisode(blockAll, 'blockin', rng, [0.4, 0.7], [10, 20]);
  const refineAll: Operation[] = reveals(REFINE, 'shading', 'brush', refineMarks);
  // Painters switch the sketch off for a while early in the block-in to judge the masses, bring it back,
  // and hide it for good once the masses carry the drawing.
  insertAt(refineAll, 0.05, { kind: 'visibility', phase: 'shading', layer: SKETCH, visible: false });
  hideEpisode(blockAll, 'blockin', SKETCH, rng, [0.15, 0.3], [40, 60]);
  const ops: Operation[] = [
    ...sketchOps,
    ...blockAll,
    ...refineAll,
    { kind: 'curve', phase: 'rendering', curve: startCurve },
    ...reveals(RENDER, 'rendering', 'brush', renderMarks),
    ...reveals(FINAL, 'rendering', 'brush', finalMarks),
    ...curveSettle(startCurve, 4),
  ];
  const layers = [
    layer('layin', 'Lay-in', layIn.content()),
    layer('blockin', 'Block-in', blockIn.content()),
    layer('refinement', 'Refinement', refinement.content()),
    layer('rendering', 'Rendering', heldContent({ inner: rendering.content(), hold: finalHold })),
    layer('final', 'Final pass', finalPass.content()),
    layer('sketch', 'Sketch', sketch.content(), 'multiply'),
  ];
  return { layers, ops };
}
