/** Errors of the client: its own codes, and the mapping of JSON-RPC failures to EngineError. */
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { EngineError, ErrorDataSchema } from './protocol.js';

/** Errors raised by the client itself (not sent by the engine). */
export const CLIENT_ERROR_CODES = {
  DISCONNECTED: 'The connection to the engine closed before an answer came; it reconnects by itself if enabled.',
  NOT_CONNECTED: 'The client is not connected; call connect() (or wait for the reconnect).',
  TIMEOUT: 'The engine did not answer in time.',
  BAD_RESPONSE: 'The engine sent a message that does not match the protocol; update the client or the engine.',
} as const;

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
