/**
 * What the client needs from a transport: open a connection that carries JSON-RPC text messages. The
 * WebSocket transport (websocket.ts) and the Node-only stdio transport (node.ts) implement it.
 */

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
  /**
   * The platform's global fetch can send a ReadableStream request body over HTTP/1.1 (Node's can;
   * browsers' and UXP's cannot). Uploads then go as a stream of slices of the caller's bytes: given the
   * bytes themselves, Node's fetch copies them whole before it sends anything (~0.3 s for a 4096 px canvas).
   */
  readonly streamsUploads?: boolean;
}
