/**
 * The job queue and scheduler.
 *
 * - Two priorities: 'interactive' (single frames, i.e. the slider) always start before 'batch' (keyframes,
 *   interpolation, timelapses, layers). With more than one worker, batch jobs never take the last free
 *   worker, so a slider stays responsive while a timelapse renders.
 * - A frame request naming a `slider` supersedes the same client's older unfinished frame of that slider.
 * - GPU backends (capabilities.device 'gpu') run one job at a time, always on worker 0, whatever the pool size.
 * - Before anything runs, the cache is asked: a hit finishes the job at once without recomputation.
 * - Identical requests in flight share one computation (50 clients asking the same frame compute it once).
 * - A cancelled or failed job's staging folder is discarded: nothing partial reaches the cache.
 * - An uploaded image is planned ahead (default backend and seed) on a worker with nothing to do, so the
 *   first frame finds its plan made or in progress and joins it; any job that needs that worker takes it
 *   and cancels the preparation, unless it needs that very plan.
 */
import type { SourceImage } from '../core/backend.js';
import { PaintsUndoError, isPaintsUndoError } from '../core/errors.js';
import { DEFAULT_SEED, type JobInput } from '../core/job.js';
import { DEFAULT_BACKEND } from '../backends/registry.js';
import { jobKindOf } from '../jobs/kinds.js';
import type { JobProgress, JobState, JobStats } from '../client/protocol.js';
import { cacheKey, type CacheEntry, type CacheFile } from './cache-format.js';
import type { ResultCache } from './cache.js';
import { ServiceError, serviceError } from './errors.js';
import type { ImageStore } from './images.js';
import type { WorkerPool } from './pool.js';
import { homeWorker, pickNext } from './scheduling.js';
import { planKey, planKeyOf, type BackendDescription } from './worker-protocol.js';

export interface JobOwner {
  readonly id: string;
}

export type JobEventName = 'job.queued' | 'job.progress' | 'job.done' | 'job.failed' | 'job.cancelled';

export interface JobManagerOptions {
  readonly cache: ResultCache;
  readonly images: ImageStore;
  readonly pool: WorkerPool;
  readonly describeBackend: (id: string) => Promise<BackendDescription>;
  readonly maxUnfinishedPerOwner: number;
  /** video.encode: cap on the total pixels of a job's distinct frames (default MAX_ENCODE_PIXELS). */
  readonly maxEncodePixels?: number;
  /** Finished jobs remembered for jobs.get / jobs.list. */
  readonly keepFinished?: number;
  /** Delivers an event about `record` to its owner (the manager never knows about transports). */
  readonly emit: (record: JobRecord, event: JobEventName, extra?: { preview?: { width: number; height: number; data: string } }) => void;
  readonly log?: (message: string) => void;
}

/** Internal job state; `toJob` in the engine renders it for one connection (URLs, paths). */
export interface JobRecord {
  readonly id: string;
  readonly owner: string;
  readonly input: JobInput;
  readonly key: string;
  readonly slider: string | undefined;
  readonly priority: 'interactive' | 'batch';
  readonly device: 'cpu' | 'gpu';
  state: JobState;
  readonly createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  progress: JobProgress;
  result?: { entry: CacheEntry; cached: boolean };
  error?: { code: string; message: string; hint?: string };
  supersededBy?: string;
  /** The computation this job waits for (its own or a shared one). */
  computation?: Computation;
}

/** One backend run producing one cache entry; shared by every job with the same key while it is in flight. */
interface Computation {
  /** Pool-level id, unique per run (a cancelled run may still be winding down when the key is asked again). */
  readonly id: string;
  readonly key: string;
  readonly jobs: Set<JobRecord>;
  worker?: number;
  started: boolean;
  cancelled: boolean;
}

let counter = 0;
function newJobId(): string {
  counter++;
  return `j${Date.now().toString(36)}${counter.toString(36)}`;
}

/** Total decoded pixels of an encode job's distinct frames: 256 Mpx is 768 MB of RGB. */
export const MAX_ENCODE_PIXELS = 256_000_000;

/** A job between the first await of its submit and its record being remembered (JobManager.submitting). */
interface Submission {
  readonly id: string;
  readonly owner: string;
  readonly slider: string | undefined;
  /** Why it was cancelled meanwhile (superseded, its connection closed, shutdown). */
  cancelled?: string;
  supersededBy?: string;
}

const FINAL: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);
const SUPERSEDED = 'Superseded by a newer slider request.';
const CONNECTION_CLOSED = 'Cancelled: the connection closed.';
const PROGRESS_INTERVAL_MS = 100;

