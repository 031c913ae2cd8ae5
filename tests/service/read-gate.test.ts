/**
 * Backpressure on what clients send (service/read-gate.ts): a client that pipelines large image.put
 * messages faster than uploads are stored has only one or two of them in the engine's hands at a time;
 * the rest wait unread in its socket or pipe. Over a real WebSocket and over the stdio carrier. Across
 * clients, large WebSocket messages take one slot each (one per worker) from their first megabyte until
 * they are handled, so many clients uploading at once hold no more than that; a message that trickles
 * in its slot is cut off for its pace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { MessageSlots, ReadGate } from '../../engine/src/service/read-gate.js';
import { serveStdio } from '../../engine/src/service/stdio.js';
import type { Engine } from '../../engine/src/service/engine.js';
import { RawSocket, TOKEN, removeDir, startEngine } from './helpers.js';
import { WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from '../../engine/src/client/protocol.js';

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

test('message slots: free ones are taken at once, then the queue is served in order as slots come back', () => {
  const slots = new MessageSlots<string>(2);
  const granted: string[] = [];
  assert.equal(slots.acquire('a', () => granted.push('a')), true);
  assert.equal(slots.acquire('b', () => granted.push('b')), true);
  assert.equal(slots.acquire('c', () => granted.push('c')), false);
  assert.equal(slots.acquire('d', () => granted.push('d')), false);
  assert.equal(slots.acquire('a', () => granted.push('a again')), true, 'a holder asking again keeps its slot');
  // A waiter that leaves gives up its place; a release serves the next in line.
  slots.release('c');
  slots.release('a');
  assert.deepEqual(granted, ['d']);
  assert.equal(slots.held, 2);
  // A message released twice, or never queued, changes nothing.
  slots.release('a');
  slots.release('zzz');
  assert.equal(slots.held, 2);
  // With a queue, a newcomer waits its turn even when a slot has just come free.
  assert.equal(slots.acquire('e', () => granted.push('e')), false);
  slots.release('b');
  assert.deepEqual(granted, ['d', 'e']);
  assert.equal(slots.acquire('f', () => granted.push('f')), false);
  slots.release('d');
  slots.release('e');
  assert.deepEqual(granted, ['d', 'e', 'f']);
  assert.equal(slots.held, 1);
});

test('many WebSocket clients sending a large image.put at once: one per worker in the engine at a time, every one stored', async () => {
  const running = await startEngine({ workers: 1 });
  try {
    const watch = watchLargeMessages(running.engine);
    const data = await bigPngBase64();
    const clients = Array.from({ length: 4 }, () => running.client());
    await Promise.all(clients.map((c) => c.connect()));
    const results = await Promise.all(clients.map((c) => c.call('image.put', { data })));
    assert.equal(new Set(results.map((r) => r.image)).size, 1, 'every upload was stored');
    assert.equal(watch.most(), 1, 'one large message in hand at a time, across the four clients');
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

test('a large WebSocket message that trickles in its slot is cut off for its pace, and the next client gets the slot', async () => {
  // The pace is checked once the upload idle timeout (here shorter than the grace period) has passed.
  const running = await startEngine({ workers: 1, listen: { uploadIdleTimeoutMs: 1500 } });
  try {
    const slow = await RawSocket.open(running.url, {}, [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${TOKEN}`]);
    slow.sendPart(`{"jsonrpc":"2.0","id":1,"method":"image.put","params":{"data":"${'A'.repeat(1_200_000)}`);
    // A byte every 300 ms: never idle, far under the pace.
    const drip = setInterval(() => slow.sendPart('A'), 300);
    try {
      // Its first megabyte has taken the slot before the other client sends.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const client = running.client();
      await client.connect();
      const start = performance.now();
      const stored = await client.call('image.put', { data: await bigPngBase64() });
      assert.match(stored.image, /^[0-9a-f]{64}$/);
      assert.ok(performance.now() - start < 10_000, 'stored once the trickling message was cut off');
      const error = await slow.next((m) => m.id === null && m.error !== undefined);
      assert.match(String((error.error as { message?: unknown }).message), /The message was too slow: \d+ bytes so far in \d+ s; large messages must average at least 64 KiB\/s/);
      for (let waited = 0; !slow.closed && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(slow.closed?.code, 1008);
    } finally {
      clearInterval(drip);
    }
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});
