/**
 * A fixed pool of worker threads (worker.ts). The scheduler decides which job runs where; the pool
 * carries messages, replaces a worker that dies (failing its jobs with INTERNAL), and shuts down.
 * It also keeps the plans workers share: a job sent to a worker that lacks its image's plan carries the
 * plan along, so frames of one image render on every worker at once. A worker reports the plans its
 * backends' small caches dropped, so one that dropped a plan is sent it again. Shared plans count in the
 * memory budget (up to half of it, least recently used dropped first), and a plan goes when its image
 * leaves the image store's memory (`forgetImage`): a plan holds its image, and must not keep it past that.
 * A plan the pool drops, the workers drop too.
 * A plan can also be prepared ahead on an idle worker (`prepareAhead`, after an upload): that worker
 * stays free for jobs, which cancel the preparation unless it is the plan they need (then they join it).
 * With `warmUp`, new workers warm their default backend up while nothing else is asked of them. A short
 * request (a backend's description) pauses every warm-up while it waits; the first real work (an upload,
 * a decode, a job, a plan ahead) stops them (`stopWarmingUp`), and none starts again after that.
 */
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';
import type { SharedPlan, SourceImage } from '../core/backend.js';
import { PaintsUndoError, type ErrorCode } from '../core/errors.js';
import { MemoryLedger, releases, type MemoryShare } from '../core/memory.js';
import type { JobInput } from '../core/job.js';
import type { InputLimits } from '../io/decode.js';
import type { RawPixels } from '../client/protocol.js';
import { startModuleWorker } from '../io/threads.js';
import { backendModules } from '../backends/registry.js';
import { planKey, planKeyOf, WARM_UP, type BackendDescription, type PlanName, type MainToWorker, type WireError, type WorkerData, type WorkerFile, type WorkerToMain } from './worker-protocol.js';
import { READ_AHEAD_MIN_BYTES, UploadProgress } from './upload-ahead.js';

export interface RunCallbacks {
  onProgress(update: { fraction: number; stage: string; message?: string }): void;
  onPreview(preview: { width: number; height: number; data: string }): void;
  /** The worker has finished computing the job and can take another (see `acceptsJob`); its files follow. */
  onComputed?(): void;
}

interface RunningJob {
  readonly worker: number;
  readonly flag: Int32Array;
  readonly callbacks: RunCallbacks;
  resolve(files: WorkerFile[]): void;
  reject(error: PaintsUndoError): void;
}

interface Slot {
  worker: Worker;
  /** Jobs the worker is computing. */
  jobs: Set<string>;
  /** Jobs whose computing is over and whose files are being written (see the 'computed' message). */
  finishing: Set<string>;
  /** Keys of the shared plans this worker's backends hold. */
  plans: Set<string>;
  /** The plan this worker prepares ahead of any job, if any (see prepareAhead). */
  ahead?: { readonly id: string; readonly key: string };
  /** When a job last finished computing there (performance.now()): its renderers were used then. */
  lastUsed: number;
  /** Bytes asked back from this worker that it has not released yet (see rebalanceMemory). */
  releasing: number;
}

/**
 * Jobs per worker that may be writing their files at once: a worker whose previous job still writes
 * takes the next one (a frame's PNG encoding and write hide behind the next frame's rendering), but one
 * with this many writing waits, which bounds the frame buffers held.
 */
const MAX_FINISHING = 2;

/**
 * Shared plans may hold this share of the memory budget (a plan is ~25-40 MB whatever the image's size:
 * its snapshots have a budget of their own); the rest is the warm renderers'. Plans are worth more than
 * their bytes (seconds of planning each), renderers are big and quick to make again.
 */
const SHARED_PLANS_SHARE = 0.5;
/** The plans used last are kept even beyond their share: the image being worked on keeps its plan. */
const MIN_SHARED_PLANS = 2;

/** What all workers' backends may keep for reuse by default (see WorkerPool's `memoryBytes`). */
export const DEFAULT_WORKER_MEMORY_BYTES = 1024 * 1024 * 1024;

