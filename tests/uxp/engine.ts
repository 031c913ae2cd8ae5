/**
 * A real engine on 127.0.0.1 for the panel tests, started in-process the way the service tests do
 * (Engine.start + listen), with a fixed port across restarts so the panel's reconnect can be tested.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Limits } from '../../engine/src/client/protocol.js';
import { Engine } from '../../engine/src/service/engine.js';
import { listen, type Listener } from '../../engine/src/service/http.js';

export const TOKEN = '7a'.repeat(32);
export const WRONG_TOKEN = '00'.repeat(32);

export class TestEngine {
  engine: Engine | undefined;
  listener: Listener | undefined;
  port = 0;
  private cacheDir = '';
  private readonly allowOrigins: string[];
  private readonly limits: Partial<Limits>;

  constructor(allowOrigins: string[] = [], limits: Partial<Limits> = {}) {
    this.allowOrigins = allowOrigins;
    this.limits = limits;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.cacheDir) this.cacheDir = await mkdtemp(join(tmpdir(), 'pu-uxp-cache-'));
    this.engine = await Engine.start({ cacheDir: this.cacheDir, token: TOKEN, workers: 1, limits: this.limits });
    this.listener = await listen(this.engine, { port: this.port, host: '127.0.0.1', allowOrigins: this.allowOrigins });
    this.port = this.listener.port;
  }

  /** Stops listening and shuts the engine down (the panel sees the connection drop). */
  async stop(): Promise<void> {
    await this.listener?.close();
    await this.engine?.shutdown();
    this.listener = undefined;
    this.engine = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.cacheDir) await rm(this.cacheDir, { recursive: true, force: true });
  }
}

/** Polls `check` until it is true; rejects with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
