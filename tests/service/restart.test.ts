/** The persistent cache across restarts and between two engines sharing one cache folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionState } from '../../engine/src/client/index.js';
import { smallSample, startEngine, tempDir, removeDir } from './helpers.js';

test('after a restart the same frame comes from the cache without recomputation, and the image is remembered', async () => {
  const cacheDir = await tempDir('restart');
  try {
    const first = await startEngine({ cacheDir, workers: 1 });
    const c1 = first.client();
    await c1.connect();
    const png = await smallSample(128);
    const put = await c1.putImage(png);
    const image = put.image;
    assert.ok(put.notices.length > 0, 'a 128 px image is worth a word');
    const computed = await c1.run('frame', { image, step: 123 });
    assert.equal(computed.result?.cached, false);
    await first.stop();

    const second = await startEngine({ cacheDir, workers: 1 });
    try {
      const c2 = second.client();
      await c2.connect();
      // No upload: the result is found by its key alone.
      const again = await c2.run('frame', { image, step: 123 });
      assert.equal(again.result?.cached, true);
      assert.equal(again.result?.id, computed.result?.id);
      const stats = (await c2.call('jobs.list')).stats;
      assert.equal(stats.computed, 0);
      assert.equal(stats.fromCache, 1);
      assert.ok((await c2.call('cache.stats')).hits >= 1);
      // A new step needs the image: it is re-read from the cache folder, not re-uploaded.
      const fresh = await c2.run('frame', { image, step: 124 });
      assert.equal(fresh.result?.cached, false);
      assert.equal((await c2.call('jobs.list')).stats.computed, 1);
      // The same bytes again: known from the cache folder, not decoded, and still with what decoding said.
      const reput = await c2.putImage(png);
      assert.equal(reput.reused, true);
      assert.deepEqual(reput.notices, put.notices);
    } finally {
      await second.stop();
    }
  } finally {
    await removeDir(cacheDir);
  }
});

test('two engines on one cache folder: concurrent identical work is safe, and each sees the other\'s results', async () => {
  const cacheDir = await tempDir('shared');
  const [a, b] = await Promise.all([startEngine({ cacheDir, workers: 1 }), startEngine({ cacheDir, workers: 1 })]);
  try {
    const ca = a.client();
    const cb = b.client();
    await Promise.all([ca.connect(), cb.connect()]);
    const png = await smallSample(128);
    const [ia, ib] = await Promise.all([ca.putImage(png), cb.putImage(png)]);
    assert.equal(ia.image, ib.image);
    const [ja, jb] = await Promise.all([ca.run('frame', { image: ia.image, step: 700 }), cb.run('frame', { image: ib.image, step: 700 })]);
    assert.equal(ja.result?.id, jb.result?.id);
    const key = ja.result!.id;
    assert.deepEqual(await readdir(join(a.engine.cache.root, 'entries', key.slice(0, 2))), [key]);
    assert.deepEqual(await readdir(join(a.engine.cache.root, 'staging')), []);
    // Both engines can serve the file.
    const [da, db] = await Promise.all([ca.download(ja.result!.files[0]!), cb.download(jb.result!.files[0]!)]);
    assert.deepEqual(da, db);
    // What A computes, B finds without computing.
    await ca.run('frame', { image: ia.image, step: 701 });
    const fromB = await cb.run('frame', { image: ib.image, step: 701 });
    assert.equal(fromB.result?.cached, true);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await removeDir(cacheDir);
  }
});

test('the client reconnects by itself after an engine restart, with backoff, and reports its states', async () => {
  const cacheDir = await tempDir('reconnect');
  const first = await startEngine({ cacheDir, workers: 1 });
  const port = first.listener.port;
  const { EngineClient } = await import('../../engine/src/client/client.js');
  const { nodeWebSocketTransport } = await import('../../engine/src/client/node.js');
  const { TOKEN } = await import('./helpers.js');
  const client = new EngineClient({ transport: nodeWebSocketTransport(first.url), token: TOKEN, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  const states: ConnectionState[] = [];
  client.onStateChange((s) => states.push(s));
  try {
    await client.connect();
    await first.stop();
    await waitForState(client, 'disconnected');
    // Give the backoff a few failed attempts while nothing listens.
    await new Promise((r) => setTimeout(r, 300));
    const second = await startEngine({ cacheDir, workers: 1, listen: { port } });
    try {
      await waitForState(client, 'connected');
      assert.equal((await client.call('engine.info')).protocol, 1);
      assert.deepEqual(states.slice(0, 3), ['connecting', 'connected', 'disconnected']);
      assert.ok(states.filter((s) => s === 'connecting').length >= 3, `retried: ${states.join(',')}`);
    } finally {
      client.close();
      await second.stop();
    }
  } finally {
    client.close();
    await removeDir(cacheDir);
  }
});

async function waitForState(client: { state: ConnectionState }, state: ConnectionState): Promise<void> {
  for (let i = 0; i < 400 && client.state !== state; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(client.state, state);
}
