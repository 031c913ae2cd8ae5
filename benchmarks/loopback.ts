/**
 * What the service benchmarks measure against: a real engine (2 workers, a scratch cache folder) listening
 * on 127.0.0.1, with WebSocket clients connected as the panel connects, all stopped and removed afterwards.
 * The engine warms its workers up as `serve` does, and clients come once that is over (as they do to an
 * engine started with the app that uses it), unless `fresh`: then at once, as to an engine just started.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { EngineClient } from '../engine/src/client/client.js';
import { nodeWebSocketTransport } from '../engine/src/client/node.js';
import { Engine } from '../engine/src/service/engine.js';
import { listen } from '../engine/src/service/http.js';
import { benchmarkSource } from './sample.js';

const TOKEN = 'b'.repeat(64);

/** Runs `work` with `count` connected clients of a fresh loopback engine (`name` labels its cache folder). */
export async function withLoopbackEngine<T>(
  name: string,
  count: number,
  work: (clients: readonly EngineClient[]) => Promise<T>,
  options: { readonly fresh?: boolean } = {},
): Promise<T> {
  const cacheDir = await mkdtemp(join(tmpdir(), `pu-bench-${name}-`));
  const engine = await Engine.start({ cacheDir, token: TOKEN, workers: 2, warmUp: true });
  if (!options.fresh) await engine.pool.warmedUp;
  const listener = await listen(engine, { port: 0, host: '127.0.0.1' });
  const clients = Array.from({ length: count }, () => new EngineClient({ transport: nodeWebSocketTransport(listener.url), token: TOKEN, reconnect: false }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    return await work(clients);
  } finally {
    for (const c of clients) c.close();
    await listener.close();
    await engine.shutdown();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** `withLoopbackEngine` with one client, as the panel has. */
export function withLoopbackClient<T>(name: string, work: (client: EngineClient) => Promise<T>, options: { readonly fresh?: boolean } = {}): Promise<T> {
  return withLoopbackEngine(name, 1, (clients) => work(clients[0]!), options);
}

/** The benchmark artwork at this size as a PNG, the bytes a client uploads. */
export async function benchmarkPng(width: number, height: number): Promise<Buffer> {
  const source = await benchmarkSource(width, height);
  return sharp(source.image.data, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}
