/**
 * The engine service, independent of transports: sessions, JSON-RPC dispatch with validation at the
 * boundary, the job manager, the image store and the cache. stdio.ts and http.ts only move text.
 */
import { cpus } from 'node:os';
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { PaintsUndoError } from '../core/errors.js';
import type { z } from 'zod';
import { JobInputSchema, parseOrThrow, type JobInput } from '../core/job.js';
import { listBackends } from '../backends/registry.js';
import { engineVersion } from '../io/provenance.js';
import {
  EVENTS,
  METHODS,
  METHOD_NAMES,
  PROTOCOL_VERSION,
  type EngineInfo,
  type EventName,
  type Job,
  type JobMethod,
  type Limits,
  type MethodName,
  type PutImageResult,
} from '../client/protocol.js';
import { ResultCache, DEFAULT_CACHE_CAP_BYTES } from './cache.js';
import { ServiceError, serviceError, toRpcError, type RpcErrorObject } from './errors.js';
import { ImageStore } from './images.js';
import { JobManager, MAX_ENCODE_PIXELS, type JobRecord, type JobEventName } from './jobs.js';
import { WorkerPool } from './pool.js';
import { RateLimiter, signPath, tokensEqual } from './security.js';
import type { BackendDescription } from './worker-protocol.js';
import { readFile } from 'node:fs/promises';

export const DEFAULT_LIMITS: Limits = {
  maxUploadBytes: 64 * 1024 * 1024,
  maxPixels: 50_000_000,
  maxMessageBytes: 1024 * 1024,
  maxConnections: 64,
  maxQueuedJobsPerClient: 16,
  maxRequestsPerSecond: 200,
  maxEncodePixels: MAX_ENCODE_PIXELS,
};

export interface EngineOptions {
  readonly cacheDir: string;
  readonly cacheCapBytes?: number;
  readonly workers?: number;
  readonly limits?: Partial<Limits>;
  /** Required for network sessions; stdio sessions are trusted (only the parent holds the pipes). */
  readonly token: string;
  readonly log?: (message: string) => void;
}

export interface Session {
  readonly id: string;
  readonly transport: 'stdio' | 'websocket';
  authenticated: boolean;
  clientName?: string;
  /**
   * Base URL for this client's downloads, from the Host it connected to (a remote client or a TLS proxy
   * must get URLs it can reach, not 127.0.0.1); defaults to the listener's own URL.
   */
  httpBase?: string;
  /** Sends one JSON-RPC message; `droppable` messages (progress) may be skipped under backpressure. */
  send(text: string, droppable: boolean): void;
  readonly limiter?: RateLimiter;
}

let sessionCounter = 0;

export class Engine {
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
  // The library would print every method error to the console; errors are answered, and logged when internal.
  private readonly rpc = new JSONRPCServer<Session>({ errorListener: () => undefined });
  private readonly backendInfo = new Map<string, Promise<BackendDescription>>();
  private closing = false;

