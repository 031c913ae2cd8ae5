/**
 * Pairing and the engine connection: the token in Photoshop's secure storage, the connection state the
 * panel shows with its fix, and the backends the engine offers.
 */
import type { EngineInfo } from '../../../engine/src/client/index.js';
import { describeConnection, type PanelConnectionState } from '../model/connection.js';
import type { PanelContext } from './context.js';

export const TOKEN_KEY = 'paints-undo.engine-token';

export interface ConnectionEvents {
  /** The engine answered (first connection or a reconnect): frames can be asked for. */
  readonly onReady?: () => void;
  /** The connection dropped: image ids may not survive on another engine. */
  readonly onLost?: () => void;
}

export class ConnectionPart {
  constructor(
    private readonly ctx: PanelContext,
    private readonly events: ConnectionEvents = {},
  ) {
    ctx.client.onStateChange((s) => this.onConnection(s));
  }

  /** Reads the stored token and connects; without a token the panel asks for pairing. */
  async start(): Promise<void> {
    await this.readToken();
    await this.connectIfPaired();
  }

  async readToken(): Promise<void> {
    this.ctx.token = await this.ctx.host.readSecret(TOKEN_KEY);
  }

  async connectIfPaired(): Promise<void> {
    if (!this.ctx.token) {
      this.setConnection('unpaired');
      return;
    }
    await this.connect();
  }

  /** Stores the token the user pasted (once) and connects with it. */
  async pair(token: string): Promise<void> {
    const t = token.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(t)) {
      this.ctx.store.update({ message: { tone: 'error', text: 'That is not a pairing token: it is 64 hexadecimal characters, printed by `paints-undo serve`.' } });
      return;
    }
    this.ctx.token = t;
    // Paired for this session even when Photoshop cannot keep the token: the user is told it will be asked again.
    let stored = true;
    try {
      await this.ctx.host.writeSecret(TOKEN_KEY, t);
    } catch {
      stored = false;
    }
    this.ctx.store.update({
      message: stored ? undefined : { tone: 'info', text: 'Paired for this session: Photoshop could not store the token in its secure storage, so the panel will ask for it again next time.' },
    });
    this.ctx.client.close();
    await this.connect();
  }

  async forgetToken(): Promise<void> {
    this.ctx.token = undefined;
    await this.ctx.host.removeSecret(TOKEN_KEY);
    this.ctx.client.close();
    this.setConnection('unpaired');
  }

  async connect(): Promise<void> {
    try {
      this.onInfo(await this.ctx.client.connect());
    } catch {
      // The state (and its fix) is already shown; the client keeps retrying when that makes sense.
    }
  }

  private onConnection(state: PanelConnectionState): void {
    this.setConnection(state);
    if (state === 'connected' && this.ctx.client.info) this.onInfo(this.ctx.client.info);
    if (state !== 'connected') this.events.onLost?.();
  }

  private onInfo(info: EngineInfo): void {
    const { store } = this.ctx;
    const backends = info.backends
      .filter((b) => b.capabilities.frame)
      .map((b) => ({ id: b.id, name: b.displayName, layers: b.capabilities.layers, timelapse: b.capabilities.timelapse }));
    const backend = backends.some((b) => b.id === store.state.backend) ? store.state.backend : (backends[0]?.id ?? 'classic');
    store.update({ engineVersion: info.version, backends: backends.length > 0 ? backends : store.state.backends, backend });
    this.events.onReady?.();
  }

  private setConnection(state: PanelConnectionState): void {
    const detail = state === 'disconnected' || state === 'version-mismatch' ? this.ctx.client.lastError?.message : undefined;
    this.ctx.store.update({ connection: state, connectionView: describeConnection(state, this.ctx.port, detail) });
  }
}
