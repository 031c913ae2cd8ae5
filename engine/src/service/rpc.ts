/**
 * JSON-RPC 2.0 framing for every transport: size and rate limits, parsing, batches, request validation,
 * the authentication gate, then dispatch through the method table (methods/). Transports hand in text
 * and send back what this returns; nothing here knows about pipes or sockets.
 */
import type { z } from 'zod';
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { parseOrThrow } from '../core/job.js';
import { METHOD_NAMES, type Limits, type MethodName } from '../client/protocol.js';
import { ServiceError, serviceError, toRpcError, type RpcErrorObject } from './errors.js';
import { METHOD_TABLE, type EngineServices, type MethodEntry, type MethodParamsSchema } from './methods/index.js';
import type { Session } from './session.js';

/**
 * Largest message before authentication: a hello (token, client name, envelope) fits with room to spare.
 * Anything longer from a client without the token is refused unread (WebSocket: at the frame header).
 */
export const MAX_UNAUTHENTICATED_MESSAGE_BYTES = 4096;

/** Largest message for one method: its own limit, else the general per-message limit. */
export function maxMessageBytesFor(method: MethodName, limits: Limits): number {
  return METHOD_TABLE[method].maxMessageBytes?.(limits) ?? limits.maxMessageBytes;
}

/** The largest message any method accepts: longer ones are refused before anything else. */
export function maxMessageBytes(limits: Limits): number {
  return Math.max(...METHOD_NAMES.map((m) => maxMessageBytesFor(m, limits)));
}

/** How far into a message its "method" and "id" are looked for before parsing. */
const HEAD_CHARS = 4096;
const RATE_HINT = 'Slow down (e.g. send slider requests at most once per animation frame) and retry; each request of a batch counts.';

export class RpcDispatcher {
  // The library would print every method error to the console; errors are answered, and logged when internal.
  private readonly rpc = new JSONRPCServer<Session>({ errorListener: () => undefined });

