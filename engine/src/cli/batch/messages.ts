/**
 * The messages between the batch runner (runner.ts) and its worker processes (worker.ts), over Node's
 * IPC channel. One job at a time per worker: `run`, then progress and notices, then `done` or `failed`.
 */
import type { JobInput } from '../../core/job.js';
import type { JobOutput } from '../../jobs/run.js';
import type { ErrorReport } from '../errors.js';

export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  /** Validated by the parent, with a placeholder image id; the worker validates it again. */
  readonly job: JobInput;
  readonly input: string;
  readonly output: string;
  /** A folder output is written into a temp folder and renamed when complete (io/atomic-folder.ts). */
  readonly outputKind: 'file' | 'folder';
}

/** Stop the running job (Ctrl+C in the parent); the worker answers `failed` with CANCELLED. */
export interface CancelMessage {
  readonly type: 'cancel';
}

export type ToWorker = RunMessage | CancelMessage;

export type FromWorker =
  | { readonly type: 'progress'; readonly id: number; readonly fraction: number; readonly stage: string; readonly message?: string }
  | { readonly type: 'notice'; readonly id: number; readonly text: string }
  | { readonly type: 'done'; readonly id: number; readonly result: JobOutput }
  | { readonly type: 'failed'; readonly id: number; readonly error: ErrorReport; readonly debug?: string };
