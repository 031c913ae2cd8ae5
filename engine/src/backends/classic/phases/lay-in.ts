/**
 * Lay-in (painterly): the canvas is toned with a few very broad strokes of the picture's big masses (a
 * heavy blur of the image), laid across the canvas from the top, until no paper is left: every later
 * stroke lands on paint, never on white.
 */
import type { LayerContent } from '../../../core/content.js';
import type { Analysis } from '../analyse.js';
import { BrushPainter } from '../brush.js';
import { heldMasses, planesLayer, type ValueHold } from '../content.js';
import type { Rng } from '../rng.js';
import { errorTo, type Laid } from './canvas.js';
import type { Mark, PhaseWork } from './phase.js';

export class LayIn implements PhaseWork, Laid {
  readonly capacity = Infinity;
  readonly planes: readonly Float32Array[];
  /** Coverage laid by the last proposal, 0..1 per plan pixel: 1 everywhere once proposed. */
  coverage: Float32Array;
  private readonly a: Analysis;
  private readonly check: () => void;

  /** Needs only the plan image (blurred into the biggest masses, values held back by `hold`). */
  constructor(a: Analysis, hold: ValueHold, check: () => void) {
    const { pw, ph } = a;
    this.a = a;
    this.check = check;
    this.planes = heldMasses(a, 14, hold);
    this.coverage = new Float32Array(pw * ph);
  }

  content(): LayerContent {
    return planesLayer(this.a.pw, this.a.ph, this.planes);
  }

  /** `budget` broad strokes, the last of which covers whatever paper is left. */
  propose(budget: number, rng: Rng): Mark[] {
    const { pw, ph } = this.a;
    const n = pw * ph;
    // A stroke of radius r and length ~4.5 r covers ~12 r^2; strokes overlap, so aim for 2.5x the canvas.
    const r = Math.sqrt((2.5 * n) / (12 * Math.max(1, budget - 1)));
    // Broad strokes go across the canvas at one slight slant, not along the forms.
    const flow = new Float32Array(n).fill(rng.range(-0.25, 0.25));
    const painter = new BrushPainter(pw, ph, errorTo(this.planes, null, null), flow, rng, [0, 0]);
    const marks = painter.pass({ count: Math.max(0, budget - 1), radius: [r * 0.85, r * 1.15], length: [r * 3, r * 6], seek: 'cover', feather: r / 2, check: this.check });
    const residual = painter.residualStamp();
    marks.push({ stamp: residual ?? { x: 0, y: 0, width: 1, height: 1, alpha: new Uint8Array([255]) }, strength: 1 });
    this.coverage = painter.coverage;
    return marks;
  }
}
