/**
 * The typed engine client: connect, authenticate, call, follow job events, cancel, reconnect with
 * backoff after an engine restart, and expose the connection state as an enum a UI can render.
 *
 * Transport-agnostic and free of Node imports, so the Photoshop (UXP) panel, webviews and Node all use
 * it: the WebSocket transport (websocket.ts) takes the WebSocket class from globalThis or the caller;
 * the stdio transport (node.ts) is Node-only and lives in its own module. Job following is in jobs.ts,
 * HTTP uploads and downloads in transfer.ts, error mapping in errors.ts.
 */
import { JSONRPCClient, type JSONRPCResponse } from 'json-rpc-2.0';
import type { z } from 'zod';
import { CLIENT_ERROR_CODES, toEngineError } from './errors.js';
import { JobTracker, type JobProgressListener } from './jobs.js';
import {
  EVENTS,
  EngineError,
  METHODS,
  PROTOCOL_VERSION,
  type EngineInfo,
  type EventName,
  type EventPayload,
  type Job,
  type JobMethod,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type PutImageResult,
  type RawPixels,
  type ResultFile,
} from './protocol.js';
import { engineHttp, sliceStream, toBase64 } from './transfer.js';
import type { Connection, Transport } from './transport.js';

/**
 * - 'disconnected': no engine answers (not running, or the connection dropped; reconnecting if enabled)
 * - 'connecting': opening the transport and saying hello
 * - 'connected': ready
 * - 'unauthorized': the engine refused the token (pair again: paste the token the engine printed)
 * - 'version-mismatch': the engine speaks another protocol version (update the engine or the client)
 */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'unauthorized' | 'version-mismatch';

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

export interface JobHandle {
  /** The job as the engine accepted it (state 'queued', or already 'done' when served from the cache). */
  readonly job: Job;
  /** Resolves with the finished job; rejects with EngineError (code CANCELLED, or the failure's code). */
  readonly done: Promise<Job>;
  cancel(): Promise<Job>;
}

export class EngineClient {
  private readonly options: EngineClientOptions;
  private connection: Connection | undefined;
  private rpc: JSONRPCClient | undefined;
  private currentState: ConnectionState = 'disconnected';
  private currentError: EngineError | undefined;
  private currentInfo: EngineInfo | undefined;
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly eventListeners = new Map<EventName, Set<Listener<unknown>>>();
  private readonly jobs = new JobTracker();
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
    onProgress?: JobProgressListener,
  ): Promise<JobHandle> {
    const job = (await this.call(method, params)) as Job;
    const done = this.jobs.wait(job, onProgress);
    // A caller that never awaits `done` (fire-and-forget slider requests) must not get unhandled rejections.
    done.catch(() => undefined);
    return { job, done, cancel: () => this.cancel(job.id) };
  }

  /** Starts a job and waits for it: `await client.run('frame', { image, step: 500 })`. */
  async run<M extends JobMethod>(method: M, params: MethodParams<M>, onProgress?: JobProgressListener): Promise<Job> {
    return (await this.submit(method, params, onProgress)).done;
  }

  async cancel(jobId: string): Promise<Job> {
    return this.call('jobs.cancel', { job: jobId });
  }

  /**
   * Uploads an encoded image (PNG, JPEG, ...). Over WebSocket it uses HTTP POST /images (binary, no
   * base64 inflation); over stdio it sends base64 in `image.put`. `bytes` must not change until this
   * resolves: a transport that streams uploads reads them as it sends.
   */
  async putImage(bytes: Uint8Array): Promise<PutImageResult> {
    const base = this.currentInfo?.httpBase ?? this.options.transport.httpBase;
    if (this.options.transport.kind === 'websocket' && base) {
      const response = await this.http(`${base}/images`, this.uploadInit(bytes));
      return METHODS['image.put'].result.parse(await response.json());
    }
    return this.call('image.put', { data: toBase64(bytes) });
  }

  /**
   * Uploads raw 8-bit pixels (RGB or RGBA with straight alpha, rows top to bottom), as a host reads them
   * from its canvas: nothing to encode here, nothing to decode in the engine. They count against the
   * engine's upload limit (`limits.maxUploadBytes` in its info) like any upload; over it, send a PNG.
   * As with putImage, the pixels must not change until this resolves.
   */
  async putPixels(pixels: RawPixels & { readonly data: Uint8Array }): Promise<PutImageResult> {
    const layout: RawPixels = { width: pixels.width, height: pixels.height, channels: pixels.channels };
    const base = this.currentInfo?.httpBase ?? this.options.transport.httpBase;
    if (this.options.transport.kind === 'websocket' && base) {
      const query = `width=${layout.width}&height=${layout.height}&channels=${layout.channels}`;
      const response = await this.http(`${base}/images?${query}`, this.uploadInit(pixels.data));
      return METHODS['image.put'].result.parse(await response.json());
    }
    return this.call('image.put', { data: toBase64(pixels.data), pixels: layout });
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

  /** A POST of `bytes`: as a stream of slices where the transport's fetch sends those (see Transport's `streamsUploads`), else as they are. */
  private uploadInit(bytes: Uint8Array): RequestInit {
    if (!this.options.transport.streamsUploads || this.options.fetch) return { method: 'POST', body: bytes as Uint8Array<ArrayBuffer> };
    // A stream body needs `duplex: 'half'` (fetch spec), which the DOM typings this builds with lack.
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', body: sliceStream(bytes), duplex: 'half', headers: { 'content-length': String(bytes.length) } };
    return init;
  }

  private async http(url: string, init: RequestInit): Promise<Response> {
    return engineHttp(this.options.fetch ?? globalThis.fetch, await this.readToken(), url, init);
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
      this.jobs.progress(payload as EventPayload<'job.progress'>);
    } else if (event === 'job.done' || event === 'job.failed' || event === 'job.cancelled') {
      this.jobs.finish((payload as EventPayload<'job.done'>).job);
    }
    for (const l of this.eventListeners.get(event) ?? []) {
      try {
        l(payload);
      } catch {
        // A listener's bug must not break event delivery to the others.
      }
    }
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
    this.jobs.rejectAll(error);
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
