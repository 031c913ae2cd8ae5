/**
 * Refinement (painterly): medium-sized forms from a lighter blur of the image, painted with smaller
 * strokes that follow the forms, where they differ most from the masses under them; smooth fields get
 * broader strokes (`brushSizes`).
 */
import type { LayerContent } from '../../../core/content.js';
import type { Analysis } from '../analyse.js';
import { BrushPainter } from '../brush.js';
import { heldMasses, planesLayer, type ValueHold } from '../content.js';
import { gaussianBlur } from '../raster.js';
import type { Rng } from '../rng.js';
import { errorTo, shownAfter, type Laid } from './canvas.js';
import { brushSizes } from './rendering.js';
import type { Mark, PhaseWork } from './phase.js';

/** The share of the rendering's smooth-field broadening (brushSizes) the refinement takes. */
const SMOOTH_SHARE = 0.25;

export class Refinement implements PhaseWork, Laid {
  readonly capacity = Infinity;
  readonly planes: readonly Float32Array[];
  /** Coverage laid by the last proposal, 0..1 per plan pixel. */
  coverage: Float32Array;
  private readonly a: Analysis;
  private readonly error: Float32Array;
  private readonly visible: Float32Array;
  private readonly blockRadius: number;
  private readonly flow: Float32Array;
  private readonly start: readonly [number, number];
  private readonly check: () => void;
  /** Brush size factor per plan pixel: broad strokes in smooth fields, where small ones would read as bricks. */
  private readonly sizeAt: Float32Array;

  /** Needs the plan image, the layers under it, the block-in's brush size, the flow field and the start. */
  constructor(a: Analysis, hold: ValueHold, under: readonly Laid[], blockRadius: number, flow: Float32Array, start: readonly [number, number], check: () => void) {
    const { pw, ph } = a;
    this.a = a;
    this.flow = flow;
    this.start = start;
    this.check = check;
    this.blockRadius = blockRadius;
    this.planes = heldMasses(a, 200, hold);
    const raw = errorTo(this.planes, shownAfter(under), null);
    this.error = gaussianBlur(raw, pw, ph, 2);
    // errorTo adds 1 per pixel (so no pixel is done by the error alone): take it off for what shows.
    this.visible = raw.map((e) => e - 1);
    this.coverage = new Float32Array(pw * ph);
    // Broader in smooth fields, but under the block-in's brush: refinement never paints bigger than the masses.
    this.sizeAt = brushSizes(a).map((k) => 1 + (k - 1) * SMOOTH_SHARE);
  }

  content(): LayerContent {
    return planesLayer(this.a.pw, this.a.ph, this.planes);
  }

  propose(budget: number, rng: Rng): Mark[] {
    const { pw, ph } = this.a;
    const r = this.blockRadius;
    const painter = new BrushPainter(pw, ph, this.error.slice(), this.flow, rng, this.start);
    painter.setVisible(this.visible);
    // Strokes that follow the form, long enough to read as strokes, not dabs.
    const marks = painter.pass({ count: budget, radius: [r * 0.35, r * 0.6], length: [r * 3, r * 6], seek: 'error', feather: r / 4, check: this.check, stopWhenDone: true, sizeAt: this.sizeAt });
    this.coverage = painter.coverage;
    return marks;
  }
}
