/** Shared set-up for the service tests: a real engine on an ephemeral port, real clients, a small image. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { Engine, type EngineOptions } from '../../engine/src/service/engine.js';
import { listen, type ListenOptions, type Listener } from '../../engine/src/service/http.js';
import { EngineClient } from '../../engine/src/client/client.js';
import { nodeWebSocketTransport, packageBin } from '../../engine/src/client/node.js';
import { WS_SUBPROTOCOL } from '../../engine/src/client/protocol.js';
import { samplePath } from '../shared-samples.js';

export const TOKEN = '5e'.repeat(32);
export const SAMPLE = samplePath('1.jpg');

/** The sample illustration at 384 px on the long side: plans in well under a second. */
export async function smallSample(long = 384, path = SAMPLE): Promise<Buffer> {
  return sharp(path).resize(long, long, { fit: 'inside' }).png().toBuffer();
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `pu-${prefix}-`));
}

export interface Running {
  readonly engine: Engine;
  readonly listener: Listener;
  readonly url: string;
  readonly cacheDir: string;
  client(options?: { token?: string; reconnect?: boolean }): EngineClient;
  stop(): Promise<void>;
}

export async function startEngine(
  options: Partial<EngineOptions> & { listen?: Partial<ListenOptions>; cacheDir?: string } = {},
): Promise<Running> {
  const cacheDir = options.cacheDir ?? (await tempDir('cache'));
  const engine = await Engine.start({ workers: 2, token: TOKEN, ...options, cacheDir });
  const listener = await listen(engine, { port: 0, host: '127.0.0.1', ...options.listen });
  const clients: EngineClient[] = [];
  let stopped = false;
  return {
    engine,
    listener,
    url: listener.url,
    cacheDir,
    client(o = {}) {
      const c = new EngineClient({ transport: nodeWebSocketTransport(listener.url), token: o.token ?? TOKEN, reconnect: o.reconnect ?? false });
      clients.push(c);
      return c;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of clients) c.close();
      await listener.close();
      await engine.shutdown();
    },
  };
}

/** A private folder for engine processes started from the built CLI: cache and config in it, a sample image. */
export async function processHome(prefix: string): Promise<{ dir: string; env: NodeJS.ProcessEnv; samplePath: string }> {
  if (!existsSync(join(packageBin(), '..', '..', 'dist', 'engine', 'src', 'cli', 'main.js'))) throw new Error('run `npm run build` first (npm test does)');
  const dir = await tempDir(prefix);
  const env = { ...process.env, PAINTS_UNDO_CACHE_DIR: join(dir, 'cache'), PAINTS_UNDO_CONFIG_DIR: join(dir, 'config') };
  const samplePath = join(dir, 'sample.png');
  await writeFile(samplePath, await smallSample(128));
  return { dir, env, samplePath };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A raw WebSocket speaking JSON-RPC by hand, for malformed-message tests. */
export class RawSocket {
  private readonly ws: WebSocket;
  private readonly inbox: unknown[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
    // A socket the engine drops mid-send (a refused oversized message) reports EPIPE/ECONNRESET: expected.
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string, headers: Record<string, string> = {}, protocols: string[] = [WS_SUBPROTOCOL]): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, protocols, { headers });
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Part of a text message sent as its own WebSocket frame; the message ends with the part sent with `last`. */
  sendPart(text: string, last = false): void {
    this.ws.send(text, { fin: last });
  }

  /** Next message matching `predicate` (others stay queued). */
  async next(predicate: (m: Record<string, unknown>) => boolean = () => true, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => predicate(m as Record<string, unknown>));
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Record<string, unknown>;
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a request and waits for the response with that id. */
  async call(id: number | string, method: string, params?: unknown): Promise<Record<string, unknown>> {
    this.send({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) });
    return this.next((m) => m.id === id && ('result' in m || 'error' in m));
  }

  /** Messages received and not taken by next() yet (taken now). */
  drain(): unknown[] {
    return this.inbox.splice(0);
  }

  /** Resolves with the close code and reason once the engine or the client closed the socket. */
  async whenClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the socket to close');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}

export function errorOf(response: Record<string, unknown>): { code: number; message: string; data: { code: string; hint?: string } } {
  const error = response.error as { code: number; message: string; data: { code: string; hint?: string } } | undefined;
  if (!error) throw new Error(`expected an error, got ${JSON.stringify(response).slice(0, 300)}`);
  return error;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
