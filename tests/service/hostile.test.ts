/**
 * Hostile and careless protocol input on the real listener (WebSocket on 127.0.0.1): connection slots,
 * message sizes before and after hello, batches and the rate limit, deep nesting, notifications.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient } from '../../engine/src/client/index.js';
import { nodeWebSocketTransport } from '../../engine/src/client/node.js';
import { WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from '../../engine/src/client/protocol.js';
import { RawSocket, TOKEN, errorOf, startEngine, removeDir, type Running } from './helpers.js';

const MAX_CONNECTIONS = 4;
const RPS = 10;
let running: Running;

before(async () => {
  running = await startEngine({
    workers: 1,
    limits: { maxConnections: MAX_CONNECTIONS, maxRequestsPerSecond: RPS },
    listen: { authTimeoutMs: 1500 },
  });
});

after(async () => {
  await running.stop();
  await removeDir(running.cacheDir);
});

/** A socket authenticated in the handshake (no hello: no rate-limit token spent on it). */
function authenticated(): Promise<RawSocket> {
  return RawSocket.open(running.url, {}, [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${TOKEN}`]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}
const nested = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

test('tokenless sockets never take the slots of authenticated clients; they are closed at the handshake deadline', async () => {
  const opened = await Promise.allSettled(Array.from({ length: 40 }, () => RawSocket.open(running.url)));
  const squatters = opened.filter((o): o is PromiseFulfilledResult<RawSocket> => o.status === 'fulfilled').map((o) => o.value);
  const clients: EngineClient[] = [];
  try {
    // Every authenticated slot is still free: clients pairing with hello and with the handshake token get in.
    for (let i = 0; i < MAX_CONNECTIONS - 1; i++) {
      const client = new EngineClient({ transport: nodeWebSocketTransport(running.url), token: TOKEN, reconnect: false });
      clients.push(client);
      await client.connect();
    }
    const late = await RawSocket.open(running.url);
    const last = await authenticated();
    assert.equal((await last.call(1, 'cache.stats')).error, undefined);
    // Now they are all taken: the next client is refused at the handshake, and one that was waiting when
    // the last slot went gets TOO_MANY_CONNECTIONS from hello, then the socket closes (1013: try again later).
    await assert.rejects(authenticated(), /HTTP 503/);
    await assert.rejects(RawSocket.open(running.url), /HTTP 503/);
    assert.equal(errorOf(await late.call(1, 'hello', { protocol: 1, token: TOKEN })).data.code, 'TOO_MANY_CONNECTIONS');
    assert.equal((await late.whenClosed()).code, 1013);
    last.close();
    await last.whenClosed();
    // Tokenless sockets are closed: evicted by newer ones or at the deadline, with a code that says why.
    const codes = await Promise.all(squatters.map((s) => s.whenClosed(10_000).then((c) => c.code)));
    assert.ok(codes.every((c) => c === 4401 || c === 4429), codes.join(','));
    assert.ok(codes.includes(4401), 'the handshake deadline closes sockets that never send hello');
  } finally {
    for (const c of clients) c.close();
    for (const s of squatters) s.close();
    await waitFor(() => running.engine.connectionCount === 0);
  }
});

test('before hello only a small message is read: a large one closes the socket (1009) unanswered', async () => {
  const socket = await RawSocket.open(running.url);
  socket.sendText(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { protocol: 1, token: TOKEN, client: 'x'.repeat(100_000) } }));
  const closed = await socket.whenClosed();
  assert.equal(closed.code, 1009);
  assert.deepEqual(socket.drain(), []);
});

test('after hello the size limit of the method is checked on the raw text, before any parsing', async () => {
  const socket = await authenticated();
  try {
    // Invalid JSON past the first megabyte: a parser would say PARSE_ERROR; the length check answers first.
    const text = `{"jsonrpc":"2.0","id":7,"method":"engine.info","params":{"pad":"${'x'.repeat(2 * 1024 * 1024)}`;
    socket.sendText(text);
    const error = errorOf(await socket.next((m) => 'error' in m));
    assert.equal(error.data.code, 'BODY_TOO_LARGE');
    assert.match(error.message, /the limit is 1048576/);
    assert.equal((await socket.call(8, 'cache.stats')).error, undefined, 'the connection stays usable');
  } finally {
    socket.close();
  }
});

test('each request of a batch counts against the rate limit', async () => {
  await sleep(1100); // a full bucket
  const socket = await authenticated();
  try {
    socket.sendText(JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'cache.stats' }))));
    const replies = (await socket.next()) as unknown as { id: number; result?: unknown; error?: { data: { code: string } } }[];
    assert.equal(replies.length, 50);
    assert.deepEqual(replies.map((r) => r.id), Array.from({ length: 50 }, (_, i) => i));
    const served = replies.filter((r) => r.result !== undefined).length;
    const limited = replies.filter((r) => r.error?.data.code === 'RATE_LIMITED').length;
    assert.ok(served >= 1 && served <= RPS + 1, `served ${served} of 50 with ${RPS} requests per second`);
    assert.equal(served + limited, 50);
  } finally {
    socket.close();
  }
});

