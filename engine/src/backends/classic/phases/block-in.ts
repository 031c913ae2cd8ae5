/**
 * Block-in (painterly): big colour masses from a heavy blur of the image, laid over the toned canvas with
 * large brush strokes that follow the forms, where the masses differ most from the lay-in first, until
 * the canvas is mostly covered (the layers above complete it).
 */
import type { LayerContent } from '../../../core/content.js';
import type { Analysis } from '../analyse.js';
import { BrushPainter } from '../brush.js';
import { heldMasses, planesLayer, type ValueHold } from '../content.js';
import type { Rng } from '../rng.js';
import { errorTo, shownAfter, type Laid } from './canvas.js';
import type { Mark, PhaseWork } from './phase.js';

export class BlockIn implements PhaseWork, Laid {
  readonly capacity = Infinity;
  readonly planes: readonly Float32Array[];
  /** Coverage laid by the last proposal, 0..1 per plan pixel. */
  coverage: Float32Array;
  /** Brush radius of the last proposal, in plan pixels (the phases above size their brushes from it). */
  radius = 0;
  private readonly a: Analysis;
  private readonly under: readonly Laid[];
  private readonly flow: Float32Array;
  private readonly start: readonly [number, number];
  private readonly check: () => void;

  /** Needs the plan image (blurred into masses, values held back by `hold`), what is laid under it, the flow field and where the artist starts. */
  constructor(a: Analysis, hold: ValueHold, under: readonly Laid[], flow: Float32Array, start: readonly [number, number], check: () => void) {
    const { pw, ph } = a;
    this.a = a;
    this.under = under;
    this.flow = flow;
    this.start = start;
    this.check = check;
    this.planes = heldMasses(a, 60, hold);
    this.coverage = new Float32Array(pw * ph);
  }

  content(): LayerContent {
    return planesLayer(this.a.pw, this.a.ph, this.planes);
  }

  propose(budget: number, rng: Rng): Mark[] {
    const { pw, ph } = this.a;
    // Sized so the block-in covers the canvas (with the overlap strokes have) over its whole budget (a stroke covers ~14 r^2).
    const r = Math.sqrt((2.6 * pw * ph) / (14 * budget));
    this.radius = r;
    // Block-in only needs the canvas mostly covered (coverage 170 of 255 counts as done).
    const error = this.under.length > 0 ? errorTo(this.planes, shownAfter(this.under), null) : errorTo(this.planes, null, null);
    const painter = new BrushPainter(pw, ph, error, this.flow, rng, this.start, 170);
    const marks = painter.pass({ count: budget, radius: [r * 0.8, r * 1.25], length: [r * 3, r * 6], seek: 'cover', feather: r / 2, check: this.check });
    this.coverage = painter.coverage;
    return marks;
  }
}