  private constructor(options: EngineOptions, cache: ResultCache) {
    this.log = options.log ?? (() => undefined);
    this.token = options.token;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.cache = cache;
    this.pool = new WorkerPool(options.workers ?? defaultWorkers(), this.log);
    this.images = new ImageStore({
      cache,
      pool: this.pool,
      limits: { maxPixels: this.limits.maxPixels, maxFileBytes: this.limits.maxUploadBytes },
    });
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
    this.registerMethods();
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const cache = await ResultCache.open({ dir: options.cacheDir, capBytes: options.cacheCapBytes ?? DEFAULT_CACHE_CAP_BYTES, ...(options.log ? { log: options.log } : {}) });
    return new Engine(options, cache);
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  openSession(transport: 'stdio' | 'websocket', send: Session['send'], authenticated: boolean): Session {
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
    this.sessions.delete(session.id);
    this.jobs.cancelOwner(session.id);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Handles one incoming message (a line of stdio or a WebSocket text message) and returns the response
   * text, or undefined for notifications. Never throws: every problem becomes a JSON-RPC error.
   */
  async handleText(session: Session, text: string): Promise<string | undefined> {
    const hardMax = this.maxMessageBytesFor('image.put');
    if (text.length > hardMax) {
      return errorResponse(null, toRpcError(serviceError('BODY_TOO_LARGE', `The message is ${text.length} bytes; the limit is ${hardMax}.`, 'Upload large images with HTTP POST /images.')));
    }
    if (session.limiter && !session.limiter.take()) {
      return errorResponse(idOf(text), toRpcError(new ServiceError('RATE_LIMITED', `More than ${this.limits.maxRequestsPerSecond} requests per second on this connection.`, { hint: 'Slow down (e.g. send slider requests at most once per animation frame) and retry.' })));
    }
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return errorResponse(null, {
        code: -32700,
        message: `The message is not valid JSON (${(error as Error).message}).`,
        data: { code: 'PARSE_ERROR', hint: 'Send one JSON-RPC 2.0 object per line (stdio) or per WebSocket message.' },
      });
    }
    if (Array.isArray(message)) {
      if (message.length === 0) return errorResponse(null, invalidRequest('an empty batch'));
      if (message.length > 50) return errorResponse(null, invalidRequest('a batch of more than 50 requests'));
      const responses: string[] = [];
      for (const item of message) {
        const r = await this.handleMessage(session, item, text.length);
        if (r) responses.push(r);
      }
      return responses.length > 0 ? `[${responses.join(',')}]` : undefined;
    }
    return this.handleMessage(session, message, text.length);
  }

  private maxMessageBytesFor(method: string): number {
    // base64 inflates by 4/3; a little room for the envelope.
    return method === 'image.put' ? Math.ceil((this.limits.maxUploadBytes * 4) / 3) + 64 * 1024 : this.limits.maxMessageBytes;
  }

  private async handleMessage(session: Session, message: unknown, size: number): Promise<string | undefined> {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      return errorResponse(null, invalidRequest(`a ${message === null ? 'null' : Array.isArray(message) ? 'nested array' : typeof message}`));
    }
    const m = message as Record<string, unknown>;
    const id = m.id;
    const validId = id === undefined || id === null || typeof id === 'string' || typeof id === 'number';
    const replyId = typeof id === 'string' || typeof id === 'number' ? id : null;
    if (m.jsonrpc !== '2.0' || typeof m.method !== 'string' || !validId) {
      const what = m.jsonrpc !== '2.0' ? 'a message without "jsonrpc": "2.0"' : typeof m.method !== 'string' ? 'a message without a string "method"' : 'a message whose "id" is not a string, number or null';
      return errorResponse(replyId, invalidRequest(what));
    }
    if (m.params !== undefined && (m.params === null || typeof m.params !== 'object' || Array.isArray(m.params))) {
      return errorResponse(replyId, toRpcError(new ServiceError('INVALID_REQUEST', `Params of ${m.method} must be an object with named parameters.`, { hint: 'Send "params": {"name": value, ...}.' })));
    }
    const method = m.method;
    if (!(METHOD_NAMES as string[]).includes(method)) {
      return errorResponse(replyId, {
        code: -32601,
        message: `Unknown method ${JSON.stringify(method.slice(0, 60))}. Should be one of: ${METHOD_NAMES.join(', ')}.`,
        data: { code: 'METHOD_NOT_FOUND', hint: 'Check the method name against PROTOCOL.md.' },
      });
    }
    if (size > this.maxMessageBytesFor(method)) {
      return errorResponse(replyId, toRpcError(serviceError('BODY_TOO_LARGE', `The ${method} message is ${size} bytes; the limit is ${this.maxMessageBytesFor(method)}.`)));
    }
    if (!session.authenticated && method !== 'hello') {
      return errorResponse(replyId, toRpcError(new ServiceError('UNAUTHORIZED', `Call hello with the engine's token before ${method}.`, { hint: 'Send {"method":"hello","params":{"protocol":1,"token":"<token>"}} first; the engine printed the token file path when it started.' })));
    }
    const request: JSONRPCRequest = { jsonrpc: '2.0', method, params: m.params ?? {}, ...(id !== undefined ? { id: id as string | number | null } : {}) };
    let response: JSONRPCResponse | null;
    try {
      response = await this.rpc.receive(request, session);
    } catch (error) {
      response = { jsonrpc: '2.0', id: replyId, error: toRpcError(error, this.log) };
    }
    return response ? JSON.stringify(response) : undefined;
  }

