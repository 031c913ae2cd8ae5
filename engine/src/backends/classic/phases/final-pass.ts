/**
 * The final pass: every layer under it holds its values back towards the paper (`FINAL_PASS_HOLD` of
 * the way at most, content.ts); the artist ends with a colour pass that deepens the darks and the
 * colours to their final strength, area by area with a broad soft brush over the whole painting. Its
 * layer is the finished artwork, so step 0 is exact.
 *
 * It is what keeps the process changing visibly to its end: a hold towards the paper leaves exactly
 * 1 - FINAL_PASS_HOLD of the blank canvas's distance to the final for this pass, whatever the picture,
 * and its strokes sweep the painted area at an even pace (what is not covered yet, area by area, not the
 * largest change first, which spent most of the distance in the first strokes and left an idle tail),
 * so the distance falls steadily through it.
 */
import { artworkContent } from '../../../core/content.js';
import { subjectStart, type Analysis } from '../analyse.js';
import { BrushPainter } from '../brush.js';
import type { Rng } from '../rng.js';
import type { Mark, PhaseWork } from './phase.js';

/** How much of the way from paper to its final colour the canvas shows before the final pass. */
export const FINAL_PASS_HOLD = 0.8;

/** The share of the process the final pass takes (it ends the painting). */
export const FINAL_PASS_SHARE = 0.12;

/**
 * A pixel darker than the paper by this many levels (in some channel) differs from its held value
 * after rounding: the final pass must cover it.
 */
const NEEDS_PASS = 3;

/** Needs the finished artwork (where it differs from its held values) and the flow field (stroke directions). */
export function prepareFinalPass(a: Analysis, flow: Float32Array, check: () => void): PhaseWork {
  const { pw, ph } = a;
  const { need, change, area } = passArea(a);
  return {
    // Strokes of the smallest brush (about 40 plan pixels each) that the painted area holds.
    capacity: Math.max(1, Math.ceil(area / 40)),
    content: () => artworkContent({}),
    propose: (budget: number, rng: Rng): Mark[] => {
      if (budget < 1 || area === 0) return [];
      const painter = new BrushPainter(pw, ph, change.slice(), flow, rng, subjectStart(a));
      painter.skip(need);
      const long = Math.max(pw, ph);
      // Broad enough that the strokes go over the whole painted area once over the pass (a stroke covers ~5 r^2; what the feathered borders leave partly covered goes to the last marks).
      const r = Math.max(long / 110, Math.min(long / 12, Math.sqrt(area / budget / 5)));
      const broad = Math.round((budget - 1) * 0.75);
      const marks = painter.pass({ count: broad, radius: [r * 0.8, r * 1.25], length: [r * 3, r * 6], seek: 'sweep', feather: 2.5, check });
      // Then smaller strokes over what the broad ones left partly covered, so the last mark is a touch, not a sweep.
      const left = budget - 1 - marks.length;
      const r2 = Math.max(long / 160, Math.min(r, Math.sqrt(painter.undoneCount / Math.max(1, left) / 5)));
      marks.push(...painter.pass({ count: left, radius: [r2 * 0.8, r2 * 1.3], length: [r2 * 3, r2 * 6], seek: 'sweep', feather: 1.5, check }));
      const residual = painter.residualStamp();
      if (residual) marks.push({ stamp: residual, strength: 1 });
      return marks;
    },
  };
}

/**
 * Where the final pass has something to do, at plan size: `need` (non-zero) where some input pixel
 * of a plan pixel (or of its neighbours) is darker than paper by NEEDS_PASS levels; `change`, how far the
 * pass moves each plan pixel (summed over channels); `area`, the plan pixels it must cover.
 */
function passArea(a: Analysis): { need: Uint8Array; change: Float32Array; area: number } {
  const { pw, ph, darkest } = a;
  const dark = new Uint8Array(pw * ph);
  for (let i = 0; i < dark.length; i++) if (255 - darkest[i]! >= NEEDS_PASS) dark[i] = 1;
  const need = new Uint8Array(pw * ph);
  const change = new Float32Array(pw * ph);
  const { r, g, b } = a.img;
  let area = 0;
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      let hit = 0;
      for (let dy = -1; dy <= 1 && !hit; dy++) for (let dx = -1; dx <= 1 && !hit; dx++) hit = dark[Math.min(ph - 1, Math.max(0, y + dy)) * pw + Math.min(pw - 1, Math.max(0, x + dx))]!;
      if (!hit) continue;
      const i = y * pw + x;
      need[i] = 1;
      area++;
      change[i] = (1 - FINAL_PASS_HOLD) * (765 - r[i]! - g[i]! - b[i]!);
    }
  }
  return { need, change, area };
}
