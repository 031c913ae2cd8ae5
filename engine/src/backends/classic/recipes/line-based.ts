/**
 * The recipe for line-art and monochrome pieces. Layers (bottom to top): sketch, flats (values),
 * shading, line art, rendering. Every phase is prepared first; the operation budget is then shared by
 * target shares capped by what each phase can draw without idle steps, and the habits are interleaved.
 */
import { OPERATION_COUNT } from '../../../core/steps.js';
import type { Operation, Phase } from '../../../core/timeline.js';
import type { Analysis } from '../analyse.js';
import { flowField } from '../brush.js';
import { shareBudget } from '../budget.js';
import { curveSettle, driftedCurve, flipEpisode, hideEpisode, insertAt, liftAndMove } from '../habits.js';
import { prepareFlats } from '../phases/flats.js';
import { prepareLineArt } from '../phases/lineart.js';
import { prepareRendering } from '../phases/rendering.js';
import { prepareShading } from '../phases/shading.js';
import { prepareSketch } from '../phases/sketch.js';
import { gaussianBlur } from '../raster.js';
import type { Rng } from '../rng.js';
import { segment } from '../segment.js';
import { layer, reveals, type Plan, type PlanProgress } from './plan.js';

const SKETCH = 0;
const FLATS = 1;
const SHADING = 2;
const LINES = 3;
const RENDER = 4;

/**
 * Habit events the recipe inserts (they take operations from the budget): transform (2), sketch
 * opacity (2), sketch toggle (2), sketch hide (1), flip (2), curve set (1), line-art toggle (2, not for
 * ink and monochrome work: without its lines the drawing would vanish), second flip (2), curve settle (4).
 */
const EVENTS = { colour: 18, mono: 16 };

