/**
 * Following jobs on one connection: who waits for which job, its progress events, and the final events
 * that arrive before anyone waits (a job served from the cache finishes before `submit` returns).
 */
import { EngineError, type EventPayload, type Job, type JobProgress } from './protocol.js';

export type JobProgressListener = (progress: JobProgress, preview?: EventPayload<'job.progress'>['preview']) => void;

interface JobWaiter {
  resolve(job: Job): void;
  reject(error: unknown): void;
  onProgress?: JobProgressListener | undefined;
}

const FINISHED_EVENTS_KEPT = 256;

export class JobTracker {
  private readonly waiters = new Map<string, JobWaiter[]>();
  /** Final events that arrived before anyone waited for them (a job finishing very fast). */
  private readonly finished = new Map<string, Job>();

  /** Resolves with the finished job; rejects with EngineError (CANCELLED, or the failure's code). */
  wait(job: Job, onProgress: JobProgressListener | undefined): Promise<Job> {
    return new Promise<Job>((resolve, reject) => {
      const waiter: JobWaiter = { resolve, reject, onProgress };
      const early = this.finished.get(job.id);
      if (isFinal(job) || early) {
        this.finished.delete(job.id);
        settle(waiter, early ?? job);
        return;
      }
      const list = this.waiters.get(job.id) ?? [];
      list.push(waiter);
      this.waiters.set(job.id, list);
    });
  }

  progress(event: EventPayload<'job.progress'>): void {
    for (const w of this.waiters.get(event.job) ?? []) w.onProgress?.(event.progress, event.preview);
  }

  /** A job.done, job.failed or job.cancelled event. */
  finish(job: Job): void {
    const waiters = this.waiters.get(job.id);
    if (!waiters) {
      this.finished.set(job.id, job);
      if (this.finished.size > FINISHED_EVENTS_KEPT) this.finished.delete(this.finished.keys().next().value as string);
      return;
    }
    this.waiters.delete(job.id);
    for (const w of waiters) settle(w, job);
  }

  /** The connection is gone: every waiting job fails with `error`. */
  rejectAll(error: EngineError): void {
    for (const list of this.waiters.values()) for (const w of list) w.reject(error);
    this.waiters.clear();
  }
}

function isFinal(job: Job): boolean {
  return job.state === 'done' || job.state === 'failed' || job.state === 'cancelled';
}

function settle(waiter: JobWaiter, job: Job): void {
  if (job.state === 'done') {
    waiter.resolve(job);
  } else {
    const code = job.error?.code ?? 'CANCELLED';
    waiter.reject(
      new EngineError(code, job.error?.message ?? `Job ${job.id} was ${job.state}.`, job.error?.hint ? { hint: job.error.hint } : {}),
    );
  }
}
