/**
 * Progress mapping shared by the job kinds: what a caller sees is one monotonic fraction for the whole
 * job, whatever parts (intro frames, the backend's process, hold frames) it is made of.
 */
import type { Progress } from '../core/backend.js';

export type ProgressSink = (progress: Progress) => void;

/** Forwards to `onProgress` with the fraction clamped to 0..1 and never going back: a bar that jumps back looks broken. */
export function monotonicProgress(onProgress: ProgressSink | undefined): ProgressSink {
  let last = -1;
  return (progress) => {
    last = Math.max(last, Math.min(1, Math.max(0, progress.fraction)));
    onProgress?.({ ...progress, fraction: last });
  };
}

/** Counts streamed video frames: each call reports "frame n of total" under the given stage. */
export function frameCounter(report: ProgressSink, totalFrames: number): (stage: string) => void {
  let emitted = 0;
  return (stage) => {
    emitted++;
    report({ fraction: emitted / totalFrames, stage, message: `frame ${emitted} of ${totalFrames}` });
  };
}

/**
 * Maps a part's own 0..1 progress onto frames `offset` .. `offset + span` of a `totalFrames` video, keeping
 * its stage and message (e.g. "segment 3 of 6, step 12 of 50").
 */
export function partProgress(report: ProgressSink, offset: number, span: number, totalFrames: number): ProgressSink {
  return (progress) => report({ ...progress, fraction: (offset + progress.fraction * span) / totalFrames });
}
