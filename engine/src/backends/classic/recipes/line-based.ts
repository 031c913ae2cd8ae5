/**
 * The recipe for pieces painted in flats: line art (`lineart`), ink (`monochrome`) and flat colour or
 * cel shading without drawn line art (`flat`). Layers (bottom to top): sketch, flats (values), shading,
 * line art, rendering. Line art is inked right after the sketch, except in flat pieces, where the few
 * real lines they have (eyelashes, a mouth) are drawn as details once the colours are in. Every phase is
 * prepared first; the operation budget is then shared by target shares capped by what each phase can
 * draw without idle steps, and the habits are interleaved.
 */
import { OPERATION_COUNT } from '../../../core/steps.js';
import type { Operation, Phase } from '../../../core/timeline.js';
import type { Analysis } from '../analyse.js';
import { flowField } from '../brush.js';
import { shareBudget } from '../budget.js';
import { curveSettle, driftedCurve, episodeTiming, flipEpisode, hideEpisode, insertAt, liftAndMove, placeHide, type EpisodeTiming } from '../habits.js';
import { FINAL_PASS_HOLD, FINAL_PASS_SHARE, prepareFinalPass } from '../phases/final-pass.js';
import { prepareFlats } from '../phases/flats.js';
import { prepareLineArt } from '../phases/lineart.js';
import { prepareRendering, renderCapacity } from '../phases/rendering.js';
import { prepareShading } from '../phases/shading.js';
import { prepareSketch } from '../phases/sketch.js';
import { heldContent, held, heldPlanes, valueHold } from '../content.js';
import { coverageOf } from '../phases/canvas.js';
import type { Rng } from '../rng.js';
import { FLAT_REGIONS, segment } from '../segment.js';
import { layer, reveals, type Plan, type PlanProgress } from './plan.js';

/**
 * Layer indices. Line art replaces the sketch (under everything, hidden once inked); in flat pieces the
 * sketch stays on top (multiplied, as digital painters keep it) over the flats until they are done, so
 * painting a flat never wipes the drawing it follows.
 */
function layerOrder(linesFirst: boolean): { SKETCH: number; FLATS: number; SHADING: number; LINES: number; RENDER: number; FINAL: number } {
  return linesFirst
    ? { SKETCH: 0, FLATS: 1, SHADING: 2, RENDER: 3, LINES: 4, FINAL: 5 }
    : { FLATS: 0, SHADING: 1, RENDER: 2, LINES: 3, FINAL: 4, SKETCH: 5 };
}

/**
 * Habit events the recipe inserts (they take operations from the budget): transform (2), sketch
 * opacity (2), sketch toggle (2), sketch hide (1), flip (2), curve set (1), line-art toggle (2, not for
 * ink and monochrome work: without its lines the drawing would vanish), second flip (2), curve settle (4).
 * Flat pieces: transform (2), sketch opacity (1), sketch toggle (2), sketch hide (1), flip (2), curve
 * set (1), second flip (2), curve settle (4).
 */
/**
 * How much of the way from paper to their colours the flats and shading show; the rendering takes them
 * to FINAL_PASS_HOLD, the final pass to the end.
 */
const VALUE_HOLD = 0.7;

const EVENTS = { lineart: 18, monochrome: 16, flat: 15 };

export type FlatsStyle = keyof typeof EVENTS;

