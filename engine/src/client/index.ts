/**
 * Public entry of the engine client for every host (browser, UXP, webview, Node). No Node imports here;
 * Node-only helpers (stdio transport, token file) are in `./node.js`.
 */
export * from './protocol.js';
export {
  EngineClient,
  CLIENT_ERROR_CODES,
  toEngineError,
  toBase64,
  type ConnectionState,
  type Connection,
  type EngineClientOptions,
  type JobHandle,
  type ReconnectOptions,
  type Transport,
  type TransportHandlers,
} from './client.js';
export { webSocketTransport, type WebSocketConstructor, type WebSocketLike, type WebSocketTransportOptions } from './websocket.js';
