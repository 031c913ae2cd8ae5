/**
 * The scheduling policy of the job manager: which queued computation starts next, and on which worker.
 * Pure: it reads the queue and the workers' state and decides; jobs.ts owns the state and acts.
 */
import type { JobInput } from '../core/job.js';
import { jobKindOf } from '../jobs/kinds.js';

/** What the policy needs to know of a job waiting in a computation. */
export interface SchedulableJob {
  readonly priority: 'interactive' | 'batch';
  readonly device: 'cpu' | 'gpu';
  readonly input: JobInput;
}

export interface WorkerState {
  /** A GPU computation is running (GPU backends run one at a time). */
  readonly gpuBusy: boolean;
  /** The worker is rendering an interactive frame right now. */
  busyWithInteractive(worker: number): boolean;
  /** The job's plan is shared between the workers (see pool.ts): any worker renders it without planning. */
  planShared(input: JobInput): boolean;
  /** The worker preparing the job's plan ahead of it (after an upload, see pool.ts), if one does. */
  preparingAhead(input: JobInput): number | undefined;
  /** The worker is free but still writes an earlier job's files (see pool.ts acceptsJob). */
  writing(worker: number): boolean;
}

/**
 * The next computation to start (its index in `queue`) and its worker. Interactive before batch, FIFO
 * within each.
 * - Same image, same worker while the image's plan lives in one worker only (planning again takes
 *   seconds): an interactive frame whose worker is busy with another interactive frame waits for it (a
 *   frame takes milliseconds); behind a batch job it moves to a free worker. Once the plan is shared,
 *   frames of the image run on every free worker at once. A job whose plan a worker prepares ahead (after
 *   the upload) goes to that worker, where it joins the planning instead of starting another.
 * - GPU jobs always use worker 0, so only one copy of a model's sessions occupies GPU memory.
 * - With more than one worker, batch jobs never take the last free one.
 * - A worker still writing an earlier job's files takes only a frame whose plan is shared: its thread is
 *   busy for one render, so the earlier job's last steps (which need that thread) wait milliseconds, not
 *   a planning stage.
 */
export function pickNext(
  queue: readonly { readonly jobs: Iterable<SchedulableJob> }[],
  open: readonly number[],
  poolSize: number,
  workers: WorkerState,
): { index: number; worker: number } | undefined {
  let batchPick: { index: number; worker: number } | undefined;
  const idle = open.filter((worker) => !workers.writing(worker));
  for (let i = 0; i < queue.length; i++) {
    const [first] = queue[i]!.jobs;
    if (!first) continue;
    const brief = first.input.kind === 'frame' && workers.planShared(first.input);
    const free = brief ? open : idle;
    const affinity = first.device === 'gpu' ? 0 : (workers.preparingAhead(first.input) ?? homeWorker(affinityOf(first.input), poolSize));
    if (first.device === 'gpu') {
      if (workers.gpuBusy || !free.includes(0)) continue;
    }
    const worker = free.includes(affinity) ? affinity : first.device === 'gpu' ? undefined : free[0];
    if (worker === undefined) continue;
    if (first.priority === 'interactive') {
      if (worker !== affinity && workers.busyWithInteractive(affinity) && !workers.planShared(first.input)) continue;
      return { index: i, worker };
    }
    if (poolSize > 1 && free.length < 2) continue;
    batchPick ??= { index: i, worker };
  }
  return batchPick;
}

/** The worker jobs on `subject` (an image id, hex) prefer while nothing else decides. */
export function homeWorker(subject: string, poolSize: number): number {
  return parseInt(subject.slice(0, 8), 16) % poolSize;
}

/** The image whose plan a job needs most: jobs on one image prefer one worker. */
function affinityOf(input: JobInput): string {
  return jobKindOf(input).subject(input);
}
