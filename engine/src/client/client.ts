/**
 * The typed engine client: connect, authenticate, call, follow job events, cancel, reconnect with
 * backoff after an engine restart, and expose the connection state as an enum a UI can render.
 *
 * Transport-agnostic and free of Node imports, so the Photoshop (UXP) panel, webviews and Node all use
 * it: the WebSocket transport (websocket.ts) takes the WebSocket class from globalThis or the caller;
 * the stdio transport (node.ts) is Node-only and lives in its own module.
 */
import { JSONRPCClient, JSONRPCErrorException, type JSONRPCResponse } from 'json-rpc-2.0';
import type { z } from 'zod';
import {
  EVENTS,
  EngineError,
  ErrorDataSchema,
  METHODS,
  PROTOCOL_VERSION,
  type EngineInfo,
  type EventName,
  type EventPayload,
  type Job,
  type JobMethod,
  type JobProgress,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type PutImageResult,
  type ResultFile,
} from './protocol.js';

/**
 * - 'disconnected': no engine answers (not running, or the connection dropped; reconnecting if enabled)
 * - 'connecting': opening the transport and saying hello
 * - 'connected': ready
 * - 'unauthorized': the engine refused the token (pair again: paste the token the engine printed)
 * - 'version-mismatch': the engine speaks another protocol version (update the engine or the client)
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'unauthorized' | 'version-mismatch';

/** Errors raised by the client itself (not sent by the engine). */
export const CLIENT_ERROR_CODES = {
  DISCONNECTED: 'The connection to the engine closed before an answer came; it reconnects by itself if enabled.',
  NOT_CONNECTED: 'The client is not connected; call connect() (or wait for the reconnect).',
  TIMEOUT: 'The engine did not answer in time.',
  BAD_RESPONSE: 'The engine sent a message that does not match the protocol; update the client or the engine.',
} as const;

export interface TransportHandlers {
  onMessage(text: string): void;
  /** The transport closed; `reason` is for logs. Called at most once per opened connection. */
  onClose(reason: string): void;
}

/** One open connection: sends JSON-RPC text messages (one JSON object each). */
export interface Connection {
  send(text: string): void;
  close(): void;
}

export interface Transport {
  readonly kind: 'websocket' | 'stdio';
  /** Opens a new connection; rejects when the engine cannot be reached. */
  open(handlers: TransportHandlers): Promise<Connection>;
  /** HTTP base URL for uploads and downloads, when the transport has one. */
  readonly httpBase?: string;
}

export interface ReconnectOptions {
  /** First delay in ms (default 250), doubled after every failure up to `maxDelayMs` (default 10 s). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
}

export interface EngineClientOptions {
  readonly transport: Transport;
  /** The pairing token, or a function that reads it (e.g. from secure storage or the token file). */
  readonly token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Shown in engine logs, e.g. "photoshop-panel/0.1". */
  readonly clientName?: string;
  /** Reconnect after an unexpected close (default true). Never after 'unauthorized'/'version-mismatch'. */
  readonly reconnect?: boolean | ReconnectOptions;
  /** Per-call timeout in ms (default 30 s). Job methods return at once; waiting for a job has no timeout. */
  readonly requestTimeoutMs?: number;
  /** fetch for HTTP uploads/downloads; default globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /** Protocol version announced in hello; default PROTOCOL_VERSION (override only to test mismatches). */
  readonly protocolVersion?: number;
}

type Listener<T> = (value: T) => void;

interface JobWaiter {
  resolve(job: Job): void;
  reject(error: unknown): void;
  onProgress?: ((progress: JobProgress, preview?: EventPayload<'job.progress'>['preview']) => void) | undefined;
}

export interface JobHandle {
  /** The job as the engine accepted it (state 'queued', or already 'done' when served from the cache). */
  readonly job: Job;
  /** Resolves with the finished job; rejects with EngineError (code CANCELLED, or the failure's code). */
  readonly done: Promise<Job>;
  cancel(): Promise<Job>;
}

const FINISHED_EVENTS_KEPT = 256;

