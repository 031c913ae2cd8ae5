/**
 * WebSocket transport for EngineClient, for browsers, UXP and Node alike: the WebSocket class is taken
 * from globalThis (browsers, UXP, Node >= 22) or passed in (Node 20: `import { WebSocket } from 'ws'`).
 *
 * The token is sent in the first message (`hello`), not as a header: browsers and UXP cannot set
 * headers on a WebSocket, and a wrong token in the handshake would only show up as an unexplained close.
 */
import type { Connection, Transport, TransportHandlers } from './transport.js';
import { DEFAULT_PORT, WS_SUBPROTOCOL } from './protocol.js';

/** The part of the standard WebSocket API the transport uses (DOM, UXP and `ws` all provide it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: { data?: unknown; reason?: string; code?: number; message?: string }) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** Default `http://127.0.0.1:7439` (the engine's default port). */
  readonly baseUrl?: string;
  readonly WebSocket?: WebSocketConstructor;
  /** Give up opening after this many ms (default 5000). */
  readonly openTimeoutMs?: number;
  /** See Transport's `streamsUploads`. Default false. */
  readonly streamsUploads?: boolean;
}

export function webSocketTransport(options: WebSocketTransportOptions = {}): Transport {
  const httpBase = (options.baseUrl ?? `http://127.0.0.1:${DEFAULT_PORT}`).replace(/\/+$/, '');
  const wsUrl = `${httpBase.replace(/^http/, 'ws')}/ws`;
  return {
    kind: 'websocket',
    httpBase,
    ...(options.streamsUploads ? { streamsUploads: true } : {}),
    open(handlers: TransportHandlers): Promise<Connection> {
      const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!Ctor) {
        return Promise.reject(new Error('No WebSocket implementation: pass one (in Node 20: `import { WebSocket } from "ws"`).'));
      }
      return new Promise<Connection>((resolve, reject) => {
        let opened = false;
        let closed = false;
        const socket = new Ctor(wsUrl, [WS_SUBPROTOCOL]);
        const timer = setTimeout(() => {
          if (!opened) {
            socket.close();
            reject(new Error(`no answer from ${wsUrl} within ${options.openTimeoutMs ?? 5000} ms`));
          }
        }, options.openTimeoutMs ?? 5000);
        socket.addEventListener('open', () => {
          opened = true;
          clearTimeout(timer);
          resolve({
            send: (text) => socket.send(text),
            close: () => socket.close(1000, 'client closed'),
          });
        });
        socket.addEventListener('message', (event) => {
          if (typeof event.data === 'string') handlers.onMessage(event.data);
          else if (event.data instanceof ArrayBuffer) handlers.onMessage(new TextDecoder().decode(event.data));
        });
        socket.addEventListener('error', (event) => {
          if (!opened) {
            clearTimeout(timer);
            reject(new Error(`cannot open ${wsUrl}${event.message ? `: ${event.message}` : ''}`));
          }
        });
        socket.addEventListener('close', (event) => {
          clearTimeout(timer);
          if (!opened) {
            reject(new Error(`${wsUrl} refused the connection (close code ${event.code ?? '?'})`));
            return;
          }
          if (closed) return;
          closed = true;
          handlers.onClose(`close code ${event.code ?? '?'}${event.reason ? ` (${event.reason})` : ''}`);
        });
      });
    },
  };
}