  private registerMethods(): void {
    this.rpc.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
      if (error instanceof JSONRPCErrorException) return { jsonrpc: '2.0', id, error: error.toObject() };
      return { jsonrpc: '2.0', id, error: toRpcError(error, this.log) };
    };
    const add = <M extends MethodName>(name: M, handler: (params: ReturnType<typeof parseParams<M>>, session: Session) => unknown): void => {
      this.rpc.addMethod(name, async (params: unknown, session: Session) => handler(parseParams(name, params), session));
    };
    add('hello', (params, session) => {
      if (params.protocol !== PROTOCOL_VERSION) {
        throw new ServiceError('VERSION_MISMATCH', `This engine speaks protocol ${PROTOCOL_VERSION}; the client speaks ${params.protocol}.`, {
          hint: params.protocol < PROTOCOL_VERSION ? 'Update the client (panel or extension).' : 'Update the engine (npm install -g paints-undo@latest).',
          details: { engine: PROTOCOL_VERSION, client: params.protocol },
        });
      }
      if (!session.authenticated) {
        if (!tokensEqual(params.token, this.token)) {
          throw new ServiceError('UNAUTHORIZED', params.token === undefined ? 'This connection needs the engine token.' : 'The token is wrong.', {
            hint: 'Pair again: copy the token the engine printed (or from its token file) into the client.',
          });
        }
        session.authenticated = true;
      }
      if (params.client) session.clientName = params.client;
      return this.info(session);
    });
    add('engine.info', (_params, session) => this.info(session));
    add('image.put', async (params, session) => {
      if ('path' in params) {
        if (session.transport !== 'stdio') {
          throw new ServiceError('INVALID_REQUEST', 'image.put with a path is only available over stdio.', {
            hint: 'Send the bytes instead: HTTP POST /images, or image.put {data: base64}.',
          });
        }
        let bytes: Buffer;
        try {
          bytes = await readFile(params.path);
        } catch (error) {
          throw new PaintsUndoError('INPUT_NOT_FOUND', `Cannot read ${params.path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`, { hint: 'Check the path and its permissions.' });
        }
        return this.putImage(bytes);
      }
      const bytes = Buffer.from(params.data, 'base64');
      if (bytes.length === 0 || bytes.toString('base64').replace(/=+$/, '') !== params.data.replace(/\s+/g, '').replace(/=+$/, '')) {
        throw new ServiceError('INVALID_REQUEST', 'image.put data is not valid base64.', { hint: 'Encode the file bytes with standard base64 (RFC 4648).' });
      }
      return this.putImage(bytes);
    });
    const jobMethod = <M extends Exclude<JobMethod, 'video.encode'>>(name: M): void => {
      add(name, async (params, session) => {
        const { slider, ...rest } = params as typeof params & { slider?: string };
        // Already validated by the method schema; the core schema gives the discriminated type.
        const input: JobInput = parseOrThrow(JobInputSchema, { kind: name, ...rest }, 'params');
        const record = await this.jobs.submit({ id: session.id }, input, slider);
        return this.toJob(record, session);
      });
    };
    jobMethod('frame');
    jobMethod('keyframes');
    jobMethod('interpolate');
    jobMethod('timelapse');
    jobMethod('layers');
    add('video.encode', async (params, session) => {
      const input: JobInput = parseOrThrow(JobInputSchema, { kind: 'encode', ...params }, 'params');
      const record = await this.jobs.submit({ id: session.id }, input);
      return this.toJob(record, session);
    });
    add('jobs.list', (params, session) => {
      const p = params ?? { mine: false, limit: 100 };
      const records = this.jobs.list({ ...(p.state ? { state: p.state } : {}), ...(p.mine ? { owner: session.id } : {}), limit: p.limit });
      return { jobs: records.map((r) => this.toJob(r, session)), stats: this.jobs.stats() };
    });
    add('jobs.get', (params, session) => this.toJob(this.jobs.get(params.job), session));
    add('jobs.cancel', (params, session) => this.toJob(this.jobs.cancel(params.job), session));
    add('cache.stats', () => this.cache.stats());
    add('cache.clear', () => this.cache.clear());
  }

  async putImage(bytes: Uint8Array): Promise<PutImageResult> {
    if (bytes.length > this.limits.maxUploadBytes) {
      throw serviceError('BODY_TOO_LARGE', `The upload is ${bytes.length} bytes; the limit is ${this.limits.maxUploadBytes}.`, 'Export the artwork at a smaller size (4096 px on the long side is plenty).');
    }
    return this.images.put(bytes);
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
            ...(base ? { url: `${base}${path}?sig=${signPath(this.token, path)}` } : {}),
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

  /** Stop accepting, cancel jobs, stop workers, flush the cache index. */
  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.jobs.shutdown();
    await this.pool.close();
    await this.cache.flush().catch((error: unknown) => this.log(`cannot write the cache index: ${String(error)}`));
  }

  get isClosing(): boolean {
    return this.closing;
  }
}

/** Validates params against the method's schema; INVALID_OPTION names every bad parameter. */
function parseParams<M extends MethodName>(name: M, params: unknown): z.output<(typeof METHODS)[M]['params']> {
  return parseOrThrow(METHODS[name].params, params, 'params') as z.output<(typeof METHODS)[M]['params']>;
}

function defaultWorkers(): number {
  return Math.max(1, Math.min(4, cpus().length));
}

function invalidRequest(what: string): RpcErrorObject {
  return {
    code: -32600,
    message: `Invalid JSON-RPC request: received ${what}.`,
    data: { code: 'INVALID_REQUEST', hint: 'Send {"jsonrpc": "2.0", "id": <number or string>, "method": "<name>", "params": {...}}.' },
  };
}

function errorResponse(id: string | number | null, error: RpcErrorObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

/** The id of a message that could not be processed, when it can be read cheaply. */
function idOf(text: string): string | number | null {
  const m = /"id"\s*:\s*("(?:[^"\\]|\\.){0,100}"|-?\d{1,16})/.exec(text.slice(0, 2000));
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as string | number;
  } catch {
    return null;
  }
}
