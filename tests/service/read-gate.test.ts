/**
 * Backpressure on one client's messages (service/read-gate.ts): a client that pipelines large image.put
 * messages faster than uploads are stored has only one or two of them in the engine's hands at a time;
 * the rest wait unread in its socket or pipe. Over a real WebSocket and over the stdio carrier.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { ReadGate } from '../../engine/src/service/read-gate.js';
import { serveStdio } from '../../engine/src/service/stdio.js';
import type { Engine } from '../../engine/src/service/engine.js';
import { removeDir, startEngine } from './helpers.js';

const MB = 1024 * 1024;

test('the gate pauses reading while more than its limit is in hand, and resumes once under it', async () => {
  const calls: string[] = [];
  const gate = new ReadGate(
    () => calls.push('pause'),
    () => calls.push('resume'),
    10,
  );
  const settle: (() => void)[] = [];
  const handling = (): Promise<void> => new Promise<void>((resolve) => settle.push(resolve));
  const first = gate.track(6, handling());
  const second = gate.track(3, handling());
  assert.deepEqual(calls, [], '9 bytes in hand: under the limit');
  const third = gate.track(4, handling());
  assert.deepEqual(calls, ['pause'], '13 bytes: over it');
  const fourth = gate.track(1, handling());
  assert.deepEqual(calls, ['pause'], 'paused once');
  settle[0]!();
  await first;
  assert.equal(gate.bytesInHand, 8);
  assert.deepEqual(calls, ['pause', 'resume']);
  for (const s of settle.slice(1)) s();
  await Promise.all([second, third, fourth]);
  assert.equal(gate.bytesInHand, 0);
  assert.deepEqual(calls, ['pause', 'resume'], 'no resume without a pause');
  // A failed handling counts out too, and its rejection reaches the caller.
  await assert.rejects(gate.track(50, Promise.reject(new Error('bad'))), /bad/);
  assert.equal(gate.bytesInHand, 0);
});

/** A PNG whose base64 message is about 9 MiB (random pixels do not compress). */
async function bigPngBase64(): Promise<string> {
  const side = 1500;
  const png = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return png.toString('base64');
}

/**
 * Slows every upload down (a queue of other clients' uploads, a slow disk) and counts the large
 * messages the engine holds at once.
 */
function watchLargeMessages(engine: Engine): { readonly most: () => number } {
  let inHand = 0;
  let most = 0;
  const handleText = engine.handleText.bind(engine);
  engine.handleText = async (session, text, bytes) => {
    const large = text.length > MB;
    if (large) most = Math.max(most, ++inHand);
    try {
      return await handleText(session, text, bytes);
    } finally {
      if (large) inHand--;
    }
  };
  const putImage = engine.putImage.bind(engine);
  engine.putImage = async (read) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return putImage(read);
  };
  return { most: () => most };
}

test('a WebSocket client pipelining large image.put messages has at most two in the engine at once', async () => {
  const running = await startEngine({ workers: 1 });
  try {
    const watch = watchLargeMessages(running.engine);
    const data = await bigPngBase64();
    const client = running.client();
    await client.connect();
    const results = await Promise.all(Array.from({ length: 6 }, () => client.call('image.put', { data })));
    assert.equal(new Set(results.map((r) => r.image)).size, 1, 'every upload was stored');
    assert.ok(watch.most() <= 2, `at most two large messages in hand at once, not ${watch.most()}`);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

test('a stdio client pipelining large image.put lines has at most two in the engine at once', async () => {
  const running = await startEngine({ workers: 1 });
  try {
    const watch = watchLargeMessages(running.engine);
    const data = await bigPngBase64();
    const input = new PassThrough();
    const output = new PassThrough();
    const lines: string[] = [];
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const parts = text.split('\n');
      text = parts.pop()!;
      lines.push(...parts);
    });
    const served = serveStdio(running.engine, { input, output });
    for (let id = 1; id <= 6; id++) input.write(JSON.stringify({ jsonrpc: '2.0', id, method: 'image.put', params: { data } }) + '\n');
    input.end();
    await served;
    const replies = lines.map((line) => JSON.parse(line) as { id: number; result?: { image: string } });
    assert.deepEqual(replies.map((r) => r.id).sort(), [1, 2, 3, 4, 5, 6], 'every line was answered');
    assert.ok(replies.every((r) => r.result?.image), 'every upload was stored');
    assert.ok(watch.most() <= 2, `at most two large messages in hand at once, not ${watch.most()}`);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});