  constructor(
    private readonly engine: EngineServices,
    private readonly log: (message: string) => void,
  ) {
    this.rpc.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
      if (error instanceof JSONRPCErrorException) return { jsonrpc: '2.0', id, error: error.toObject() };
      return { jsonrpc: '2.0', id, error: toRpcError(error, this.log) };
    };
    for (const name of METHOD_NAMES) this.register(name);
  }

  private register<M extends MethodName>(name: M): void {
    const entry: MethodEntry<M> = METHOD_TABLE[name];
    // Params are validated here, once, with the protocol's schema: INVALID_OPTION names every bad parameter.
    // (zod cannot relate a generic method's schema to its output type; the cast restates what parse returns.)
    const parse = (params: unknown) => parseOrThrow(entry.params as z.ZodType, params, 'params') as z.output<MethodParamsSchema<M>>;
    this.rpc.addMethod(name, async (params: unknown, session: Session) => entry.handle(parse(params), { engine: this.engine, session }));
  }

  /**
   * Handles one incoming message (a line of stdio or a WebSocket text message) and returns the response
   * text, or undefined when nothing must be answered (notifications, JSON-RPC 2.0 section 4.1, also when
   * they are wrong). `bytes` is the message's length as received (default: its UTF-8 length). Size limits
   * are checked on the raw text, before parsing; every request of a batch counts against the rate limit.
   * Never throws: every problem becomes a JSON-RPC error.
   */
  async handleText(session: Session, text: string, bytes: number = Buffer.byteLength(text)): Promise<string | undefined> {
    const limits = this.engine.limits;
    const refuseUnread = (error: RpcErrorObject): string | undefined => {
      const id = peekId(text);
      return id === undefined ? undefined : errorResponse(id, error);
    };
    if (!session.authenticated && bytes > MAX_UNAUTHENTICATED_MESSAGE_BYTES) {
      return refuseUnread(toRpcError(serviceError('BODY_TOO_LARGE', `The message is ${bytes} bytes; before hello the limit is ${MAX_UNAUTHENTICATED_MESSAGE_BYTES}.`, 'Send hello with the token first.')));
    }
    if (bytes > limits.maxMessageBytes) {
      // Only a method with a larger limit (image.put) may be longer; it must say so before its params.
      const method = peekMethod(text);
      const limit = method === undefined ? limits.maxMessageBytes : maxMessageBytesFor(method, limits);
      if (bytes > limit) {
        const largest = maxMessageBytes(limits);
        return refuseUnread(
          toRpcError(
            serviceError(
              'BODY_TOO_LARGE',
              `The ${method ?? 'message'} message is ${bytes} bytes; the limit is ${limit}${limit < largest ? ` (${largest} for image.put, whose "method" must come before its "params")` : ''}.`,
              'Upload large images with HTTP POST /images.',
            ),
          ),
        );
      }
    }
    if (session.limiter && !session.limiter.take()) return refuseUnread(this.rateLimited());
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
      for (const [i, item] of message.entries()) {
        // The whole message took one token above; each further request takes its own.
        const allowed = i === 0 || !session.limiter || session.limiter.take();
        const r = allowed ? await this.handleMessage(session, item, bytes) : this.refuseItem(item);
        if (r) responses.push(r);
      }
      return responses.length > 0 ? `[${responses.join(',')}]` : undefined;
    }
    return this.handleMessage(session, message, bytes);
  }

  private rateLimited(): RpcErrorObject {
    return toRpcError(new ServiceError('RATE_LIMITED', `More than ${this.engine.limits.maxRequestsPerSecond} requests per second on this connection.`, { hint: RATE_HINT }));
  }

  /** The RATE_LIMITED answer to one request of a batch (none for a notification). */
  private refuseItem(item: unknown): string | undefined {
    const id = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>).id : null;
    if (id === undefined) return undefined;
    return errorResponse(typeof id === 'string' || typeof id === 'number' ? id : null, this.rateLimited());
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
      // Not a request object, so not a notification either: answered with what id it has (or null).
      const what = m.jsonrpc !== '2.0' ? 'a message without "jsonrpc": "2.0"' : typeof m.method !== 'string' ? 'a message without a string "method"' : 'a message whose "id" is not a string, number or null';
      return errorResponse(replyId, invalidRequest(what));
    }
    // A notification: whatever goes wrong from here on, nothing is sent back.
    const reply = (error: RpcErrorObject): string | undefined => (id === undefined ? undefined : errorResponse(replyId, error));
    if (m.params !== undefined && (m.params === null || typeof m.params !== 'object' || Array.isArray(m.params))) {
      return reply(toRpcError(new ServiceError('INVALID_REQUEST', `Params of ${m.method} must be an object with named parameters.`, { hint: 'Send "params": {"name": value, ...}.' })));
    }
    const method = m.method;
    if (!isMethodName(method)) {
      return reply({
        code: -32601,
        message: `Unknown method ${JSON.stringify(method.slice(0, 60))}. Should be one of: ${METHOD_NAMES.join(', ')}.`,
        data: { code: 'METHOD_NOT_FOUND', hint: 'Check the method name against PROTOCOL.md.' },
      });
    }
    const limit = maxMessageBytesFor(method, this.engine.limits);
    if (size > limit) {
      return reply(toRpcError(serviceError('BODY_TOO_LARGE', `The ${method} message is ${size} bytes; the limit is ${limit}.`)));
    }
    if (!session.authenticated && method !== 'hello') {
      return reply(toRpcError(new ServiceError('UNAUTHORIZED', `Call hello with the engine's token before ${method}.`, { hint: 'Send {"method":"hello","params":{"protocol":1,"token":"<token>"}} first; the engine printed the token file path when it started.' })));
    }
    const request: JSONRPCRequest = { jsonrpc: '2.0', method, params: m.params ?? {}, ...(id !== undefined ? { id: id as string | number | null } : {}) };
    let response: JSONRPCResponse | null;
    try {
      // The library answers nothing for notifications, also when the handler fails.
      response = await this.rpc.receive(request, session);
    } catch (error) {
      response = id === undefined ? null : { jsonrpc: '2.0', id: replyId, error: toRpcError(error, this.log) };
    }
    return response ? JSON.stringify(response) : undefined;
  }
}

function isMethodName(name: string): name is MethodName {
  return (METHOD_NAMES as string[]).includes(name);
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

/**
 * The id of a message refused before parsing, read cheaply from its head: undefined when the text has no
 * "id" member at all (a notification: no answer), null when it cannot be told (a batch, an id further in).
 */
function peekId(text: string): string | number | null | undefined {
  if (!text.includes('"id"')) return undefined;
  if (/^\s*\[/.test(text)) return null;
  const m = /"id"\s*:\s*("(?:[^"\\]|\\.){0,100}"|-?\d{1,16})/.exec(text.slice(0, HEAD_CHARS));
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as string | number;
  } catch {
    return null;
  }
}

/** The method a single message names in its head, when it is a known one. */
function peekMethod(text: string): MethodName | undefined {
  if (!/^\s*\{/.test(text)) return undefined;
  const name = /"method"\s*:\s*"([A-Za-z.]{1,40})"/.exec(text.slice(0, HEAD_CHARS))?.[1];
  return name !== undefined && isMethodName(name) ? name : undefined;
}
