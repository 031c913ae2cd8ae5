/** Messages between the service's main thread and its worker threads (structured clone, same process). */
import type { SharedPlan, SourceImage } from '../core/backend.js';
import type { JobInput } from '../core/job.js';
import type { InputLimits } from '../io/decode.js';
import type { RawPixels } from '../client/protocol.js';
import type { ReadAheadWork } from './upload-ahead.js';
import { jobKindOf } from '../jobs/kinds.js';

/** Which prepared plan a job renders from: its backend, the image it is about and its seed. */
export function planKeyOf(job: JobInput): string {
  return planKey(planOf(job));
}

/** What names a prepared plan: its backend, the image it is about and its seed. */
export type PlanName = Pick<SharedPlan, 'backend' | 'imageId' | 'seed'>;

/** The plan a job renders from. */
export function planOf(job: JobInput): PlanName {
  return { backend: job.backend, imageId: jobKindOf(job).subject(job), seed: job.seed };
}

export function planKey(plan: PlanName): string {
  return `${plan.backend}:${plan.imageId}:${plan.seed}`;
}

/** What a worker gets when it starts (Worker `workerData`). */
export interface WorkerData {
  /** Modules that register backends (BackendEntry.module): the worker imports them before any job. */
  readonly backendModules: readonly string[];
  /** The engine's memory ledger (core/memory.ts) and this worker's slot in it. */
  readonly memory?: { readonly buffer: SharedArrayBuffer; readonly budgetBytes: number; readonly slot: number };
  /**
   * When given, the worker warms its default backend up once it has loaded it (Backend.warmUp), as this
   * one-slot Int32 flag says (WARM_UP): the engine pauses every warm-up while a short request waits for a
   * worker, and stops them for good when real work comes.
   */
  readonly warmUpFlag?: SharedArrayBuffer;
}

/** The values of WorkerData.warmUpFlag. */
export const WARM_UP = { run: 0, stopped: 1, paused: 2 } as const;

export interface WireError {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
  /** Stack of an unexpected error, for the engine log only. */
  internal?: string;
}

export interface WorkerFile {
  name: string;
  mime: string;
  bytes: number;
  sha256: string;
  step?: number;
}

export interface BackendDescription {
  id: string;
  displayName: string;
  version: string;
  capabilities: {
    frame: boolean;
    keyframes: boolean;
    interpolate: boolean;
    timelapse: boolean;
    layers: boolean;
    preview: boolean;
    device: 'cpu' | 'gpu';
  };
}

export type MainToWorker =
  | {
      type: 'run';
      jobId: string;
      input: JobInput;
      sources: SourceImage[];
      staging: string;
      /** Int32Array(1) over this buffer; 1 = cancelled. */
      cancelFlag: SharedArrayBuffer;
      /** Plans another worker prepared that this job needs: the backend takes them instead of planning. */
      plans?: SharedPlan[];
    }
  /**
   * Prepare the plan of (backend, image, seed) ahead of any request for it (an upload was just stored);
   * answered by 'done' (no files) or 'failed', cancelled like a job.
   */
  | { type: 'prepare'; jobId: string; backend: string; source: SourceImage; seed: number; cancelFlag: SharedArrayBuffer }
  | { type: 'cancel'; jobId: string }
  /** Free at least `bytes` of what the worker's backends keep for reuse: the engine holds more than its memory budget. */
  | { type: 'release'; bytes: number }
  /** Drop these plans and what renders from them: the engine stopped sharing them (memory budget, or their image left memory). */
  | { type: 'forget-plans'; plans: PlanName[] }
  /**
   * `pixels`: the bytes are raw pixels of this layout, not an encoded file. `ahead`: the key of the
   * 'read-ahead' this worker got for them (their hashes are mostly done). `name`: what messages call
   * the upload (a file's name); default "the upload".
   */
  | { type: 'decode'; reqId: number; bytes: Uint8Array; limits: Partial<InputLimits>; pixels?: RawPixels; ahead?: number; name?: string }
  | { type: 'describe'; reqId: number; backend: string }
  /** Fault this fresh memory in ahead of the main thread reading an upload into it, and hash behind it (upload-ahead.ts); no answer. */
  | ({ type: 'read-ahead' } & ReadAheadWork)
  | { type: 'dispose' };

export type WorkerToMain =
  /** What the workers keep for reuse went over the memory budget as this worker's grew: idle workers should release. */
  | { type: 'over-budget' }
  /** A 'release' of `requested` bytes is done (the ledger shows what was freed). */
  | { type: 'released'; requested: number }
  | { type: 'progress'; jobId: string; fraction: number; stage: string; message?: string }
  | { type: 'preview'; jobId: string; width: number; height: number; data: string }
  /**
   * The job's computing is over; only writing its files is left, which runs off the worker's thread
   * (encoding in libvips, file writes): the worker can start its next job meanwhile. Sent by frame jobs.
   */
  | { type: 'computed'; jobId: string }
  | { type: 'done'; jobId: string; files: WorkerFile[] }
  /** A plan this worker prepared, sent once (before the 'done' of the job that made it) so other workers can render from it. */
  | { type: 'plan'; plan: SharedPlan }
  /** Plans (planKey) this worker's backends made or received and no longer hold (their caches are small). */
  | { type: 'plans-dropped'; keys: string[] }
  | { type: 'failed'; jobId: string; error: WireError }
  /** `sha256`: of the decoded bytes, when they were hashed as they arrived (read ahead). */
  | { type: 'decoded'; reqId: number; source?: SourceImage; format?: string; notices?: string[]; sha256?: string; error?: WireError }
  | { type: 'described'; reqId: number; info?: BackendDescription; error?: WireError }
  | { type: 'disposed' }
  /** The warm-up (WorkerData.warmUpStop) is over: it ran through, was stopped by real work, or failed (`error`, logged). */
  | { type: 'warmed'; outcome: 'done' | 'stopped' | 'failed'; ms: number; error?: string };