export function* planLineBased(a: Analysis, rng: Rng, check: () => void, style: FlatsStyle): Generator<PlanProgress, Plan, void> {
  const mono = style === 'monochrome';
  const linesFirst = style !== 'flat';
  const { SKETCH, FLATS, SHADING, LINES, RENDER, FINAL } = layerOrder(linesFirst);
  const { pw, ph } = a;
  const n = pw * ph;
  // Everything a phase could draw first; the operation budget is shared out afterwards.
  const sketch = prepareSketch(a, rng.fork(1), check);
  yield { stage: 'planning', fraction: 0.25, message: 'sketch' };
  const lines = prepareLineArt(a, rng.fork(2), check);
  yield { stage: 'planning', fraction: 0.4, message: 'line art' };
  const seg = segment(a, FLAT_REGIONS, check);
  yield { stage: 'planning', fraction: 0.5, message: `${seg.regions.length} regions` };
  // The colour layers hold their values back; the rendering deepens them, the final pass ends them.
  const hold = valueHold(VALUE_HOLD);
  const flats = prepareFlats(a, seg, mono, hold);
  const shading = prepareShading(a, seg, flats.flats, lines.alphaPlan, check);
  yield { stage: 'planning', fraction: 0.6, message: 'flats and shading' };

  const finalHold = valueHold(FINAL_PASS_HOLD);
  const flow = flowField(a.lum, pw, ph);
  const finalPass = prepareFinalPass(a, flow, check);
  const finalMarks = finalPass.propose(Math.min(finalPass.capacity, Math.round(OPERATION_COUNT * FINAL_PASS_SHARE)), rng.fork(13));
  /**
   * What is left for the rendering: the error between its held final and the canvas the other phases leave
   * (paper, then the flats, the shading and the line art where their marks cover it). Before their
   * marks are known, every layer is taken as fully laid (to size the rendering's share).
   */
  // The held final once (the error is measured twice), and which labels the flats and shading paint.
  const finalHeld = heldPlanes([a.img.r, a.img.g, a.img.b], finalHold);
  const flat = [flats.flats.flatR, flats.flats.flatG, flats.flats.flatB];
  const shade = [shading.shading.r, shading.shading.g, shading.shading.b];
  const paintedLabel = new Uint8Array(seg.regions.length + 1);
  for (const l of flats.painted) paintedLabel[l] = 1;
  const shadedLabel = new Uint8Array(seg.regions.length + 1);
  for (const l of shading.shaded) shadedLabel[l] = 1;
  const renderError = (cover: { flats: Float32Array; shading: Float32Array; lines: Float32Array } | null): Float32Array => {
    const error = new Float32Array(n);
    const la = lines.alphaPlan;
    const labels = seg.labels;
    for (let i = 0; i < n; i++) {
      const cf = cover ? cover.flats[i]! : paintedLabel[labels[i]!]!;
      const cs = cover ? cover.shading[i]! : shadedLabel[labels[i]!]!;
      const cl = (cover ? cover.lines[i]! : 1) * la[i]!;
      let e = 0;
      for (let c = 0; c < 3; c++) {
        const target = finalHeld[c]![i]!;
        let v = 255 * (1 - cf) + held(flat[c]![i]!, c, hold) * cf;
        v = v * (1 - cs) + held(shade[c]![i]!, c, hold) * cs;
        v = v * (1 - cl) + target * cl;
        e += Math.abs(v - target);
      }
      error[i] = e;
    }
    return error;
  };
  const renderShare = renderCapacity(renderError(null));

  const available = OPERATION_COUNT - EVENTS[style] - finalMarks.length;
  const budgets = shareBudget(available, {
    sketch: { target: rng.range(0.09, 0.12), cap: sketch.capacity },
    lines: { target: linesFirst ? rng.range(0.24, 0.28) : 0.08, cap: lines.capacity },
    flats: { target: rng.range(0.2, 0.24), cap: flats.capacity },
    shading: { target: rng.range(0.08, 0.11), cap: shading.capacity },
    rendering: { target: 0.32, cap: renderShare },
  });
  // A simple image cannot use its rendering share: rather than invisible rendering strokes, ink with
  // shorter strokes and fill in smaller chunks while each still shows (their capacities), and go over the
  // sketch once more.
  const surplus = budgets.rendering - renderShare;
  if (surplus > 0) {
    budgets.lines = Math.min(lines.capacity, budgets.lines + Math.floor(surplus * 0.45));
    budgets.flats = Math.min(flats.capacity, budgets.flats + Math.floor(surplus * 0.4));
    budgets.sketch += Math.floor(surplus * 0.15);
  }

  let sketchMarks = sketch.propose(budgets.sketch, rng.fork(8));
  let lineMarks = lines.propose(budgets.lines, rng.fork(7));
  let flatMarks = flats.propose(budgets.flats, rng);
  check();
  const shadeMarks = shading.propose(budgets.shading, rng);
  yield { stage: 'planning', fraction: 0.7, message: 'shading' };

  // Steps the drawing phases could not use would become invisible rendering strokes: the sketch takes
  // them instead (more passes over its shapes, as loose sketching does).
  const drawn = (): number => sketchMarks.length + lineMarks.length + flatMarks.length + shadeMarks.length;
  const spare = available - drawn() - renderShare;
  if (spare > 0 && sketch.capacity > 0) sketchMarks = sketch.propose(sketchMarks.length + spare, rng.fork(9));
  // Seeds follow coherent error (a missing highlight, a strand), not single noisy pixels that would read as dust.
  const rendering = prepareRendering(
    a,
    renderError({ flats: coverageOf(flatMarks, pw, ph), shading: coverageOf(shadeMarks, pw, ph), lines: coverageOf(lineMarks, pw, ph) }),
    2,
    flow,
    check,
    // Over flat fills a small brush would leave streaks in a smooth background: glaze it broadly.
    true,
  );
  let renderMarks = rendering.propose(available - drawn(), rng.fork(6));
  // Rendering stops when nothing visible is left: the drawing phases take the steps it leaves, with
  // shorter pen strokes and smaller fills as far as each still shows, the sketch whatever they cannot use.
  const left = (): number => available - drawn() - renderMarks.length;
  if (left() > 0) {
    const extra = left();
    lineMarks = lines.propose(Math.min(lines.capacity, lineMarks.length + Math.floor(extra * (linesFirst ? 0.45 : 0.2))), rng.fork(10));
    flatMarks = flats.propose(Math.min(flats.capacity, flatMarks.length + Math.floor(extra * 0.4)), rng.fork(11));
  }
  if (left() > 0 && sketch.capacity > 0) sketchMarks = sketch.propose(sketchMarks.length + left(), rng.fork(12));
  if (left() !== 0) renderMarks = rendering.propose(available - drawn(), rng.fork(6), true);
  yield { stage: 'planning', fraction: 0.9, message: 'rendering' };

  // Assemble, with the human habits interleaved.
  const sketchOps: Operation[] = reveals(SKETCH, 'sketch', 'pencil', sketchMarks);
  liftAndMove(sketchOps, SKETCH, a, rng);

  const lineOps: Operation[] = reveals(LINES, 'lineart', 'pen', lineMarks);
  const flatPhase: Phase = mono ? 'values' : 'flats';
  const shadePhase: Phase = mono ? 'values' : 'shading';
  const colourOps: Operation[] = [...reveals(FLATS, flatPhase, 'bucket', flatMarks), ...reveals(SHADING, shadePhase, 'airbrush', shadeMarks)];
  let linesOff: EpisodeTiming | undefined;
  if (linesFirst) {
    flipEpisode(lineOps, 'lineart', rng, [0.45, 0.6], [12, 25]);
    insertAt(lineOps, rng.range(0.65, 0.8), { kind: 'opacity', phase: 'lineart', layer: SKETCH, opacity: 0.3 });
    // The inker hides the sketch for a while to judge the lines alone, then brings it back.
    hideEpisode(lineOps, 'lineart', SKETCH, rng, [0.25, 0.4], [40, 60]);
    lineOps.unshift({ kind: 'opacity', phase: 'lineart', layer: SKETCH, opacity: 0.55 });
    lineOps.push({ kind: 'visibility', phase: 'lineart', layer: SKETCH, visible: false });
    // Lines off for a while to check the colours alone (placed below, once the rendering's operations exist).
    if (!mono) linesOff = episodeTiming(rng, [0.35, 0.55], [40, 60]);
  } else {
    // No line art to ink: the flats are laid under the faded sketch, which is checked on and off and
    // hidden once the colours carry the drawing.
    flipEpisode(colourOps, flatPhase, rng, [0.45, 0.6], [12, 25]);
    hideEpisode(colourOps, flatPhase, SKETCH, rng, [0.2, 0.35], [40, 60], Math.floor(colourOps.length * 0.4));
    colourOps.unshift({ kind: 'opacity', phase: flatPhase, layer: SKETCH, opacity: 0.5 });
    colourOps.push({ kind: 'visibility', phase: shadePhase, layer: SKETCH, visible: false });
  }
  const startCurve = driftedCurve(rng, mono);

  // The colours are slightly off (flat, dull) through the rendering until the final levels tweak settles
  // them. Set only here: a non-identity curve costs every frame a full-canvas pass in the renderer.
  const renderAll: Operation[] = [{ kind: 'curve', phase: 'rendering', curve: startCurve }, ...reveals(RENDER, 'rendering', 'brush', renderMarks)];
  flipEpisode(renderAll, 'rendering', rng, [0.3, 0.6], [8, 16]);
  // Within the colour work, or on into the rendering where there is too little colour work to hide the lines for long.
  if (linesOff) placeHide(colourOps, flatPhase, LINES, linesOff, Math.floor(colourOps.length * 0.4), { ops: renderAll, phase: 'rendering' });

  const drawing = linesFirst ? [...lineOps, ...colourOps] : [...colourOps, ...lineOps];
  const ops = [...sketchOps, ...drawing, ...renderAll, ...reveals(FINAL, 'rendering', 'brush', finalMarks), ...curveSettle(startCurve, 4)];
  const sketchLayer = layer('sketch', 'Sketch', sketch.content(), linesFirst ? 'normal' : 'multiply');
  const layers = [
    layer(mono ? 'values' : 'flats', mono ? 'Values' : 'Flats', heldContent({ inner: flats.content(), hold })),
    layer('shading', mono ? 'Value shading' : 'Shading', heldContent({ inner: shading.content(), hold })),
    layer('rendering', 'Rendering', heldContent({ inner: rendering.content(), hold: finalHold })),
    // Ink goes down at its final weight and colour, over the painting as digital painters keep it: the
    // rendering and the final pass paint under and around the lines, never over them.
    layer('lineart', 'Line art', lines.content()),
    layer('final', 'Final pass', finalPass.content()),
  ];
  if (linesFirst) layers.unshift(sketchLayer);
  else layers.push(sketchLayer);
  return { layers, ops };
}