export interface WorkerPoolOptions {
  readonly log?: (message: string) => void;
  /** What the pool and every worker's backends together may keep for reuse (shared plans, warm renderers). */
  readonly memoryBytes?: number;
  /** Warm the workers' default backend up until real work arrives (Backend.warmUp). Default false. */
  readonly warmUp?: boolean;
}

/** A worker's report of how its warm-up ended (see WorkerPoolOptions.warmUp). */
type WarmUpReport = Extract<WorkerToMain, { type: 'warmed' }>;
export type WarmUpOutcome = WarmUpReport['outcome'];

function createWorker(memory: NonNullable<WorkerData['memory']>, warmUpFlag: SharedArrayBuffer | undefined): Worker {
  // Workers collect garbage right after they release memory while idle (worker.ts collectWhenIdle). The
  // flag cannot be given to a worker (V8 flags are for the whole process); set before the worker starts,
  // it gives the worker's global scope `gc`, and the main thread's stays as it is.
  v8.setFlagsFromString('--expose-gc');
  // The backends registered from outside the registry's table, so the worker registers them too.
  const workerData: WorkerData = { backendModules: backendModules(), memory, ...(warmUpFlag ? { warmUpFlag } : {}) };
  return startModuleWorker(import.meta.url, 'worker', { stdout: true, workerData });
}

/** A worker that dies this soon after starting, this many times in a row, is not restarted again. */
const EARLY_EXIT_MS = 3000;
const MAX_EARLY_EXITS = 3;

export function errorFromWire(error: WireError): PaintsUndoError {
  const code = (error.code in CODES ? error.code : 'INTERNAL') as ErrorCode;
  return new PaintsUndoError(code, error.message, {
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.details ? { details: error.details } : {}),
  });
}

const CODES: Record<string, true> = Object.fromEntries(
  [
    'INVALID_OPTION', 'INPUT_NOT_FOUND', 'INPUT_NOT_IMAGE', 'INPUT_CORRUPT', 'INPUT_TOO_SMALL', 'INPUT_TOO_LARGE',
    'OUTPUT_NOT_WRITABLE', 'UNKNOWN_BACKEND', 'UNSUPPORTED', 'MODEL_MISSING', 'FFMPEG_MISSING', 'CANCELLED',
    'ENCODER_FAILED', 'INTERNAL',
  ].map((c) => [c, true]),
);