test('deeply nested params (5,000 levels) get INVALID_OPTION naming the parameter, never INTERNAL', async () => {
  await sleep(1100);
  const socket = await authenticated();
  try {
    const image = '0'.repeat(64);
    const cases: [string, RegExp][] = [
      [`{"jsonrpc":"2.0","id":1,"method":"frame","params":{"image":${nested(5000)},"step":1}}`, /for image but received \[\[\[/],
      [`{"jsonrpc":"2.0","id":2,"method":"image.put","params":{"data":${nested(5000)}}}`, /data/],
      [`{"jsonrpc":"2.0","id":3,"method":"frame","params":{"image":"${image}","step":1,"extra":${nested(5000, '{"a":1}')}}}`, /Unknown parameter "extra" in params/],
      [`{"jsonrpc":"2.0","id":4,"method":"jobs.list","params":{"state":${nested(5000, '"x"')}}}`, /for state but received \[\[\[/],
    ];
    for (const [text, message] of cases) {
      socket.sendText(text);
      const error = errorOf(await socket.next((m) => 'error' in m || 'result' in m));
      assert.equal(error.data.code, 'INVALID_OPTION', `${text.slice(0, 60)} -> ${JSON.stringify(error).slice(0, 300)}`);
      assert.match(error.message, message);
      assert.ok(error.message.length < 2000, 'the message shows a short excerpt of the value');
    }
  } finally {
    socket.close();
  }
});

test('notifications (no id) never get a reply, whatever is wrong with them, before and after hello', async () => {
  await sleep(1100);
  const fresh = await RawSocket.open(running.url);
  const socket = await authenticated();
  try {
    fresh.send({ jsonrpc: '2.0', method: 'engine.info' });
    fresh.send({ jsonrpc: '2.0', method: 'nope' });
    assert.equal((await fresh.call('h', 'hello', { protocol: 1, token: TOKEN })).error, undefined);
    const notifications = [
      { jsonrpc: '2.0', method: 'nope' },
      { jsonrpc: '2.0', method: 'frame', params: { step: 'ten' } },
      { jsonrpc: '2.0', method: 'frame', params: [1, 2] },
      { jsonrpc: '2.0', method: 'jobs.get', params: { job: 'jmissing' } },
      { jsonrpc: '2.0', method: 'engine.info', params: { pad: 'x'.repeat(1_100_000) } },
    ];
    for (const n of notifications) socket.send(n);
    socket.send(notifications.slice(0, 4));
    assert.equal((await socket.call('after', 'cache.stats')).error, undefined);
    assert.equal((await socket.call('after2', 'cache.stats')).error, undefined);
    assert.deepEqual(socket.drain(), [], 'no reply to any notification');
    assert.deepEqual(fresh.drain(), [], 'no reply to notifications before hello');
  } finally {
    fresh.close();
    socket.close();
  }
});
