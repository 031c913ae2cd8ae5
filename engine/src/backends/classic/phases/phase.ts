/**
 * The contract every phase of the drawing process keeps. A phase is prepared from the analysis (and,
 * where it builds on them, from the phases under it); it then knows its layer's content, how many
 * operations it can fill with visible marks, and proposes its marks for whatever budget the recipe
 * gives it. Recipes (recipes/) choose the phases of a style, share the budget and assemble the
 * operations; habits (habits.ts) are interleaved afterwards.
 */
import type { LayerContent } from '../../../core/content.js';
import type { Stamp } from '../../../core/timeline.js';
import type { Rng } from '../rng.js';

/** One mark of a phase (a stroke, a fill, a blob): a coverage stamp in plan pixels and how strongly it reveals the layer. */
export interface Mark {
  readonly stamp: Stamp;
  /** 0..1 */
  readonly strength: number;
}

export interface PhaseWork {
  /**
   * Operations the phase can fill with visible marks; past it its marks would change nothing (idle
   * steps). Brush phases that can always refine further report Infinity.
   */
  readonly capacity: number;
  /** The phase layer's content (a recipe rendered at any output size): what its marks reveal. */
  content(): LayerContent;
  /**
   * The phase's marks for `budget` operations, in drawing order: never more than `budget`, fewer
   * only when the phase has nothing more to draw (nothing visible: its marks would be idle steps), unless
   * `exact`, the recipe's last resort to fill its operations. Random choices come from `rng`, in a fixed
   * order, so a seed always yields the same marks.
   */
  propose(budget: number, rng: Rng, exact?: boolean): Mark[];
}
