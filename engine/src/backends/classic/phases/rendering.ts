/**
 * Rendering: the top layer is the finished image itself; brush strokes along the structure-tensor flow
 * reveal it where the remaining error is largest near the pen, then a clean-up covers whatever is not
 * fully covered, so that step 0 is exactly the input.
 */
import { artworkContent } from '../../../core/content.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { BrushPainter } from '../brush.js';
import type { Mark, PhaseWork } from './phase.js';

/**
 * Needs the error left between the canvas under it and the final (plan size, smoothed so seeds follow
 * coherent error, not noisy pixels) and the flow field (stroke directions).
 */
export function prepareRendering(a: Analysis, error: Float32Array, flow: Float32Array, check: () => void): PhaseWork {
  const { pw, ph } = a;
  let errorArea = 0;
  for (let i = 0; i < error.length; i++) if (error[i]! > 10) errorArea++;
  return {
    capacity: Math.max(20, Math.ceil(errorArea / 80) + 15),
    content: () => artworkContent({}),
    propose: (budget, rng) => renderPasses(new BrushPainter(pw, ph, error, flow, rng, subjectStart(a)), budget, Math.max(pw, ph), check),
  };
}

/**
 * The rendering phase in passes: fine strokes where the error is largest, then a clean-up of whatever
 * is not fully covered; a last mark covers the remainder so step 0 is exact. Exactly `budget` marks.
 */
export function renderPasses(painter: BrushPainter, budget: number, long: number, check: () => void): Mark[] {
  const cleanup = Math.max(8, Math.round(budget * 0.2));
  const detail = budget - 1 - cleanup;
  const marks: Mark[] = [];
  marks.push(...painter.pass({ count: detail, radius: [long / 200, long / 90], length: [long / 40, long / 14], seek: 'error', feather: 1.5, check }));
  // Size the clean-up brush so its strokes can cover what is left.
  const undone = painter.undoneCount;
  const r = Math.max(long / 100, Math.min(long / 14, Math.sqrt(undone / Math.max(1, cleanup) / 5)));
  marks.push(...painter.pass({ count: cleanup, radius: [r * 0.8, r * 1.3], length: [r * 3, r * 6], seek: 'cover', feather: 2, check }));
  // Nothing left to cover: repeat a tiny dab (a last check stroke) rather than an empty operation.
  const residual = painter.residualStamp();
  marks.push({ stamp: residual ?? { x: 0, y: 0, width: 1, height: 1, alpha: new Uint8Array([255]) }, strength: 1 });
  return marks;
}
