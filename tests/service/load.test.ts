/** Bounded load: 50 WebSocket clients ask for frames at once on loopback; nothing may be lost. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import sharp from 'sharp';
import type { EngineClient } from '../../engine/src/client/index.js';
import { percentile, smallSample, startEngine, removeDir, TOKEN } from './helpers.js';

const CLIENTS = 50;

test(`${CLIENTS} clients asking for frames at once all get their frame (p50/p95 reported)`, async (t) => {
  const running = await startEngine({ workers: 2 });
  try {
    const uploader = running.client();
    await uploader.connect();
    const image = (await uploader.putImage(await smallSample(128))).image;
    // Plan once so the measurement is about serving, not planning.
    await uploader.run('frame', { image, step: 0 });
    const clients: EngineClient[] = [];
    for (let i = 0; i < CLIENTS; i++) clients.push(running.client());
    await Promise.all(clients.map((c) => c.connect()));

    const round = async (label: string): Promise<number[]> => {
      const latencies = await Promise.all(
        clients.map(async (c, i) => {
          const start = performance.now();
          const job = await c.run('frame', { image, step: 10 + i * 19 });
          const bytes = await c.download(job.result!.files[0]!);
          assert.equal(job.result!.files[0]!.step, 10 + i * 19, 'each client got its own frame');
          assert.equal(bytes.length, job.result!.files[0]!.bytes);
          return performance.now() - start;
        }),
      );
      assert.equal(latencies.length, CLIENTS);
      t.diagnostic(`${label}: p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms over ${CLIENTS} clients`);
      return latencies;
    };
    await round('uncached frames (128 px, 2 workers)');
    await round('cached frames');
    const stats = (await uploader.call('jobs.list')).stats;
    assert.equal(stats.failed, 0);
    assert.equal(stats.cancelled, 0);
    assert.equal(stats.done, 2 * CLIENTS + 1);
    assert.equal(stats.fromCache, CLIENTS);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

test('many uploads at once are admitted one per worker: the rest wait their turn, and all are stored', async () => {
  const running = await startEngine({ workers: 2 });
  try {
    const pool = running.engine.pool;
    const decode = pool.decode.bind(pool);
    let inFlight = 0;
    let most = 0;
    pool.decode = async (...args) => {
      most = Math.max(most, ++inFlight);
      try {
        return await decode(...args);
      } finally {
        inFlight--;
      }
    };
    const clients = Array.from({ length: 8 }, () => running.client());
    await Promise.all(clients.map((c) => c.connect()));
    const base = await smallSample(384);
    const uploads = await Promise.all(clients.map(async (c, i) => c.putImage(await sharp(base).modulate({ hue: 20 * (i + 1) }).png().toBuffer())));
    assert.equal(new Set(uploads.map((u) => u.image)).size, 8, 'eight distinct images stored');
    assert.ok(uploads.every((u) => !u.reused));
    assert.ok(most >= 1 && most <= 2, `decodes at once: ${most}`);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

test('a stalled upload is cut off after the idle timeout and never keeps the other uploads waiting', async () => {
  const running = await startEngine({ workers: 2, listen: { uploadIdleTimeoutMs: 400 } });
  try {
    const { port } = new URL(running.url);
    // Two senders take both upload turns, send a few bytes of a big body, then go silent.
    const stalled = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ closedAfter: Promise<number> }>((resolve, reject) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              const opened = performance.now();
              socket.write(`POST /images HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n\x89PNG`);
              resolve({ closedAfter: new Promise((done) => socket.on('close', () => done(performance.now() - opened))) });
            });
            socket.on('error', () => undefined);
            socket.on('timeout', reject);
          }),
      ),
    );
    const client = running.client();
    await client.connect();
    const start = performance.now();
    const stored = await client.putImage(await smallSample(128));
    assert.match(stored.image, /^[0-9a-f]{64}$/);
    assert.ok(performance.now() - start < 10_000, 'the upload was admitted once the stalled ones were cut off');
    for (const s of stalled) assert.ok((await s.closedAfter) < 10_000, 'the engine closed the stalled upload');
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

test('an upload that trickles (a byte now and then, so never idle) is cut off for its pace and never keeps the other uploads waiting', async () => {
  // The pace is checked once the idle timeout (here shorter than the grace period) has passed.
  const running = await startEngine({ workers: 2, listen: { uploadIdleTimeoutMs: 1500 } });
  try {
    const { port } = new URL(running.url);
    const answers = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ answer: Promise<string> }>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write(`POST /images HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n\x89PNG`);
              // One byte every 300 ms: the idle timer never fires.
              const drip = setInterval(() => socket.write('x'), 300);
              let text = '';
              socket.on('data', (chunk) => (text += String(chunk)));
              resolve({
                answer: new Promise((done) =>
                  socket.on('close', () => {
                    clearInterval(drip);
                    done(text);
                  }),
                ),
              });
            });
            socket.on('error', () => undefined);
          }),
      ),
    );
    const client = running.client();
    await client.connect();
    const start = performance.now();
    const stored = await client.putImage(await smallSample(128));
    assert.match(stored.image, /^[0-9a-f]{64}$/);
    assert.ok(performance.now() - start < 10_000, 'the upload was admitted once the trickling ones were cut off');
    for (const a of answers) assert.match(await a.answer, /The upload was too slow: \d+ bytes in \d+ s; uploads must average at least 64 KiB\/s/);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});