export class EngineClient {
  private readonly options: EngineClientOptions;
  private connection: Connection | undefined;
  private rpc: JSONRPCClient | undefined;
  private currentState: ConnectionState = 'disconnected';
  private currentError: EngineError | undefined;
  private currentInfo: EngineInfo | undefined;
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly eventListeners = new Map<EventName, Set<Listener<unknown>>>();
  private readonly waiters = new Map<string, JobWaiter[]>();
  /** Final events that arrived before anyone waited for them (a job finishing very fast). */
  private readonly finished = new Map<string, Job>();
  private closedByUser = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectDelay: number;
  private connecting: Promise<EngineInfo> | undefined;

  constructor(options: EngineClientOptions) {
    this.options = options;
    this.reconnectDelay = this.reconnectOptions()?.initialDelayMs ?? 250;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Why the client is not connected, when it is not. */
  get lastError(): EngineError | undefined {
    return this.currentError;
  }

  /** What the engine said about itself at the last successful hello. */
  get info(): EngineInfo | undefined {
    return this.currentInfo;
  }

  onStateChange(listener: Listener<ConnectionState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  on<E extends EventName>(event: E, listener: Listener<EventPayload<E>>): () => void {
    let set = this.eventListeners.get(event);
    if (!set) {
      set = new Set();
      this.eventListeners.set(event, set);
    }
    const l = listener as Listener<unknown>;
    set.add(l);
    return () => set.delete(l);
  }

  /** Opens the transport and says hello (token + protocol version). Safe to call again. */
  connect(): Promise<EngineInfo> {
    if (this.currentState === 'connected' && this.currentInfo) return Promise.resolve(this.currentInfo);
    if (this.connecting) return this.connecting;
    this.closedByUser = false;
    this.clearReconnect();
    this.connecting = this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Closes the connection and stops reconnecting. */
  close(): void {
    this.closedByUser = true;
    this.clearReconnect();
    const connection = this.connection;
    this.dropConnection('closed by the client');
    connection?.close();
    this.setState('disconnected');
  }

  /** Calls a method; params and result are validated against the protocol schemas. */
  async call<M extends MethodName>(method: M, params?: MethodParams<M>): Promise<MethodResult<M>> {
    const rpc = this.rpc;
    if (!rpc || (this.currentState !== 'connected' && method !== 'hello')) {
      throw new EngineError('NOT_CONNECTED', `Cannot call ${method}: the client is ${this.currentState}.`, {
        rpcCode: -1,
        hint: CLIENT_ERROR_CODES.NOT_CONNECTED,
      });
    }
    const timeout = this.options.requestTimeoutMs ?? 30_000;
    let raw: unknown;
    try {
      raw = await rpc
        .timeout(timeout, (id) => ({
          jsonrpc: '2.0',
          id,
          error: { code: -1, message: `The engine did not answer ${method} within ${timeout} ms.`, data: { code: 'TIMEOUT' } },
        }))
        .request(method, params ?? {});
    } catch (error) {
      throw toEngineError(error);
    }
    const schema = METHODS[method].result as unknown as z.ZodType<MethodResult<M>>;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new EngineError('BAD_RESPONSE', `The engine's answer to ${method} does not match protocol ${PROTOCOL_VERSION}.`, {
        rpcCode: -1,
        hint: CLIENT_ERROR_CODES.BAD_RESPONSE,
        details: { issues: parsed.error.issues.slice(0, 5) },
      });
    }
    return parsed.data;
  }

  /** Starts a job and returns a handle whose `done` resolves when it finishes. */
  async submit<M extends JobMethod>(
    method: M,
    params: MethodParams<M>,
    onProgress?: JobWaiter['onProgress'],
  ): Promise<JobHandle> {
    const job = (await this.call(method, params)) as Job;
    const done = this.waitForJob(job, onProgress);
    // A caller that never awaits `done` (fire-and-forget slider requests) must not get unhandled rejections.
    done.catch(() => undefined);
    return { job, done, cancel: () => this.cancel(job.id) };
  }

  /** Starts a job and waits for it: `await client.run('frame', { image, step: 500 })`. */
  async run<M extends JobMethod>(method: M, params: MethodParams<M>, onProgress?: JobWaiter['onProgress']): Promise<Job> {
    return (await this.submit(method, params, onProgress)).done;
  }

  async cancel(jobId: string): Promise<Job> {
    return this.call('jobs.cancel', { job: jobId });
  }

  /**
   * Uploads an encoded image (PNG, JPEG, ...). Over WebSocket it uses HTTP POST /images (binary, no
   * base64 inflation); over stdio it sends base64 in `image.put`.
   */
  async putImage(bytes: Uint8Array): Promise<PutImageResult> {
    const base = this.currentInfo?.httpBase ?? this.options.transport.httpBase;
    if (this.options.transport.kind === 'websocket' && base) {
      const response = await this.http(`${base}/images`, { method: 'POST', body: bytes as Uint8Array<ArrayBuffer> });
      return METHODS['image.put'].result.parse(await response.json());
    }
    return this.call('image.put', { data: toBase64(bytes) });
  }

  /** Downloads a result file through its signed URL (WebSocket transport). Stdio clients read `file.path`. */
  async download(file: ResultFile, range?: { start: number; end?: number }): Promise<Uint8Array> {
    if (!file.url) {
      throw new EngineError('NOT_FOUND', `Result file ${file.name} has no URL on this transport; read file.path instead.`, {
        rpcCode: -32003,
      });
    }
    const headers: Record<string, string> = {};
    if (range) headers.range = `bytes=${range.start}-${range.end ?? ''}`;
    const response = await this.http(file.url, { method: 'GET', headers });
    return new Uint8Array(await response.arrayBuffer());
  }

  // -------------------------------------------------------------------------------------------

  private async http(url: string, init: RequestInit): Promise<Response> {
    const f = this.options.fetch ?? globalThis.fetch;
    const token = await this.readToken();
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    let response: Response;
    try {
      response = await f(url, { ...init, headers });
    } catch (error) {
      throw new EngineError('DISCONNECTED', `Cannot reach the engine at ${url}: ${String(error)}`, { rpcCode: -1 });
    }
    if (!response.ok) {
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        body = undefined;
      }
      const error = (body as { error?: { code?: number; message?: string; data?: unknown } } | undefined)?.error;
      throw toEngineError(
        new JSONRPCErrorException(error?.message ?? `HTTP ${response.status}`, error?.code ?? -32603, error?.data),
      );
    }
    return response;
  }

  private async readToken(): Promise<string | undefined> {
    const t = this.options.token;
    return typeof t === 'function' ? await t() : t;
  }

  private reconnectOptions(): ReconnectOptions | undefined {
    const r = this.options.reconnect ?? true;
    if (r === false) return undefined;
    return r === true ? {} : r;
  }

  private async doConnect(): Promise<EngineInfo> {
    this.setState('connecting');
    let connection: Connection;
    const rpc = new JSONRPCClient((payload) => {
      if (!this.connection) throw new Error('not connected');
      this.connection.send(JSON.stringify(payload));
    });
    try {
      connection = await this.options.transport.open({
        onMessage: (text) => this.receive(text, rpc),
        onClose: (reason) => this.handleClose(rpc, reason),
      });
    } catch (error) {
      const e = new EngineError('DISCONNECTED', `Cannot reach the engine: ${error instanceof Error ? error.message : String(error)}`, {
        rpcCode: -1,
        hint: 'Start it with `paints-undo serve` (or check the port), then retry.',
      });
      this.currentError = e;
      this.setState('disconnected');
      this.scheduleReconnect();
      throw e;
    }
    this.connection = connection;
    this.rpc = rpc;
    try {
      const token = await this.readToken();
      const info = await this.call('hello', {
        protocol: this.options.protocolVersion ?? PROTOCOL_VERSION,
        ...(token ? { token } : {}),
        ...(this.options.clientName ? { client: this.options.clientName } : {}),
      });
      this.currentInfo = info;
      this.currentError = undefined;
      this.reconnectDelay = this.reconnectOptions()?.initialDelayMs ?? 250;
      this.setState('connected');
      return info;
    } catch (error) {
      const e = toEngineError(error);
      this.currentError = e;
      const terminal = e.code === 'UNAUTHORIZED' ? 'unauthorized' : e.code === 'VERSION_MISMATCH' ? 'version-mismatch' : undefined;
      this.dropConnection(e.message);
      connection.close();
      if (terminal) {
        this.setState(terminal);
      } else {
        this.setState('disconnected');
        this.scheduleReconnect();
      }
      throw e;
    }
  }

  private receive(text: string, rpc: JSONRPCClient): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message === null || typeof message !== 'object') return;
    const m = message as Record<string, unknown>;
    if (typeof m.method === 'string' && m.id === undefined) {
      this.dispatchEvent(m.method, m.params);
    } else if ('id' in m && ('result' in m || 'error' in m)) {
      rpc.receive(m as unknown as JSONRPCResponse);
    }
  }

  private dispatchEvent(name: string, params: unknown): void {
    if (!(name in EVENTS)) return;
    const event = name as EventName;
    const parsed = EVENTS[event].safeParse(params);
    if (!parsed.success) return;
    const payload = parsed.data;
    if (event === 'job.progress') {
      const p = payload as EventPayload<'job.progress'>;
      for (const w of this.waiters.get(p.job) ?? []) w.onProgress?.(p.progress, p.preview);
    } else if (event === 'job.done' || event === 'job.failed' || event === 'job.cancelled') {
      this.finishJob((payload as EventPayload<'job.done'>).job);
    }
    for (const l of this.eventListeners.get(event) ?? []) {
      try {
        l(payload);
      } catch {
        // A listener's bug must not break event delivery to the others.
      }
    }
  }

  private finishJob(job: Job): void {
    const waiters = this.waiters.get(job.id);
    if (!waiters) {
      this.finished.set(job.id, job);
      if (this.finished.size > FINISHED_EVENTS_KEPT) this.finished.delete(this.finished.keys().next().value as string);
      return;
    }
    this.waiters.delete(job.id);
    for (const w of waiters) settle(w, job);
  }

  private waitForJob(job: Job, onProgress: JobWaiter['onProgress']): Promise<Job> {
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

  private handleClose(rpc: JSONRPCClient, reason: string): void {
    if (this.rpc !== rpc) return;
    this.dropConnection(reason);
    if (this.currentState === 'unauthorized' || this.currentState === 'version-mismatch') return;
    this.currentError = new EngineError('DISCONNECTED', `The engine connection closed: ${reason}`, { rpcCode: -1 });
    this.setState('disconnected');
    this.scheduleReconnect();
  }

  private dropConnection(reason: string): void {
    const rpc = this.rpc;
    this.rpc = undefined;
    this.connection = undefined;
    rpc?.rejectAllPendingRequests(`The engine connection closed: ${reason}`);
    const error = new EngineError('DISCONNECTED', `The engine connection closed before the job finished: ${reason}`, {
      rpcCode: -1,
      hint: 'Reconnect and ask for the result again; finished results are cached.',
    });
    for (const list of this.waiters.values()) for (const w of list) w.reject(error);
    this.waiters.clear();
  }

  private scheduleReconnect(): void {
    const options = this.reconnectOptions();
    if (!options || this.closedByUser || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(options.maxDelayMs ?? 10_000, delay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch(() => undefined);
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    for (const l of this.stateListeners) {
      try {
        l(state);
      } catch {
        // Listener errors stay with the listener.
      }
    }
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

/** Maps json-rpc-2.0 exceptions and transport failures to EngineError with the engine's string code. */
export function toEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof JSONRPCErrorException) {
    const data = ErrorDataSchema.safeParse(error.data);
    const code = data.success ? data.data.code : 'INTERNAL';
    return new EngineError(code, error.message, {
      rpcCode: error.code,
      ...(data.success && data.data.hint ? { hint: data.data.hint } : {}),
      ...(data.success && data.data.details ? { details: data.data.details } : {}),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new EngineError('DISCONNECTED', message, { rpcCode: -1 });
}

/** base64 without Node's Buffer (browsers and UXP have btoa). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
