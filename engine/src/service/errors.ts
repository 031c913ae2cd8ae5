/**
 * Service errors and their mapping to JSON-RPC error objects. Core errors (PaintsUndoError) keep their
 * code; service-only conditions (unauthorized, rate limited, unknown job...) use ServiceError. Anything
 * else becomes INTERNAL with a generic message (the stack goes to the log, never to the client).
 */
import { isPaintsUndoError } from '../core/errors.js';
import {
  SERVICE_ERROR_CODES,
  rpcCodeOf,
  type ErrorData,
  type ProtocolErrorCode,
  type ServiceErrorCode,
} from '../client/protocol.js';

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ServiceErrorCode, message: string, options: { hint?: string; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data: ErrorData;
}

/** HTTP status for an error code (HTTP routes answer with the same error object). */
export function httpStatusOf(code: ProtocolErrorCode): number {
  switch (code) {
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'INPUT_NOT_FOUND':
      return 404;
    case 'BODY_TOO_LARGE':
    case 'INPUT_TOO_LARGE':
      return 413;
    case 'RATE_LIMITED':
    case 'TOO_MANY_JOBS':
      return 429;
    case 'SHUTTING_DOWN':
    case 'TOO_MANY_CONNECTIONS':
      return 503;
    case 'INTERNAL':
    case 'ENCODER_FAILED':
    case 'FFMPEG_MISSING':
    case 'MODEL_MISSING':
    case 'OUTPUT_NOT_WRITABLE':
      return 500;
    default:
      return 400;
  }
}

/** What to do, for errors raised without a hint of their own (every error a client meets has one). */
const FALLBACK_HINTS: Partial<Record<string, string>> = {
  INVALID_OPTION: "Correct the parameters the message names; engine/PROTOCOL.md lists each method's parameters and their allowed values.",
  INVALID_REQUEST: 'Send one JSON-RPC 2.0 request per message, as engine/PROTOCOL.md describes.',
  UNKNOWN_BACKEND: 'engine.info lists the backends this engine has.',
  CANCELLED: 'Run the job again if you still need it.',
};

export function toRpcError(error: unknown, log?: (message: string) => void): RpcErrorObject {
  if (error instanceof ServiceError || isPaintsUndoError(error)) {
    const data: ErrorData = { code: error.code };
    const hint = error.hint ?? FALLBACK_HINTS[error.code];
    if (hint) data.hint = hint;
    if (error.details) data.details = { ...error.details };
    return { code: rpcCodeOf(error.code), message: error.message, data };
  }
  log?.(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return {
    code: rpcCodeOf('INTERNAL'),
    message: 'An unexpected internal error happened in the engine; the request was not completed.',
    data: { code: 'INTERNAL', hint: 'Retry; if it happens again, report it with the engine log (stderr).' },
  };
}

export function serviceError(code: ServiceErrorCode, message: string, hint?: string): ServiceError {
  return new ServiceError(code, message, { hint: hint ?? SERVICE_ERROR_CODES[code].summary });
}