export function* planLineBased(a: Analysis, rng: Rng, check: () => void, mono: boolean): Generator<PlanProgress, Plan, void> {
  const { pw, ph } = a;
  const n = pw * ph;
  // Everything a phase could draw first; the operation budget is shared out afterwards.
  const sketch = prepareSketch(a, rng.fork(1), check);
  yield { stage: 'planning', fraction: 0.25, message: 'sketch' };
  const lines = prepareLineArt(a, rng.fork(2), check);
  yield { stage: 'planning', fraction: 0.4, message: 'line art' };
  const seg = segment(a, { step: 9, spread: 30, minFraction: 0.0006, useLines: true }, check);
  yield { stage: 'planning', fraction: 0.5, message: `${seg.regions.length} regions` };
  const flats = prepareFlats(a, seg, mono);
  const shading = prepareShading(a, seg, flats.flats, lines.alphaPlan, check);
  yield { stage: 'planning', fraction: 0.6, message: 'flats and shading' };

  // Rendering: what is left between the shaded, inked canvas and the final.
  const error = new Float32Array(n);
  const la = lines.alphaPlan;
  const sh = shading.shading;
  for (let i = 0; i < n; i++) {
    const t = la[i]!;
    const pr = sh.r[i]! * (1 - t) + a.img.r[i]! * t;
    const pg = sh.g[i]! * (1 - t) + a.img.g[i]! * t;
    const pb = sh.b[i]! * (1 - t) + a.img.b[i]! * t;
    error[i] = Math.abs(pr - a.img.r[i]!) + Math.abs(pg - a.img.g[i]!) + Math.abs(pb - a.img.b[i]!);
  }
  // Seeds follow coherent error (a missing highlight, a strand), not single noisy pixels that would read as dust.
  const rendering = prepareRendering(a, gaussianBlur(error, pw, ph, 2), flowField(a.lum, pw, ph), check);

  const available = OPERATION_COUNT - (mono ? EVENTS.mono : EVENTS.colour);
  const budgets = shareBudget(available, {
    sketch: { target: rng.range(0.09, 0.12), cap: sketch.capacity },
    lines: { target: rng.range(0.24, 0.28), cap: lines.capacity },
    flats: { target: rng.range(0.2, 0.24), cap: flats.capacity },
    shading: { target: rng.range(0.13, 0.17), cap: shading.capacity },
    rendering: { target: 0.26, cap: rendering.capacity },
  });
  // A simple image cannot use its rendering share: rather than invisible rendering strokes, ink with
  // shorter strokes, fill in smaller chunks and go over the sketch once more.
  const surplus = budgets.rendering - rendering.capacity;
  if (surplus > 0) {
    budgets.lines += Math.floor(surplus * 0.45);
    budgets.flats += Math.floor(surplus * 0.4);
    budgets.sketch += Math.floor(surplus * 0.15);
  }

  let sketchMarks = sketch.propose(budgets.sketch, rng.fork(8));
  const lineMarks = lines.propose(budgets.lines, rng.fork(7));
  const flatMarks = flats.propose(budgets.flats, rng);
  check();
  const shadeMarks = shading.propose(budgets.shading, rng);
  yield { stage: 'planning', fraction: 0.7, message: 'shading' };

  // Steps the drawing phases could not use would become invisible rendering strokes: the sketch takes
  // them instead (more passes over its shapes, as loose sketching does).
  const drawn = (): number => sketchMarks.length + lineMarks.length + flatMarks.length + shadeMarks.length;
  const spare = available - drawn() - rendering.capacity;
  if (spare > 0 && sketch.capacity > 0) sketchMarks = sketch.propose(sketchMarks.length + spare, rng.fork(9));
  const renderMarks = rendering.propose(available - drawn(), rng.fork(6));
  yield { stage: 'planning', fraction: 0.9, message: 'rendering' };

  // Assemble, with the human habits interleaved.
  const sketchOps: Operation[] = reveals(SKETCH, 'sketch', 'pencil', sketchMarks);
  liftAndMove(sketchOps, SKETCH, a, rng);

  const lineOps: Operation[] = reveals(LINES, 'lineart', 'pen', lineMarks);
  flipEpisode(lineOps, 'lineart', rng, [0.45, 0.6], [12, 25]);
  insertAt(lineOps, rng.range(0.65, 0.8), { kind: 'opacity', phase: 'lineart', layer: SKETCH, opacity: 0.3 });
  // The inker hides the sketch for a while to judge the lines alone, then brings it back.
  hideEpisode(lineOps, 'lineart', SKETCH, rng, [0.25, 0.4], [40, 60]);
  lineOps.unshift({ kind: 'opacity', phase: 'lineart', layer: SKETCH, opacity: 0.55 });
  lineOps.push({ kind: 'visibility', phase: 'lineart', layer: SKETCH, visible: false });

  const flatPhase: Phase = mono ? 'values' : 'flats';
  const startCurve = driftedCurve(rng, mono);
  const shadePhase: Phase = mono ? 'values' : 'shading';
  const colourOps: Operation[] = [...reveals(FLATS, flatPhase, 'bucket', flatMarks), ...reveals(SHADING, shadePhase, 'airbrush', shadeMarks)];
  // Lines off for a while to check the colours alone.
  if (!mono) hideEpisode(colourOps, flatPhase, LINES, rng, [0.35, 0.55], [40, 60], Math.floor(colourOps.length * 0.4));

  // The colours are slightly off (flat, dull) through the rendering until the final levels tweak settles
  // them. Set only here: a non-identity curve costs every frame a full-canvas pass in the renderer.
  const renderAll: Operation[] = [{ kind: 'curve', phase: 'rendering', curve: startCurve }, ...reveals(RENDER, 'rendering', 'brush', renderMarks)];
  flipEpisode(renderAll, 'rendering', rng, [0.3, 0.6], [8, 16]);

  const ops = [...sketchOps, ...lineOps, ...colourOps, ...renderAll, ...curveSettle(startCurve, 4)];
  const layers = [
    layer('sketch', 'Sketch', sketch.content()),
    layer(mono ? 'values' : 'flats', mono ? 'Values' : 'Flats', flats.content()),
    layer('shading', mono ? 'Value shading' : 'Shading', shading.content()),
    layer('lineart', 'Line art', lines.content()),
    layer('rendering', 'Rendering', rendering.content()),
  ];
  return { layers, ops };
}