function brokenError(): PaintsUndoError {
  return new PaintsUndoError('INTERNAL', 'The engine cannot start its worker threads.', {
    hint: 'Restart the engine; the log (stderr) says why the workers stopped.',
  });
}

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly running = new Map<string, RunningJob>();
  private readonly requests = new Map<number, { worker: number; resolve: (message: WorkerToMain) => void; fail: (error: PaintsUndoError) => void }>();
  private nextReq = 1;
  private closing = false;
  private readonly log: (message: string) => void;
  /** What the workers' backends and the shared plans keep for reuse, under one budget (core/memory.ts). */
  readonly memory: MemoryLedger;
  /**
   * Whether an image's pixels are in the image store's memory (the engine sets it; every image by default).
   * A plan made while its image left memory is not shared: it would keep the pixels past the store's budget.
   */
  imageInMemory: (imageId: string) => boolean = () => true;

  /** The one flag that pauses and stops every worker's warm-up (WorkerData.warmUpFlag); undefined without warm-up. */
  private readonly warmUpFlag: Int32Array | undefined;
  /** Requests waiting for a worker, which keep the warm-up paused (see request). */
  private warmUpPauses = 0;
  /** Each worker's warm-up report, by worker, as they come. */
  private readonly warmUps = new Map<number, WarmUpReport>();
  private warmUpReported: ((outcomes: readonly WarmUpOutcome[]) => void) | undefined;
  /**
   * Settles with how every worker's warm-up ended, once each has reported (a worker that dies first
   * reports nothing, so this may never settle); undefined without warm-up.
   */
  readonly warmedUp: Promise<readonly WarmUpOutcome[]> | undefined;

  constructor(size: number, options: WorkerPoolOptions = {}) {
    this.size = Math.max(1, size);
    this.log = options.log ?? (() => undefined);
    const memoryBytes = options.memoryBytes ?? DEFAULT_WORKER_MEMORY_BYTES;
    if (options.warmUp) {
      this.warmUpFlag = new Int32Array(new SharedArrayBuffer(4));
      this.warmedUp = new Promise((resolve) => (this.warmUpReported = resolve));
    }
    // One slot per worker, and the last for the plans shared from this thread.
    this.memory = new MemoryLedger(memoryBytes, this.size + 1);
    this.planMemory = this.memory.thread(this.size, () => this.rebalanceMemory()).share();
    for (let i = 0; i < this.size; i++) this.slots.push({ worker: this.spawn(i), jobs: new Set(), finishing: new Set(), plans: new Set(), lastUsed: 0, releasing: 0 });
  }

  private spawn(index: number): Worker {
    // A new worker holds nothing yet; the one it replaces took its memory with it.
    this.memory.reset(index);
    const slot = this.slots[index];
    if (slot) slot.releasing = 0;
    const worker = createWorker({ buffer: this.memory.buffer, budgetBytes: this.memory.budgetBytes, slot: index }, this.warmUpFlag?.buffer as SharedArrayBuffer | undefined);
    const spawnedAt = Date.now();
    // Workers never own stdout (in --stdio mode it carries the protocol): their prints go to stderr.
    worker.stdout.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    worker.on('message', (message: WorkerToMain) => this.receive(message, index));
    worker.on('error', (error) => this.log(`worker ${index} crashed: ${error.stack ?? error.message}`));
    worker.on('exit', (code) => {
      if (this.closing) return;
      const slot = this.slots[index]!;
      const failure = new PaintsUndoError('INTERNAL', 'The worker thread running this request stopped unexpectedly.', {
        hint: 'Retry; if it keeps failing, report it with the engine log.',
      });
      for (const jobId of [...slot.jobs, ...slot.finishing]) {
        const job = this.running.get(jobId);
        this.running.delete(jobId);
        job?.reject(failure);
      }
      slot.jobs.clear();
      slot.finishing.clear();
      if (slot.ahead) {
        const ahead = this.running.get(slot.ahead.id);
        this.running.delete(slot.ahead.id);
        ahead?.reject(failure);
      }
      for (const [reqId, pending] of this.requests) {
        if (pending.worker !== index) continue;
        this.requests.delete(reqId);
        pending.fail(failure);
      }
      this.earlyExits = Date.now() - spawnedAt < EARLY_EXIT_MS ? this.earlyExits + 1 : 0;
      if (this.earlyExits >= MAX_EARLY_EXITS) {
        this.log(`worker ${index} exited with code ${code} right after starting, ${this.earlyExits} times; not restarting it`);
        this.broken = true;
        return;
      }
      this.log(`worker ${index} exited with code ${code}; starting a new one`);
      slot.plans.clear();
      slot.worker = this.spawn(index);
    });
    return worker;
  }

  private earlyExits = 0;
  private broken = false;

  /** Insertion order = least recently used first. */
  private readonly sharedPlans = new Map<string, SharedPlan>();
  /** The shared plans' part of the memory budget, what they hold, and what of it the ledger is charged (see trimSharedPlans). */
  private readonly planMemory: MemoryShare;
  private sharedPlanBytes = 0;
  private planCharge = 0;
  /** Plans the workers made (each worker reports a plan it made once; imported ones are not counted). */
  plansMade = 0;

  private receive(message: WorkerToMain, worker: number): void {
    switch (message.type) {
      case 'plan': {
        this.plansMade++;
        const key = planKey(message.plan);
        if (!this.imageInMemory(message.plan.imageId)) {
          // Its image left memory while it was planned (forgetImage found nothing to drop then).
          this.forget(worker, message.plan);
          return;
        }
        const replaced = this.sharedPlans.get(key);
        this.sharedPlans.delete(key);
        this.sharedPlans.set(key, message.plan);
        this.slots[worker]?.plans.add(key);
        this.sharedPlanBytes += message.plan.bytes - (replaced?.bytes ?? 0);
        this.trimSharedPlans();
        return;
      }
      case 'plans-dropped':
        for (const key of message.keys) this.slots[worker]?.plans.delete(key);
        return;
      case 'over-budget':
        this.rebalanceMemory();
        return;
      case 'released': {
        const slot = this.slots[worker];
        if (slot) slot.releasing = Math.max(0, slot.releasing - message.requested);
        return;
      }
      case 'progress': {
        const { fraction, stage } = message;
        this.running.get(message.jobId)?.callbacks.onProgress({ fraction, stage, ...(message.message ? { message: message.message } : {}) });
        return;
      }
      case 'preview':
        this.running.get(message.jobId)?.callbacks.onPreview({ width: message.width, height: message.height, data: message.data });
        return;
      case 'computed': {
        const job = this.running.get(message.jobId);
        const slot = job && this.slots[job.worker];
        if (!slot?.jobs.delete(message.jobId)) return;
        slot.finishing.add(message.jobId);
        this.usedBy(job!.worker);
        job!.callbacks.onComputed?.();
        return;
      }
      case 'done':
      case 'failed': {
        const job = this.running.get(message.jobId);
        if (!job) return;
        this.running.delete(message.jobId);
        const computing = this.slots[job.worker]?.jobs.delete(message.jobId) === true;
        this.slots[job.worker]?.finishing.delete(message.jobId);
        if (computing) this.usedBy(job.worker);
        if (message.type === 'done') {
          job.resolve(message.files);
        } else {
          if (message.error.internal) this.log(`job ${message.jobId} failed: ${message.error.internal}`);
          job.reject(errorFromWire(message.error));
        }
        return;
      }
      case 'decoded':
      case 'described': {
        const pending = this.requests.get(message.reqId);
        this.requests.delete(message.reqId);
        pending?.resolve(message);
        return;
      }
      case 'disposed':
        return;
      case 'warmed':
        this.warmedUpBy(worker, message);
        return;
    }
  }

  /** Worker `index` reports how its warm-up ended; the first report of each counts (a restarted worker may warm up again). */
  private warmedUpBy(index: number, report: WarmUpReport): void {
    if (report.error !== undefined) this.log(`worker ${index} could not warm up: ${report.error}`);
    if (this.warmUps.has(index)) return;
    this.warmUps.set(index, report);
    if (this.warmUps.size < this.size) return;
    const reports = Array.from({ length: this.size }, (_, i) => this.warmUps.get(i)!);
    const outcomes = reports.map((r) => r.outcome);
    const seconds = (Math.max(...reports.map((r) => r.ms)) / 1000).toFixed(1);
    if (outcomes.every((o) => o === 'done')) this.log(`workers warmed up in ${seconds} s`);
    else this.log(`warm-up over after ${seconds} s, by worker: ${outcomes.join(', ')}${outcomes.includes('stopped') ? ' (stopped: work came first)' : ''}`);
    this.warmUpReported?.(outcomes);
  }

  /** Stops every worker's warm-up, for good: real work has come. Cheap; call it before any work reaches a worker. */
  stopWarmingUp(): void {
    if (this.warmUpFlag) Atomics.store(this.warmUpFlag, 0, WARM_UP.stopped);
  }

  /**
   * Pauses every worker's warm-up (unless it is stopped) until the returned function is called, for a short
   * request: a worker warming up gets an event-loop turn only between planning steps, and a request may
   * need several (describing a model backend awaits module loads and file checks). Pauses nest.
   */
  private pauseWarmUp(): () => void {
    const flag = this.warmUpFlag;
    if (!flag) return () => undefined;
    this.warmUpPauses++;
    Atomics.compareExchange(flag, 0, WARM_UP.run, WARM_UP.paused);
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      if (--this.warmUpPauses === 0) Atomics.compareExchange(flag, 0, WARM_UP.paused, WARM_UP.run);
    };
  }

  /** Worker `index` finished computing a job: its renderers were just used, and may now be released. */
  private usedBy(index: number): void {
    const slot = this.slots[index];
    if (slot) slot.lastUsed = performance.now();
    this.rebalanceMemory();
  }

  /**
   * When the workers hold more than the memory budget, idle ones give back the difference, least recently
   * used first. Runs before a worker that finished computing is handed its next job, so a release
   * reaches it first.
   */
  private rebalanceMemory(): void {
    // What was asked back already and is not released yet is not asked again.
    const asked = this.slots.reduce((sum, s) => sum + s.releasing, 0);
    const excess = this.memory.excess() - asked;
    if (excess <= 0) return;
    const threads = this.slots.map((s, i) => ({ slot: i, held: this.memory.held(i) - s.releasing, idle: s.jobs.size === 0, lastUsed: s.lastUsed }));
    for (const { slot: i, bytes } of releases(excess, threads)) {
      const slot = this.slots[i]!;
      slot.releasing += bytes;
      const message: MainToWorker = { type: 'release', bytes };
      slot.worker.postMessage(message);
    }
  }

  /**
   * Drops the least recently used shared plans while they hold more than their share of the budget, and
   * charges what they hold to the ledger. The last MIN_SHARED_PLANS stay whatever their size; beyond the
   * share they are not charged, or a budget smaller than two plans would flush every warm renderer after
   * every job.
   */
  private trimSharedPlans(): void {
    const share = this.memory.budgetBytes * SHARED_PLANS_SHARE;
    for (const key of this.sharedPlans.keys()) {
      if (this.sharedPlanBytes <= share || this.sharedPlans.size <= MIN_SHARED_PLANS) break;
      this.dropSharedPlan(key);
    }
    const charge = Math.min(this.sharedPlanBytes, share);
    this.planMemory.adjust(charge - this.planCharge);
    this.planCharge = charge;
  }

  /** Stops sharing a plan; the workers that hold it drop it too, so nothing keeps it (and its image) alive. */
  private dropSharedPlan(key: string): void {
    const plan = this.sharedPlans.get(key);
    if (!plan) return;
    this.sharedPlans.delete(key);
    this.sharedPlanBytes -= plan.bytes;
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i]!.plans.delete(key)) this.forget(i, plan);
  }

  /** Tells worker `index` to drop a plan its backends hold. */
  private forget(index: number, plan: PlanName): void {
    const message: MainToWorker = { type: 'forget-plans', plans: [{ backend: plan.backend, imageId: plan.imageId, seed: plan.seed }] };
    this.slots[index]?.worker.postMessage(message);
  }

  /**
   * An image left the image store's memory: its plans go too (every seed, every backend). A plan holds
   * its image's pixels; kept, it would keep them outside the store's budget.
   */
  forgetImage(imageId: string): void {
    // Deleting from a Map while iterating it is safe (entries not yet visited are still visited).
    for (const [key, plan] of this.sharedPlans) {
      if (plan.imageId === imageId) this.dropSharedPlan(key);
    }
    this.trimSharedPlans();
  }

  /** Whether the plan with this key (worker-protocol.ts planKey) is shared: any worker can render from it without planning. */
  planShared(key: string): boolean {
    return this.sharedPlans.has(key);
  }

  /** The worker preparing the plan with this key ahead of any job (see prepareAhead), if one does. */
  preparingAhead(key: string): number | undefined {
    const index = this.slots.findIndex((slot) => slot.ahead?.key === key);
    return index >= 0 ? index : undefined;
  }

  /** Whether worker `index` prepares a plan ahead (it still counts as free: jobs take it). */
  isPreparingAhead(index: number): boolean {
    return this.slots[index]?.ahead !== undefined;
  }

  /**
   * Prepares the plan of (backend, image, seed) on idle worker `index` before any job asks for it. It
   * settles when the plan is made and shared (see `planShared`), or fails with CANCELLED (`cancelAhead`).
   */
  prepareAhead(index: number, id: string, backend: string, source: SourceImage, seed: number): Promise<void> {
    const slot = this.slots[index];
    if (!slot) throw new RangeError(`no worker ${index}`);
    if (this.broken) return Promise.reject(brokenError());
    this.stopWarmingUp();
    const flagBuffer = new SharedArrayBuffer(4);
    const key = planKey({ backend, imageId: source.id, seed });
    slot.ahead = { id, key };
    const done = (): void => {
      if (slot.ahead?.id === id) delete slot.ahead;
    };
    return new Promise<void>((resolve, reject) => {
      const ignore = (): void => undefined;
      this.running.set(id, {
        worker: index,
        flag: new Int32Array(flagBuffer),
        callbacks: { onProgress: ignore, onPreview: ignore },
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      const message: MainToWorker = { type: 'prepare', jobId: id, backend, source, seed, cancelFlag: flagBuffer };
      slot.worker.postMessage(message);
    });
  }

  /** Cancels the plan worker `index` prepares ahead, unless it is `keep` (the plan a job there needs). */
  cancelAhead(index: number, keep?: string): void {
    const ahead = this.slots[index]?.ahead;
    if (ahead && ahead.key !== keep) this.cancel(ahead.id);
  }

  /** Jobs worker `index` is computing (not counting those only writing their files). */
  load(index: number): number {
    return this.slots[index]?.jobs.size ?? 0;
  }

  /** Whether jobs on worker `index` are writing their files (it may take a brief job meanwhile, see scheduling.ts). */
  writing(index: number): boolean {
    return (this.slots[index]?.finishing.size ?? 0) > 0;
  }

  /** Whether worker `index` can start a job: it computes none, and fewer than MAX_FINISHING jobs there write their files. */
  acceptsJob(index: number): boolean {
    const slot = this.slots[index];
    return slot !== undefined && slot.jobs.size === 0 && slot.finishing.size < MAX_FINISHING;
  }

  run(index: number, jobId: string, input: JobInput, sources: SourceImage[], staging: string, callbacks: RunCallbacks): Promise<WorkerFile[]> {
    const slot = this.slots[index];
    if (!slot) throw new RangeError(`no worker ${index}`);
    if (this.broken) return Promise.reject(brokenError());
    this.stopWarmingUp();
    const flagBuffer = new SharedArrayBuffer(4);
    return new Promise<WorkerFile[]>((resolve, reject) => {
      this.running.set(jobId, { worker: index, flag: new Int32Array(flagBuffer), callbacks, resolve, reject });
      slot.jobs.add(jobId);
      const key = planKeyOf(input);
      const shared = this.sharedPlans.get(key);
      if (shared) {
        // Used now: the last to be dropped.
        this.sharedPlans.delete(key);
        this.sharedPlans.set(key, shared);
      }
      const plan = slot.plans.has(key) ? undefined : shared;
      if (plan) slot.plans.add(key);
      const message: MainToWorker = { type: 'run', jobId, input, sources, staging, cancelFlag: flagBuffer, ...(plan ? { plans: [plan] } : {}) };
      slot.worker.postMessage(message);
    });
  }

  cancel(jobId: string): void {
    const job = this.running.get(jobId);
    if (!job) return;
    Atomics.store(job.flag, 0, 1);
    const message: MainToWorker = { type: 'cancel', jobId };
    this.slots[job.worker]?.worker.postMessage(message);
  }

  /** `to`: the worker to send it to (else the least loaded). */
  private request(message: MainToWorker & { reqId: number }, transfer: ArrayBuffer[] = [], to?: number): Promise<WorkerToMain> {
    // Short requests go to the least loaded worker, rather one that plans nothing ahead (planning runs
    // in steps of up to a few hundred milliseconds, which a decode would wait behind).
    const busy = (i: number): number => 2 * this.load(i) + (this.isPreparingAhead(i) ? 1 : 0);
    let best = to ?? 0;
    if (to === undefined) for (let i = 1; i < this.slots.length; i++) if (busy(i) < busy(best)) best = i;
    if (this.broken) return Promise.reject(brokenError());
    // Real work stops the warm-up; a description only pauses it while it waits (see pauseWarmUp).
    let resume = (): void => undefined;
    if (message.type === 'decode') this.stopWarmingUp();
    else resume = this.pauseWarmUp();
    return new Promise<WorkerToMain>((resolve, reject) => {
      this.requests.set(message.reqId, { worker: best, resolve, fail: reject });
      this.slots[best]!.worker.postMessage(message, transfer);
    }).finally(resume);
  }

  /**
   * Has an idle worker read ahead of the main thread filling `buffer` with an upload (upload-ahead.ts): fault
   * its memory in, taking the page faults of fresh memory off the main thread, and hash what has arrived
   * (`pixels`: its layout), so that decoding it there hashes only the last bytes. The main thread reports
   * its progress on what this returns. With no worker idle nothing happens (undefined): a busy worker would
   * touch the pages only after the main thread had.
   */
  readAhead(buffer: SharedArrayBuffer, pixels?: RawPixels): UploadProgress | undefined {
    // The shared counter is an Int32: bigger uploads are read without help.
    if (this.broken || buffer.byteLength < READ_AHEAD_MIN_BYTES || buffer.byteLength > 0x7fffffff) return undefined;
    const index = this.slots.findIndex((_, i) => this.load(i) === 0 && !this.writing(i) && !this.isPreparingAhead(i));
    if (index < 0) return undefined;
    const progress = new UploadProgress(this.nextReq++, index, new SharedArrayBuffer(8));
    const message: MainToWorker = { type: 'read-ahead', key: progress.key, buffer, progress: progress.progress, ...(pixels ? { pixels } : {}) };
    this.slots[index]!.worker.postMessage(message);
    return progress;
  }

  /**
   * Decodes an upload in a worker: an encoded file, or raw pixels of the `pixels` layout. An upload read
   * ahead (`ahead`) is decoded by the worker that read ahead of it when that one is free (its hashes are
   * mostly done there); `sha256` is then its bytes' hash.
   */
  async decode(
    bytes: Uint8Array,
    limits: Partial<InputLimits>,
    pixels?: RawPixels,
    ahead?: UploadProgress,
    name?: string,
  ): Promise<{ source: SourceImage; format: string; notices: string[]; sha256?: string }> {
    // Shared memory goes as it is; otherwise a private copy (Buffer.slice would share memory, and the transfer detaches it).
    const shared = bytes.buffer instanceof SharedArrayBuffer;
    const sent = shared ? bytes : new Uint8Array(bytes);
    const helper = ahead && this.slots[ahead.worker] && this.load(ahead.worker) === 0 && !this.isPreparingAhead(ahead.worker) ? ahead.worker : undefined;
    if (ahead && helper === undefined) ahead.drop();
    const message: MainToWorker = { type: 'decode', reqId: this.nextReq++, bytes: sent, limits, ...(pixels ? { pixels } : {}), ...(helper !== undefined ? { ahead: ahead!.key } : {}), ...(name ? { name } : {}) };
    const reply = await this.request(message, shared ? [] : [sent.buffer as ArrayBuffer], helper);
    if (reply.type !== 'decoded') throw new PaintsUndoError('INTERNAL', 'Unexpected worker reply.');
    if (reply.error || !reply.source) throw errorFromWire(reply.error ?? { code: 'INTERNAL', message: 'Decoding failed.' });
    return { source: reply.source, format: reply.format ?? 'unknown', notices: reply.notices ?? [], ...(reply.sha256 ? { sha256: reply.sha256 } : {}) };
  }

  async describe(backend: string): Promise<BackendDescription> {
    const reply = await this.request({ type: 'describe', reqId: this.nextReq++, backend });
    if (reply.type !== 'described') throw new PaintsUndoError('INTERNAL', 'Unexpected worker reply.');
    if (reply.error || !reply.info) throw errorFromWire(reply.error ?? { code: 'INTERNAL', message: 'Backend unavailable.' });
    return reply.info;
  }

  /** Asks workers to dispose their backends, then terminates them. */
  async close(): Promise<void> {
    this.closing = true;
    // A worker still warming up answers 'dispose' only between two of its planning steps: stop it first.
    this.stopWarmingUp();
    for (const job of this.running.keys()) this.cancel(job);
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 2000);
            const onMessage = (m: WorkerToMain): void => {
              if (m.type !== 'disposed') return;
              clearTimeout(timer);
              slot.worker.off('message', onMessage);
              resolve();
            };
            slot.worker.on('message', onMessage);
            slot.worker.postMessage({ type: 'dispose' } satisfies MainToWorker);
          }),
      ),
    );
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const job of this.running.values()) job.reject(new PaintsUndoError('CANCELLED', 'Cancelled: the engine is shutting down.'));
    this.running.clear();
  }
}
