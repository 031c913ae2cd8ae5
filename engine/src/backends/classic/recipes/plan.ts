/** What a recipe hands back to the planner, and the small helpers recipes assemble it with. */
import type { LayerContent } from '../../../core/content.js';
import type { BlendMode, LayerSpec, Operation, Phase, RevealOperation } from '../../../core/timeline.js';
import type { Mark } from '../phases/phase.js';

export interface Plan {
  readonly layers: LayerSpec[];
  readonly ops: Operation[];
}

export interface PlanProgress {
  readonly stage: 'analysing' | 'planning';
  /** 0..1 within planning. */
  readonly fraction: number;
  readonly message: string;
}

/** A phase's marks as reveal operations on `layer`. */
export function reveals(layer: number, phase: Phase, tool: RevealOperation['tool'], marks: readonly Mark[]): RevealOperation[] {
  return marks.map((m) => ({ kind: 'reveal', phase, layer, stamp: m.stamp, strength: m.strength, tool }));
}

/** An exported layer, visible and opaque from the start. */
export function layer(id: string, name: string, content: LayerContent, blend: BlendMode = 'normal'): LayerSpec {
  return { id, name, blend, content, initiallyVisible: true, initialOpacity: 1, exported: true };
}
