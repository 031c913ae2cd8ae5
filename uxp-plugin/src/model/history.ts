/**
 * "Timelapse from History": which history states to read and how the recorded frames become a sequence.
 * Photoshop has no painting recorder, but its history states are real intermediate states of the work.
 */
import type { HistoryFrame, HistoryStateInfo, Pixels } from '../host/types.js';
import { meanAbsDiff, resize } from './pixels.js';

/**
 * The states that lead to what the user sees: from the oldest up to the active one (states after it are
 * undone steps), without snapshots (they are copies, not steps). At most `max`, evenly spaced, always
 * keeping the first and the active state.
 */
export function pickHistoryStates(states: readonly HistoryStateInfo[], activeId: number | undefined, max: number): number[] {
  const end = activeId === undefined ? states.length : states.findIndex((s) => s.id === activeId) + 1;
  const chain = states.slice(0, end > 0 ? end : states.length).filter((s) => !s.snapshot);
  if (chain.length <= max) return chain.map((s) => s.id);
  const picked: number[] = [];
  for (let i = 0; i < max; i++) {
    const s = chain[Math.round((i * (chain.length - 1)) / (max - 1))];
    if (s && picked[picked.length - 1] !== s.id) picked.push(s.id);
  }
  return picked;
}

export interface RecordedSequence {
  readonly frames: readonly Pixels[];
  /** Names of the history states kept, in order. */
  readonly names: readonly string[];
  readonly dropped: number;
}

/**
 * Frames of equal size, in order, without states that changed nothing visible (selections, tool changes):
 * a frame is kept when it differs from the last kept one by more than `minDiff` (mean per channel, 0..255).
 */
export function recordedSequence(frames: readonly HistoryFrame[], minDiff = 0.25): RecordedSequence {
  const first = frames[0];
  if (!first) return { frames: [], names: [], dropped: 0 };
  const { width, height } = first.pixels;
  const kept: Pixels[] = [];
  const names: string[] = [];
  let dropped = 0;
  for (const f of frames) {
    const p = resize(f.pixels, width, height);
    const last = kept[kept.length - 1];
    if (last && meanAbsDiff(last, p) <= minDiff) {
      dropped++;
      continue;
    }
    kept.push(p);
    names.push(f.name);
  }
  return { frames: kept, names, dropped };
}
