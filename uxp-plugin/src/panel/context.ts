/**
 * What every part of the panel shares: the state store, Photoshop (only through PhotoshopHost) and the
 * engine (only through the typed EngineClient). A part is built from a context and the other parts it
 * needs, so each can be exercised alone against a real engine (tests/uxp/panel-parts.test.ts).
 */
import { DEFAULT_PORT, EngineClient, webSocketTransport, type WebSocketConstructor } from '../../../engine/src/client/index.js';
import type { PhotoshopHost } from '../host/types.js';
import { PanelStore, initialState } from './state.js';

export const PANEL_VERSION = '0.1.0';

export interface ContextOptions {
  readonly host: PhotoshopHost;
  /** Default http://127.0.0.1:7439: it must match the manifest's network.domains. */
  readonly baseUrl?: string;
  readonly WebSocket?: WebSocketConstructor;
  readonly fetch?: typeof fetch;
}

export class PanelContext {
  readonly store: PanelStore;
  readonly host: PhotoshopHost;
  readonly client: EngineClient;
  /** The engine's port, for the connection messages ("start it with paints-undo serve --port ..."). */
  readonly port: number;
  /** The pairing token the client sends; the connection part sets it. */
  token: string | undefined;

  constructor(options: ContextOptions) {
    this.host = options.host;
    const baseUrl = options.baseUrl ?? `http://127.0.0.1:${DEFAULT_PORT}`;
    this.port = Number(new URL(baseUrl).port) || DEFAULT_PORT;
    this.store = new PanelStore(initialState(this.port));
    this.client = new EngineClient({
      transport: webSocketTransport({ baseUrl, ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}) }),
      token: () => this.token,
      clientName: `photoshop-panel/${PANEL_VERSION}`,
      reconnect: { initialDelayMs: 300, maxDelayMs: 3000 },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  get state(): PanelStore['state'] {
    return this.store.state;
  }
}
