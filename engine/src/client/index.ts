/**
 * Public entry of the engine client for every host (browser, UXP, webview, Node). No Node imports here;
 * Node-only helpers (stdio transport, token file) are in `./node.js`.
 */
export * from './protocol.js';
export { EngineClient, type ConnectionState, type EngineClientOptions, type JobHandle, type ReconnectOptions } from './client.js';
export { CLIENT_ERROR_CODES, toEngineError } from './errors.js';
export { DEFAULT_PREVIEW_SIZE, deviceLongSide, previewFrameSize } from './display.js';
export { toBase64 } from './transfer.js';
export type { Connection, Transport, TransportHandlers } from './transport.js';
export { webSocketTransport, type WebSocketConstructor, type WebSocketLike, type WebSocketTransportOptions } from './websocket.js';
export { LAYERS_COMPOSITE_FILE, LAYERS_MANIFEST_FILE, LAYERS_MANIFEST_FORMAT, LayersManifestSchema, ManifestLayerSchema, parseLayersManifest, type LayersManifest, type ManifestLayer } from './layers-manifest.js';