export class JobManager {
  private readonly options: JobManagerOptions;
  private readonly jobs = new Map<string, JobRecord>();
  /**
   * Jobs being submitted: between the submit's first await and their record being remembered. Requests
   * pipelined on one connection are all there at once, so they count against the owner's limit, and are
   * superseded and cancelled with their connection, like remembered jobs (`cancelled` says why).
   */
  private readonly submitting = new Set<Submission>();
  /** Computations not started yet, in arrival order (interactive ones are picked first). */
  private readonly queue: Computation[] = [];
  private readonly inFlight = new Map<string, Computation>();
  private gpuBusy = false;
  private accepting = true;
  private readonly counters = { created: 0, computed: 0, fromCache: 0, done: 0, failed: 0, cancelled: 0, superseded: 0, plansAhead: 0, plansAheadCancelled: 0 };
  private readonly idle = new Set<() => void>();
  /** Computations running on a worker (cancelled ones included, until the worker lets go). */
  private readonly active = new Set<Computation>();

  constructor(options: JobManagerOptions) {
    this.options = options;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  async submit(owner: JobOwner, input: JobInput, slider?: string): Promise<JobRecord> {
    if (!this.accepting) throw serviceError('SHUTTING_DOWN', 'The engine is shutting down and accepts no new jobs.', 'Start the engine again, then retry.');
    const id = newJobId();
    // Decided before the first await: a connection that pipelines requests has them all in submit at once.
    if (slider !== undefined) this.supersede(owner.id, slider, id);
    const unfinished =
      [...this.jobs.values()].filter((j) => j.owner === owner.id && !FINAL.has(j.state)).length + [...this.submitting].filter((p) => p.owner === owner.id && !p.cancelled).length;
    if (unfinished >= this.options.maxUnfinishedPerOwner) {
      throw new ServiceError('TOO_MANY_JOBS', `This connection already has ${unfinished} unfinished jobs (the limit is ${this.options.maxUnfinishedPerOwner}).`, {
        hint: 'Wait for some to finish or cancel them (jobs.cancel), then retry.',
        details: { limit: this.options.maxUnfinishedPerOwner },
      });
    }
    const pending: Submission = { id, owner: owner.id, slider };
    this.submitting.add(pending);
    try {
      return await this.admit(id, owner, input, slider, pending);
    } finally {
      this.submitting.delete(pending);
    }
  }

  private async admit(
    id: string,
    owner: JobOwner,
    input: JobInput,
    slider: string | undefined,
    pending: Readonly<Submission>,
  ): Promise<JobRecord> {
    const backend = await this.options.describeBackend(input.backend);
    const kind = jobKindOf(input);
    const capability = kind.capability(input);
    if (capability !== undefined && !backend.capabilities[capability]) {
      throw new PaintsUndoError('UNSUPPORTED', `The ${backend.id} backend cannot do ${capability}.`, {
        hint: 'Choose another backend (engine.info lists each backend\'s capabilities).',
        details: { backend: backend.id, operation: capability },
      });
    }
    const key = cacheKey({ job: input, backend: backend.id, backendVersion: backend.version, format: kind.resultFormat ?? 1 });
    const record: JobRecord = {
      id,
      owner: owner.id,
      input,
      key,
      slider,
      priority: input.kind === 'frame' ? 'interactive' : 'batch',
      device: backend.capabilities.device,
      state: 'queued',
      createdAt: Date.now(),
      progress: { fraction: 0, stage: 'queued' },
    };
    this.counters.created++;
    const hit = await this.options.cache.get(key);
    // Superseded, or its connection closed, while it was being submitted: remembered as cancelled.
    if (pending.cancelled !== undefined) return this.cancelledInSubmit(record, pending);
    if (hit) {
      this.counters.fromCache++;
      this.counters.done++;
      record.state = 'done';
      record.startedAt = record.finishedAt = Date.now();
      record.progress = { fraction: 1, stage: 'done' };
      record.result = { entry: hit, cached: true };
      this.remember(record);
      setImmediate(() => this.options.emit(record, 'job.done'));
      return record;
    }
    for (const image of imageIdsOf(input)) {
      if (!(await this.options.images.has(image))) await this.options.images.get(image); // throws NOT_FOUND
    }
    if (input.kind === 'encode') await this.checkEncodePixels(imageIdsOf(input));
    if (pending.cancelled !== undefined) return this.cancelledInSubmit(record, pending);
    this.remember(record);
    let computation = this.inFlight.get(key);
    if (!computation || computation.cancelled) {
      computation = { id: `c${newJobId().slice(1)}`, key, jobs: new Set(), started: false, cancelled: false };
      this.inFlight.set(key, computation);
      this.queue.push(computation);
    }
    computation.jobs.add(record);
    record.computation = computation;
    if (computation.started) {
      record.state = 'running';
      record.startedAt = Date.now();
    }
    setImmediate(() => {
      this.options.emit(record, 'job.queued');
      this.pump();
    });
    return record;
  }

  /**
   * Every frame of an encode job is held decoded (RGB) in the engine and copied to its worker, so their
   * total is capped, not only their count: 600 frames of 4096 px would need tens of GB.
   */
  private async checkEncodePixels(ids: readonly string[]): Promise<void> {
    let total = 0;
    for (const id of ids) {
      const size = await this.options.images.size(id);
      total += size ? size.width * size.height : 0;
    }
    const limit = this.options.maxEncodePixels ?? MAX_ENCODE_PIXELS;
    if (total > limit) {
      throw new PaintsUndoError('INPUT_TOO_LARGE', `The ${ids.length} distinct frames have ${total} pixels together; the limit is ${limit}.`, {
        hint: 'Upload the frames smaller (e.g. 1024 px on the long side) or fewer of them; the video size option can still scale the result.',
        details: { pixels: total, limit },
      });
    }
  }

  private remember(record: JobRecord): void {
    this.jobs.set(record.id, record);
    const keep = this.options.keepFinished ?? 500;
    if (this.jobs.size <= keep * 2) return;
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= keep) break;
      if (FINAL.has(job.state)) this.jobs.delete(id);
    }
  }

  /** A job cancelled while it was being submitted (`pending` says why): remembered, and its job.cancelled sent after the reply. */
  private cancelledInSubmit(record: JobRecord, pending: Readonly<Submission>): JobRecord {
    if (pending.supersededBy !== undefined) record.supersededBy = pending.supersededBy;
    this.remember(record);
    setImmediate(() => this.finish(record, 'cancelled', { code: 'CANCELLED', message: pending.cancelled ?? 'Cancelled.' }));
    return record;
  }

  private supersede(owner: string, slider: string, by: string): void {
    for (const p of this.submitting) {
      if (p.owner === owner && p.slider === slider && p.cancelled === undefined) {
        p.cancelled = SUPERSEDED;
        p.supersededBy = by;
        this.counters.superseded++;
      }
    }
    for (const job of this.jobs.values()) {
      if (job.owner === owner && job.slider === slider && !FINAL.has(job.state)) {
        job.supersededBy = by;
        this.counters.superseded++;
        this.cancelRecord(job, SUPERSEDED);
      }
    }
  }

  get(id: string): JobRecord {
    const job = this.jobs.get(id);
    if (!job) {
      throw serviceError('NOT_FOUND', `No job has the id ${id}.`, 'Use an id returned by a job method; jobs.list shows the known jobs (finished jobs are forgotten after a while).');
    }
    return job;
  }

  list(filter: { state?: JobState; owner?: string; limit: number }): JobRecord[] {
    const out: JobRecord[] = [];
    for (const job of [...this.jobs.values()].reverse()) {
      if (filter.state && job.state !== filter.state) continue;
      if (filter.owner && job.owner !== filter.owner) continue;
      out.push(job);
      if (out.length >= filter.limit) break;
    }
    return out;
  }

  cancel(id: string): JobRecord {
    const job = this.get(id);
    this.cancelRecord(job, 'Cancelled.');
    return job;
  }

  /** Cancels every unfinished job of an owner (its connection closed). */
  cancelOwner(owner: string): void {
    for (const p of this.submitting) if (p.owner === owner) p.cancelled ??= CONNECTION_CLOSED;
    for (const job of this.jobs.values()) if (job.owner === owner && !FINAL.has(job.state)) this.cancelRecord(job, CONNECTION_CLOSED);
  }

  private cancelRecord(job: JobRecord, message: string): void {
    if (FINAL.has(job.state)) return;
    this.finish(job, 'cancelled', { code: 'CANCELLED', message });
    const computation = job.computation;
    if (!computation) return;
    computation.jobs.delete(job);
    if (computation.jobs.size > 0) return;
    // Nobody waits for this computation any more: stop it.
    computation.cancelled = true;
    this.inFlight.delete(computation.key);
    const queued = this.queue.indexOf(computation);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (computation.started) this.options.pool.cancel(computation.id);
  }

  stats(): JobStats {
    let queued = 0;
    let running = 0;
    for (const job of this.jobs.values()) {
      if (job.state === 'queued') queued++;
      if (job.state === 'running') running++;
    }
    return { ...this.counters, plansMade: this.options.pool.plansMade, queued, running };
  }

  /**
   * Starts planning an uploaded image (default backend and seed, what a slider asks for) on a worker
   * with nothing to do, so that the first frame finds its plan made or in progress and joins it instead of
   * waiting for a plan of its own. Never when a job waits or no worker is idle; a job that needs the worker
   * cancels the preparation (see compute), so planning ahead never delays anyone's request.
   */
  prepareAhead(source: SourceImage): void {
    const pool = this.options.pool;
    const key = planKey({ backend: DEFAULT_BACKEND, imageId: source.id, seed: DEFAULT_SEED });
    if (!this.accepting || this.queue.length > 0 || pool.planShared(key) || pool.preparingAhead(key) !== undefined) return;
    // Not a worker still writing a frame either: planning holds its thread for stages of a few hundred milliseconds.
    const idle = (i: number): boolean => pool.load(i) === 0 && !pool.writing(i) && !this.reserved.has(i) && !pool.isPreparingAhead(i);
    const home = homeWorker(source.id, pool.size);
    const worker = idle(home) ? home : Array.from({ length: pool.size }, (_, i) => i).find(idle);
    if (worker === undefined) return;
    this.counters.plansAhead++;
    pool.prepareAhead(worker, `p${newJobId().slice(1)}`, DEFAULT_BACKEND, source, DEFAULT_SEED).catch((error: unknown) => {
      if (isPaintsUndoError(error) && error.code === 'CANCELLED') this.counters.plansAheadCancelled++;
      else this.log(`planning image ${source.id} ahead failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** Starts queued computations while workers are free. */
  private pump(): void {
    const pool = this.options.pool;
    for (;;) {
      const free: number[] = [];
      for (let i = 0; i < pool.size; i++) if (pool.acceptsJob(i) && !this.reserved.has(i)) free.push(i);
      if (free.length === 0 || this.queue.length === 0) return;
      const pick = pickNext(this.queue, free, pool.size, {
        gpuBusy: this.gpuBusy,
        busyWithInteractive: (worker) => [...this.active].some((c) => c.worker === worker && !c.cancelled && [...c.jobs].some((j) => j.priority === 'interactive')),
        planShared: (input) => pool.planShared(planKeyOf(input)),
        preparingAhead: (input) => pool.preparingAhead(planKeyOf(input)),
        writing: (worker) => pool.writing(worker),
      });
      if (!pick) return;
      const computation = this.queue.splice(pick.index, 1)[0]!;
      void this.start(computation, pick.worker);
    }
  }

  /** Workers claimed by a computation that is still preparing (loading sources, staging). */
  private readonly reserved = new Set<number>();

  private async start(computation: Computation, worker: number): Promise<void> {
    computation.started = true;
    computation.worker = worker;
    this.active.add(computation);
    this.reserved.add(worker);
    const first = [...computation.jobs][0]!;
    const gpu = first.device === 'gpu';
    if (gpu) this.gpuBusy = true;
    const now = Date.now();
    for (const job of computation.jobs) {
      job.state = 'running';
      job.startedAt = now;
      job.progress = { fraction: 0, stage: 'starting' };
    }
    const input = first.input;
    try {
      const ids = imageIdsOf(input);
      const sources: SourceImage[] = [];
      for (const id of ids) sources.push(await this.options.images.get(id));
      const entry = await this.options.cache.store(computation.key, (staging) => this.compute(computation, worker, sources, staging), {
        kind: input.kind,
        backend: input.backend,
      });
      for (const job of [...computation.jobs]) {
        job.result = { entry, cached: false };
        job.progress = { fraction: 1, stage: 'done' };
        this.finish(job, 'done');
      }
    } catch (error) {
      const cancelled = computation.cancelled || (isPaintsUndoError(error) && error.code === 'CANCELLED');
      if (!cancelled) this.log(`job ${first.id} (${input.kind}) failed: ${error instanceof Error ? error.message : String(error)}`);
      const info = isPaintsUndoError(error) || error instanceof ServiceError
        ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
        : { code: 'INTERNAL', message: 'The job failed with an unexpected internal error.', hint: 'Retry; if it fails again, report it with the engine log.' };
      for (const job of [...computation.jobs]) this.finish(job, cancelled ? 'cancelled' : 'failed', cancelled ? { code: 'CANCELLED', message: 'Cancelled.' } : info);
    } finally {
      this.reserved.delete(worker);
      this.active.delete(computation);
      if (this.inFlight.get(computation.key) === computation) this.inFlight.delete(computation.key);
      if (gpu) this.gpuBusy = false;
      this.pump();
      this.checkIdle();
    }
  }

  /** Runs `computation` on `worker` into `staging`, relaying its progress; returns the files it wrote. */
  private async compute(computation: Computation, worker: number, sources: SourceImage[], staging: string): Promise<readonly CacheFile[]> {
    if (computation.cancelled) throw new PaintsUndoError('CANCELLED', 'Cancelled.');
    this.reserved.delete(worker);
    this.counters.computed++;
    const started = Date.now();
    let lastSent = 0;
    let pendingProgress: ReturnType<typeof setTimeout> | undefined;
    // Progress events are rate-limited to one per PROGRESS_INTERVAL_MS; the latest one is never lost.
    const sendProgress = (): void => {
      lastSent = Date.now();
      pendingProgress = undefined;
      for (const job of computation.jobs) if (job.state === 'running') this.options.emit(job, 'job.progress');
    };
    const input = [...computation.jobs][0]!.input;
    // A plan prepared ahead on this worker gives way, unless it is the one this job renders from (the job joins it).
    this.options.pool.cancelAhead(worker, planKeyOf(input));
    try {
      const files = await this.options.pool.run(worker, computation.id, input, sources, staging, {
        onProgress: (p) => {
          const elapsed = (Date.now() - started) / 1000;
          const eta = p.fraction > 0.05 && p.fraction < 1 ? (elapsed * (1 - p.fraction)) / p.fraction : undefined;
          const progress: JobProgress = { fraction: clamp01(p.fraction), stage: p.stage, ...(p.message ? { message: p.message } : {}), ...(eta !== undefined ? { etaSeconds: Math.round(eta * 10) / 10 } : {}) };
          for (const job of computation.jobs) job.progress = progress;
          if (Date.now() - lastSent >= PROGRESS_INTERVAL_MS) sendProgress();
          else pendingProgress ??= setTimeout(sendProgress, PROGRESS_INTERVAL_MS);
        },
        onPreview: (preview) => {
          for (const job of computation.jobs) if (job.state === 'running') this.options.emit(job, 'job.progress', { preview });
        },
        // The worker takes the next job while this one's frame is encoded and written.
        onComputed: () => this.pump(),
      });
      if (pendingProgress) {
        // Flush the latest progress (e.g. "frame 100 of 100") so clients see the end before job.done.
        clearTimeout(pendingProgress);
        sendProgress();
      }
      // The worker is free now: it takes the next job while this one's files are committed to the cache.
      this.pump();
      if (computation.cancelled) throw new PaintsUndoError('CANCELLED', 'Cancelled.');
      return files;
    } finally {
      if (pendingProgress) clearTimeout(pendingProgress);
    }
  }

  private finish(job: JobRecord, state: 'done' | 'failed' | 'cancelled', error?: { code: string; message: string; hint?: string }): void {
    if (FINAL.has(job.state)) return;
    job.state = state;
    job.finishedAt = Date.now();
    if (error) job.error = error;
    this.counters[state === 'done' ? 'done' : state === 'failed' ? 'failed' : 'cancelled']++;
    this.options.emit(job, state === 'done' ? 'job.done' : state === 'failed' ? 'job.failed' : 'job.cancelled');
  }

  private checkIdle(): void {
    if (this.active.size > 0 || this.reserved.size > 0) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }

  /** Stops accepting, cancels everything, and resolves when no computation runs any more (5 s at most). */
  /** Refuses new jobs and cancels every unfinished one; their job.cancelled events are sent before this returns. */
  stopAccepting(): void {
    this.accepting = false;
    for (const p of this.submitting) p.cancelled ??= 'Cancelled: the engine is shutting down.';
    for (const job of this.jobs.values()) if (!FINAL.has(job.state)) this.cancelRecord(job, 'Cancelled: the engine is shutting down.');
  }

  async shutdown(): Promise<void> {
    this.stopAccepting();
    if (this.active.size === 0 && this.reserved.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.idle.add(() => {
        clearTimeout(timer);
        resolve();
      });
      this.checkIdle();
    });
  }
}

/** The distinct images a job reads (an encode job may show one state more than once). */
function imageIdsOf(input: JobInput): string[] {
  return jobKindOf(input).images(input);
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
