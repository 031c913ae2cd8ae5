/**
 * The engine service, independent of transports: sessions, the job manager, the image store, the cache and
 * job events. Messages go through rpc.ts (framing, limits, auth) to the method table in methods/; stdio.ts
 * and http.ts only move text.
 */
import { cpus } from 'node:os';
import pLimit, { type LimitFunction } from 'p-limit';
import { listBackends } from '../backends/registry.js';
import { usableMemoryBytes } from '../core/memory.js';
import { engineVersion } from '../io/provenance.js';
import { EVENTS, METHOD_NAMES, PROTOCOL_VERSION, type EngineInfo, type EventName, type Job, type Limits, type PutImageResult, type RawPixels } from '../client/protocol.js';
import { ResultCache, DEFAULT_CACHE_CAP_BYTES } from './cache.js';
import { serviceError } from './errors.js';
import { ImageStore, type UploadBytes } from './images.js';
import { JobManager, MAX_ENCODE_PIXELS, type JobRecord, type JobEventName } from './jobs.js';
import type { EngineServices } from './methods/index.js';
import { DEFAULT_INPUT_LIMITS } from '../io/decode.js';
import { WorkerPool } from './pool.js';
import { RpcDispatcher } from './rpc.js';
import { RateLimiter, signedQuery } from './security.js';
import type { Session, Transport } from './session.js';
import type { BackendDescription } from './worker-protocol.js';

export type { Session } from './session.js';

export const DEFAULT_LIMITS: Limits = {
  maxUploadBytes: 64 * 1024 * 1024,
  maxPixels: 50_000_000,
  maxMessageBytes: 1024 * 1024,
  maxConnections: 64,
  maxQueuedJobsPerClient: 16,
  maxRequestsPerSecond: 200,
  maxEncodePixels: MAX_ENCODE_PIXELS,
  workingLongSide: DEFAULT_INPUT_LIMITS.workingLongSide,
};

/**
 * What the engine keeps in memory for reuse by default (EngineOptions `memoryBytes`): a quarter of the
 * memory it may use, between 512 MiB and 2 GiB (2 GiB from 8 GB machines up).
 */
export function defaultMemoryBytes(usable = usableMemoryBytes()): number {
  return Math.min(2048 * MIB, Math.max(512 * MIB, Math.floor(usable / 4)));
}

const MIB = 1024 * 1024;

export interface EngineOptions {
  readonly cacheDir: string;
  readonly cacheCapBytes?: number;
  readonly workers?: number;
  /**
   * What the engine keeps in memory for reuse, at most: decoded images (half) and the workers' warm
   * renderers (half). Default defaultMemoryBytes(). Running jobs need their working memory on top.
   */
  readonly memoryBytes?: number;
  readonly limits?: Partial<Limits>;
  /** Required for network sessions; stdio sessions are trusted (only the parent holds the pipes). */
  readonly token: string;
  readonly log?: (message: string) => void;
  /**
   * Warm the workers up while the engine waits for its first work (WorkerPool's `warmUp`): a few seconds
   * of CPU at start, so the first canvas a user sends plans at full speed. Default false (`serve` turns it on).
   */
  readonly warmUp?: boolean;
}

let sessionCounter = 0;

export class Engine implements EngineServices {
  readonly cache: ResultCache;
  readonly images: ImageStore;
  readonly jobs: JobManager;
  readonly pool: WorkerPool;
  readonly limits: Limits;
  readonly token: string;
  /** Set by the HTTP listener once it knows its address. */
  httpBase: string | undefined;
  readonly log: (message: string) => void;
  private readonly sessions = new Map<string, Session>();
  private readonly rpc: RpcDispatcher;
  private readonly backendInfo = new Map<string, Promise<BackendDescription>>();
  private closing = false;
  private stopped: Promise<void> | undefined;

