/**
 * One connected client, whatever carries its messages (a stdio pipe or a WebSocket). Method handlers and
 * the job events see sessions only through this shape, never the transport.
 */
import type { RateLimiter } from './security.js';

export type Transport = 'stdio' | 'websocket';

export interface Session {
  readonly id: string;
  readonly transport: Transport;
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
  /** Called once when the session pairs (hello with the token): the transport lifts its pre-hello limits. */
  onAuthenticated?: () => void;
  /** Set by the engine when the transport must close the connection right after sending the current reply. */
  closeAfterReply?: { readonly code: number; readonly reason: string };
}
