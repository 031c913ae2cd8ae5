/**
 * Refinement (painterly): medium-sized forms from a lighter blur of the image, painted with smaller
 * strokes where they differ most from the block-in under them.
 */
import type { LayerContent } from '../../../core/content.js';
import type { Analysis } from '../analyse.js';
import { BrushPainter } from '../brush.js';
import { planesContent } from '../content.js';
import { gaussianBlur } from '../raster.js';
import type { Rng } from '../rng.js';
import { errorTo, type Laid } from './canvas.js';
import type { Mark, PhaseWork } from './phase.js';

export class Refinement implements PhaseWork, Laid {
  readonly capacity = Infinity;
  readonly planes: readonly Float32Array[];
  /** Coverage laid by the last proposal, 0..1 per plan pixel. */
  coverage: Float32Array;
  private readonly a: Analysis;
  private readonly error: Float32Array;
  private readonly blockRadius: number;
  private readonly flow: Float32Array;
  private readonly start: readonly [number, number];
  private readonly check: () => void;

  /** Needs the plan image, the block-in under it (its masses, coverage and brush size), the flow field and the start. */
  constructor(a: Analysis, under: Laid & { readonly radius: number }, flow: Float32Array, start: readonly [number, number], check: () => void) {
    const { pw, ph, img } = a;
    this.a = a;
    this.flow = flow;
    this.start = start;
    this.check = check;
    this.blockRadius = under.radius;
    this.planes = [img.r, img.g, img.b].map((c) => gaussianBlur(c, pw, ph, Math.max(pw, ph) / 200));
    this.error = gaussianBlur(errorTo(this.planes, under.planes, under.coverage), pw, ph, 2);
    this.coverage = new Float32Array(pw * ph);
  }

  content(): LayerContent {
    return planesContent({ pw: this.a.pw, ph: this.a.ph, r: this.planes[0]!, g: this.planes[1]!, b: this.planes[2]! });
  }

  propose(budget: number, rng: Rng): Mark[] {
    const { pw, ph } = this.a;
    const r = this.blockRadius;
    const painter = new BrushPainter(pw, ph, this.error, this.flow, rng, this.start);
    const marks = painter.pass({ count: budget, radius: [r * 0.4, r * 0.7], length: [r * 2, r * 4], seek: 'error', feather: r / 4, check: this.check });
    this.coverage = painter.coverage;
    return marks;
  }
}
