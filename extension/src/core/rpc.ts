/**
 * The webview's side of the request/reply protocol in messages.ts: numbered requests, one reply each,
 * a timeout per request type, progress callbacks, and errors as RequestError with the stable code. The
 * timeout measures silence: each progress message of a request starts it again, so a long export that
 * keeps reporting progress is never given up on, while one the host stopped answering still is.
 * Plain TypeScript (no DOM, no Node) so that it is unit-tested in Node and bundled into the webview.
 */
import {
  HostMessageSchema,
  REQUEST_TIMEOUT_MS,
  RESULT_SCHEMAS,
  type ErrorInfo,
  type HostMessage,
  type RequestType,
  type ResultMap,
  type WebviewMessage,
  type WebviewRequest,
} from './messages.js';

export class RequestError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'RequestError';
    this.code = info.code;
    this.hint = info.hint;
  }
}

/** A request without its id (distributes over the union, unlike a plain Omit). */
export type RequestBody = WebviewRequest extends infer R ? (R extends WebviewRequest ? Omit<R, 'requestId'> : never) : never;

interface Pending {
  readonly type: RequestType;
  resolve(value: unknown): void;
  reject(error: RequestError): void;
  onProgress: ((fraction: number, stage: string) => void) | undefined;
  /** (Re)starts the request's timeout. */
  arm(): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface PendingRequest<T> {
  readonly requestId: number;
  readonly result: Promise<T>;
}

export class WebviewRpc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly post: (message: WebviewMessage) => void;
  private readonly timeouts: { readonly [K in RequestType]: number };

  constructor(post: (message: WebviewMessage) => void, timeouts: Partial<{ [K in RequestType]: number }> = {}) {
    this.post = post;
    this.timeouts = { ...REQUEST_TIMEOUT_MS, ...timeouts };
  }

  request<B extends RequestBody>(body: B, onProgress?: (fraction: number, stage: string) => void): PendingRequest<ResultMap[B['type']]> {
    type K = B['type'];
    const requestId = this.nextId++;
    const type: K = body.type;
    const result = new Promise<ResultMap[K]>((resolve, reject) => {
      const timeout = this.timeouts[type];
      const pending: Pending = {
        type,
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress,
        timer: undefined,
        arm: () => {
          clearTimeout(pending.timer);
          pending.timer = setTimeout(() => {
            this.pending.delete(requestId);
            reject(new RequestError({ code: 'TIMEOUT', message: `No word on "${type}" for ${Math.round(timeout / 1000)} s.`, hint: 'Try "PaintsUndo: Restart Engine".' }));
          }, timeout);
        },
      };
      pending.arm();
      this.pending.set(requestId, pending);
    });
    this.post({ ...body, requestId } as WebviewMessage);
    return { requestId, result };
  }

  /**
   * Feeds a message from the host. Returns the validated message when it is not a reply/progress of a
   * pending request (init, engine state), undefined otherwise. Invalid messages are dropped.
   */
  receive(raw: unknown): HostMessage | undefined {
    const parsed = HostMessageSchema.safeParse(raw);
    if (!parsed.success) return undefined;
    const message = parsed.data;
    if (message.type === 'progress') {
      const pending = this.pending.get(message.requestId);
      pending?.arm();
      pending?.onProgress?.(message.fraction, message.stage);
      return undefined;
    }
    if (message.type !== 'reply') return message;
    const pending = this.pending.get(message.requestId);
    if (!pending) return undefined;
    this.pending.delete(message.requestId);
    clearTimeout(pending.timer);
    if (!message.ok) {
      pending.reject(new RequestError(message.error));
      return undefined;
    }
    const result = RESULT_SCHEMAS[pending.type].safeParse(message.result);
    if (result.success) pending.resolve(result.data);
    else pending.reject(new RequestError({ code: 'BAD_MESSAGE', message: `The reply to "${pending.type}" did not match the expected shape.` }));
    return undefined;
  }

  /** Number of requests still waiting for a reply. */
  get waiting(): number {
    return this.pending.size;
  }
}