  private constructor(options: EngineOptions, cache: ResultCache) {
    this.log = options.log ?? (() => undefined);
    this.token = options.token;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.cache = cache;
    const memoryBytes = options.memoryBytes ?? defaultMemoryBytes();
    this.pool = new WorkerPool(options.workers ?? defaultWorkers(), { log: this.log, memoryBytes: memoryBytes / 2, warmUp: options.warmUp ?? false });
    this.uploads = pLimit(this.pool.size);
    this.images = new ImageStore({
      cache,
      pool: this.pool,
      memoryBudget: memoryBytes / 2,
      limits: {
        maxPixels: this.limits.maxPixels,
        maxFileBytes: this.limits.maxUploadBytes,
        ...(this.limits.workingLongSide === undefined ? {} : { workingLongSide: this.limits.workingLongSide }),
      },
    });
    this.pool.imageInMemory = (id) => this.images.inMemory(id);
    this.jobs = new JobManager({
      cache,
      images: this.images,
      pool: this.pool,
      describeBackend: (id) => this.describeBackend(id),
      maxUnfinishedPerOwner: this.limits.maxQueuedJobsPerClient,
      ...(this.limits.maxEncodePixels !== undefined ? { maxEncodePixels: this.limits.maxEncodePixels } : {}),
      emit: (record, event, extra) => this.emitJobEvent(record, event, extra),
      log: this.log,
    });
    this.rpc = new RpcDispatcher(this, this.log);
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const cache = await ResultCache.open({ dir: options.cacheDir, capBytes: options.cacheCapBytes ?? DEFAULT_CACHE_CAP_BYTES, ...(options.log ? { log: options.log } : {}) });
    return new Engine(options, cache);
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  openSession(transport: Transport, send: Session['send'], authenticated: boolean): Session {
    sessionCounter++;
    const session: Session = {
      id: `s${sessionCounter}`,
      transport,
      authenticated,
      send,
      ...(transport === 'websocket' ? { limiter: new RateLimiter(this.limits.maxRequestsPerSecond) } : {}),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  closeSession(session: Session): void {
    // Cancelled while the session is still known: a carrier that can still write (stdout, once stdin has
    // closed) gets each job's job.cancelled, as on shutdown.
    this.jobs.cancelOwner(session.id);
    this.sessions.delete(session.id);
  }

  /** Paired network connections: the ones `maxConnections` limits (tokenless ones never count). */
  get connectionCount(): number {
    let count = 0;
    for (const session of this.sessions.values()) if (session.transport === 'websocket' && session.authenticated) count++;
    return count;
  }

  /**
   * Marks a session as paired. A network session takes one of the `maxConnections` slots from then on;
   * when none is left it is refused with TOO_MANY_CONNECTIONS and closed after that reply.
   */
  authenticate(session: Session): void {
    if (session.authenticated) return;
    if (session.transport === 'websocket' && this.connectionCount >= this.limits.maxConnections) {
      session.closeAfterReply = { code: 1013, reason: 'the engine serves the maximum number of connections' };
      throw serviceError('TOO_MANY_CONNECTIONS', `The engine already serves ${this.limits.maxConnections} connections.`, 'Close another client (or start the engine with a higher --max-connections), then connect again.');
    }
    session.authenticated = true;
    session.onAuthenticated?.();
  }

  /**
   * Handles one incoming message (a line of stdio or a WebSocket text message) and returns the response
   * text, or undefined when nothing must be answered (notifications). Never throws.
   */
  handleText(session: Session, text: string, bytes?: number): Promise<string | undefined> {
    return this.rpc.handleText(session, text, bytes);
  }

  /**
   * Stores an upload whose bytes `read` returns (image.put, POST /images). Uploads are admitted a few at a
   * time (`uploads`): the others wait their turn before their bytes are read, so many clients, or one that
   * sends a folder of big canvases at once, never hold more than those few bodies and decoded images.
   * `pixels`: the bytes are raw pixels of that layout (RawPixels), not an encoded file.
   */
  putImage(read: () => Promise<Uint8Array | UploadBytes>, pixels?: RawPixels): Promise<PutImageResult> {
    // The upload is read on this thread while the workers would still be warming up: they stop now.
    this.pool.stopWarmingUp();
    return this.uploads(async () => this.store(await read(), pixels));
  }

  /**
   * Uploads read and decoded at once: one per worker (decoding runs in the workers; more at once only
   * holds more pixels in memory). A 36-megapixel upload holds about 90 MB while it is decoded and stored.
   */
  private readonly uploads: LimitFunction;

  private async store(upload: Uint8Array | UploadBytes, pixels: RawPixels | undefined): Promise<PutImageResult> {
    const size = upload instanceof Uint8Array ? upload.length : upload.bytes.length;
    if (size > this.limits.maxUploadBytes) {
      throw serviceError('BODY_TOO_LARGE', `The upload is ${size} bytes; the limit is ${this.limits.maxUploadBytes}.`, 'Export the artwork at a smaller size (4096 px on the long side is plenty).');
    }
    // Its plan starts on an idle worker as soon as it is decoded: while it is stored, and while the client
    // asks for its first frame. Should storing fail, the plan is dropped when made (its image is not kept).
    return this.images.put(upload, pixels, (source) => this.jobs.prepareAhead(source));
  }

  describeBackend(id: string): Promise<BackendDescription> {
    let info = this.backendInfo.get(id);
    if (!info) {
      info = this.pool.describe(id);
      this.backendInfo.set(id, info);
      info.catch(() => this.backendInfo.delete(id));
    }
    return info;
  }

  async info(session: Session): Promise<EngineInfo> {
    const backends: BackendDescription[] = [];
    // Backends that cannot start (model files missing, no GPU) are listed as models that are not ok.
    const models: EngineInfo['models'] = [];
    for (const entry of listBackends()) {
      try {
        backends.push(await this.describeBackend(entry.id));
      } catch (error) {
        models.push({ id: entry.id, ok: false });
        this.log(`backend ${entry.id} unavailable: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const cpu = cpus();
    return {
      name: 'paints-undo',
      version: engineVersion(),
      protocol: PROTOCOL_VERSION,
      backends,
      devices: [{ kind: 'cpu', name: `${cpu[0]?.model.trim() ?? 'CPU'} (${cpu.length} threads, ${this.pool.size} workers)` }],
      models,
      limits: this.limits,
      ...(this.baseFor(session) ? { httpBase: this.baseFor(session) } : {}),
      transport: session.transport,
      methods: [...METHOD_NAMES],
    };
  }

  private baseFor(session: Session): string | undefined {
    return this.httpBase === undefined ? undefined : (session.httpBase ?? this.httpBase);
  }

  /** A job as one session sees it: download URLs when there is HTTP, file paths for stdio. */
  toJob(record: JobRecord, session: Session): Job {
    const base = this.baseFor(session);
    const { kind, ...params } = record.input;
    const job: Job = {
      id: record.id,
      kind,
      state: record.state,
      priority: record.priority,
      backend: record.input.backend,
      params: record.slider ? { ...params, slider: record.slider } : params,
      createdAt: record.createdAt,
      progress: record.progress,
    };
    if (record.startedAt !== undefined) job.startedAt = record.startedAt;
    if (record.finishedAt !== undefined) job.finishedAt = record.finishedAt;
    if (record.supersededBy) job.supersededBy = record.supersededBy;
    if (record.error) job.error = record.error;
    if (record.result) {
      const key = record.result.entry.key;
      job.result = {
        id: key,
        cached: record.result.cached,
        files: record.result.entry.files.map((f) => {
          const path = `/results/${key}/${f.name}`;
          return {
            name: f.name,
            mime: f.mime,
            bytes: f.bytes,
            ...(f.step !== undefined ? { step: f.step } : {}),
            ...(base ? { url: `${base}${path}?${signedQuery(this.token, path)}` } : {}),
            ...(session.transport === 'stdio' ? { path: this.cache.filePath(key, f.name) } : {}),
          };
        }),
      };
    }
    return job;
  }

  private emitJobEvent(record: JobRecord, event: JobEventName, extra?: { preview?: { width: number; height: number; data: string } }): void {
    const session = this.sessions.get(record.owner);
    if (!session) return;
    let params: unknown;
    if (event === 'job.progress') {
      params = {
        job: record.id,
        progress: record.progress,
        ...(extra?.preview ? { preview: { mime: 'image/png', ...extra.preview } } : {}),
      };
    } else {
      params = { job: this.toJob(record, session) };
    }
    this.notify(session, event, params);
  }

  notify(session: Session, event: EventName, params: unknown): void {
    if (!(event in EVENTS)) return;
    try {
      session.send(JSON.stringify({ jsonrpc: '2.0', method: event, params }), event === 'job.progress');
    } catch (error) {
      this.log(`cannot send ${event} to ${session.id}: ${String(error)}`);
    }
  }

  /**
   * Takes no new work and cancels every job. Their job.cancelled events go out now, so a transport that
   * closes its connections after this (serve.ts) lets every client hear how its jobs ended.
   */
  stopAccepting(): void {
    if (this.closing) return;
    this.closing = true;
    this.jobs.stopAccepting();
  }

  /** Stop accepting, cancel jobs, stop workers, flush the cache index. */
  shutdown(): Promise<void> {
    this.stopAccepting();
    this.stopped ??= (async () => {
      await this.jobs.shutdown();
      await this.pool.close();
      await this.cache.flush().catch((error: unknown) => this.log(`cannot write the cache index: ${String(error)}`));
    })();
    return this.stopped;
  }

  get isClosing(): boolean {
    return this.closing;
  }
}

function defaultWorkers(): number {
  return Math.max(1, Math.min(4, cpus().length));
}
