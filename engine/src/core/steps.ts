/**
 * Operation steps, as PaintsUndo defines them: step s is the canvas after pressing undo s times.
 * Step 0 is the finished artwork; step 999 is a white canvas with at most the first stroke.
 */
export const MIN_STEP = 0;
export const MAX_STEP = 999;
/**
 * Number of operations in a timeline. Rendering step s applies the first MAX_STEP - s of them,
 * so step 999 applies none (white canvas) and step 0 applies all of them (the finished artwork).
 */
export const OPERATION_COUNT = MAX_STEP;

/** Frames of a timelapse when none are asked for: the export default, and the pacing the classic planner and the evaluation judge. */
export const DEFAULT_TIMELAPSE_FRAMES = 100;

/** The keyframe steps the official PaintsUndo app uses. */
export const DEFAULT_KEYFRAME_STEPS: readonly number[] = [400, 600, 800, 900, 950, 999];

export function isStep(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= MIN_STEP && value <= MAX_STEP;
}

/** Number of operations applied when rendering `step`. */
export function operationsAppliedAt(step: number): number {
  return MAX_STEP - step;
}

/**
 * The steps of an N-frame timelapse, evenly spaced from blank (999) to finished (0),
 * or the reverse for `direction: 'undo'`.
 */
export function timelapseSteps(frames: number, direction: 'draw' | 'undo' = 'draw'): number[] {
  if (!Number.isInteger(frames) || frames < 2) throw new RangeError(`frames must be an integer >= 2, got ${frames}`);
  const steps: number[] = [];
  for (let i = 0; i < frames; i++) {
    steps.push(Math.round(MAX_STEP - (i * MAX_STEP) / (frames - 1)));
  }
  return direction === 'draw' ? steps : steps.reverse();
}
