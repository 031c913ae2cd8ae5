/**
 * Careless and hostile clients on the real listener (127.0.0.1), from an audit of the engine: request
 * targets that are not URLs, downloads abandoned before they start, binary frames, a client that sends
 * without reading its replies, requests pipelined past the per-connection job limit, a slider's requests
 * pipelined, and a connection that closes while its requests are being submitted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';
import WebSocket from 'ws';
import { WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from '../../engine/src/client/protocol.js';
import { RawSocket, TOKEN, errorOf, removeDir, smallSample, startEngine, type Running } from './helpers.js';

const RPS = 20;
const MAX_JOBS = 4;
let running: Running;
let image: string;

before(async () => {
  running = await startEngine({ workers: 1, limits: { maxRequestsPerSecond: RPS, maxQueuedJobsPerClient: MAX_JOBS } });
  const client = running.client();
  await client.connect();
  image = (await client.putImage(await smallSample(256))).image;
});

after(async () => {
  await running.stop();
  await removeDir(running.cacheDir);
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `request` on a raw TCP connection and resolves with everything the engine answered once it closed the connection. */
function rawHttp(request: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(running.listener.port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (chunk) => (text += String(chunk)));
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and still open after ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, timeoutMs).unref();
  });
}

function authenticated(): Promise<RawSocket> {
  return RawSocket.open(running.url, {}, [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${TOKEN}`]);
}

test('a request target that is not a URL gets 400 with a hint and a closed connection, for HTTP and WebSocket upgrades, with or without the token', async () => {
  const host = `Host: 127.0.0.1:${running.listener.port}`;
  for (const target of ['//[', 'http://[', '//x:99999/', '//a:b@[::1']) {
    for (const auth of ['', `Authorization: Bearer ${TOKEN}\r\n`]) {
      const answer = await rawHttp(`GET ${target} HTTP/1.1\r\n${host}\r\n${auth}\r\n`);
      assert.match(answer, /^HTTP\/1\.1 400 /, `${target}`);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { data: { code: string; hint?: string } } };
      assert.equal(body.error.data.code, 'INVALID_REQUEST');
      assert.ok(body.error.data.hint);
    }
  }
  const upgrade = await rawHttp(`GET //[ HTTP/1.1\r\n${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  assert.match(upgrade, /^HTTP\/1\.1 400 Bad Request[\s\S]*"INVALID_REQUEST"[\s\S]*"hint"/);
  // The engine still serves.
  assert.equal((await (await authenticated()).call(1, 'cache.stats')).error, undefined);
});

test('downloads abandoned before the engine answers leave no file open', async (t) => {
  if (process.platform !== 'linux') return t.skip('counts open files in /proc/self/fd');
  const socket = await authenticated();
  const submitted = await socket.call(1, 'frame', { image, step: 300 });
  const job = submitted.result as { id: string };
  const done = await socket.next((m) => m.method === 'job.done' && (m.params as { job: { id: string } }).job.id === job.id, 60_000);
  const file = (done.params as { job: { result: { files: { url: string; path?: string }[] } } }).job.result.files[0]!;
  const url = new URL(file.url);
  const entry = url.pathname.split('/')[2]!;
  const openOnResult = (): number =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).includes(entry);
      } catch {
        return false;
      }
    }).length;
  const before = openOnResult();
  await Promise.all(
    Array.from(
      { length: 30 },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(running.listener.port, '127.0.0.1', () =>
            s.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1:${running.listener.port}\r\n\r\n`, () => s.destroy()),
          );
          s.on('error', () => undefined);
          s.on('close', () => resolve());
        }),
    ),
  );
  await sleep(500);
  assert.ok(openOnResult() <= before, `files left open on the result: ${openOnResult()} (before: ${before})`);
  const whole = await fetch(url);
  assert.equal(whole.status, 200);
  const size = (await whole.arrayBuffer()).byteLength;
  assert.ok(size > 0);
  // A range unit the engine does not know, or several ranges, are ignored: the whole file (RFC 9110 14.2).
  for (const range of ['items=0-1', 'bytes=0-1,5-6']) {
    const response = await fetch(url, { headers: { range } });
    assert.equal(response.status, 200, range);
    assert.equal((await response.arrayBuffer()).byteLength, size, range);
  }
  socket.close();
});

test('parameter errors name what is wrong inside a union, and every error carries a hint', async () => {
  const socket = await authenticated();
  const channels = errorOf(await socket.call(1, 'image.put', { data: 'AAAA', pixels: { width: 1, height: 1, channels: 1 } }));
  assert.match(channels.message, /Expected one of 3, 4 for pixels\.channels but received 1 \(number\)/);
  for (const [method, params] of [['image.put', { data: 'AAAA', pixels: { width: 1, height: 1, channels: 1 } }], ['jobs.get', { job: 'nope' }]] as const) {
    const error = errorOf(await socket.call(2, method, params));
    assert.ok(error.data.hint, `${method}: a hint (${error.message})`);
  }
  // 1e309 is valid JSON that parses to Infinity: named as such, not as null.
  socket.sendText(`{"jsonrpc":"2.0","id":3,"method":"frame","params":{"image":"${image}","step":1e309}}`);
  const infinite = errorOf(await socket.next((m) => m.id === 3));
  assert.match(infinite.message, /Expected a finite number for step but received Infinity \(number\)/);
  assert.ok(infinite.data.hint);
  socket.close();
});

test('binary frames: closed before hello; after it, answered within the rate limit only', async () => {
  const tokenless = await RawSocket.open(running.url);
  (tokenless as unknown as { ws: WebSocket }).ws.send(Buffer.from([1, 2, 3]));
  assert.equal((await tokenless.whenClosed()).code, 1003);

  const socket = await authenticated();
  await sleep(1100);
  const ws = (socket as unknown as { ws: WebSocket }).ws;
  for (let i = 0; i < 300; i++) ws.send(Buffer.from([i & 255]));
  await sleep(300);
  const replies = socket.drain() as { error?: { data: { code: string } } }[];
  assert.ok(replies.length > 0 && replies.length <= RPS + 1, `${replies.length} replies to 300 binary frames (rate limit ${RPS}/s)`);
  assert.ok(replies.every((r) => r.error?.data.code === 'INVALID_REQUEST'));
  socket.close();
});

test('a client that sends without reading its replies stops being read, so its replies cannot pile up in the engine', async () => {
  const ws = new WebSocket(`${running.url.replace(/^http/, 'ws')}/ws`, [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${TOKEN}`]);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  ws.pause();
  // Each is answered (RATE_LIMITED, ~200 bytes): 40 MB of replies, far beyond what loopback buffers hold unread.
  const message = '{"jsonrpc":"2.0","id":1,"method":"cache.stats"}';
  for (let i = 0; i < 200_000; i++) ws.send(message);
  // An engine that kept reading would take them all within a few seconds.
  for (let waited = 0; waited < 6000 && ws.bufferedAmount > 0; waited += 100) await sleep(100);
  assert.ok(ws.bufferedAmount > 1024 * 1024, `the engine stopped reading: ${ws.bufferedAmount} bytes still unsent by the client (state ${ws.readyState})`);
  ws.terminate();
  // Others are served meanwhile and after.
  assert.equal((await (await authenticated()).call(1, 'cache.stats')).error, undefined);
});

test('requests pipelined on one connection: the job limit holds, a slider keeps only its newest, a closed connection cancels them all', async () => {
  const socket = await authenticated();
  await sleep(1100);
  // More timelapses than the limit, sent at once (each a different seed, so none is a cache hit).
  for (let i = 0; i < MAX_JOBS + 4; i++) socket.send({ jsonrpc: '2.0', id: i, method: 'timelapse', params: { image, seed: 1000 + i, frames: 2, format: 'gif' } });
  const answers = await Promise.all(Array.from({ length: MAX_JOBS + 4 }, (_, i) => socket.next((m) => m.id === i && ('result' in m || 'error' in m), 30_000)));
  const refused = answers.filter((a) => 'error' in a);
  assert.equal(answers.length - refused.length, MAX_JOBS, 'accepted up to the limit');
  assert.ok(refused.every((a) => errorOf(a).data.code === 'TOO_MANY_JOBS'));
  for (const a of answers) if ('result' in a) await socket.call(`c${String(a.id)}`, 'jobs.cancel', { job: (a.result as { id: string }).id });
  socket.close();

  // A slider's requests pipelined: all but the newest are superseded.
  const slider = await authenticated();
  await sleep(1100);
  for (let i = 0; i < 3; i++) slider.send({ jsonrpc: '2.0', id: i, method: 'frame', params: { image, step: 100 + i, slider: 'main', seed: 77 } });
  const ids = await Promise.all([0, 1, 2].map(async (i) => ((await slider.next((m) => m.id === i, 30_000)).result as { id: string }).id));
  const ends = await Promise.all(ids.map((id) => slider.next((m) => typeof m.method === 'string' && /^job\.(done|failed|cancelled)$/.test(m.method) && (m.params as { job: { id: string } }).job.id === id, 60_000)));
  assert.deepEqual(ends.map((e) => e.method), ['job.cancelled', 'job.cancelled', 'job.done']);
  slider.close();

  // A connection closed right after pipelining: none of its jobs is left running without an owner.
  const leaving = await authenticated();
  await sleep(1100);
  for (let i = 0; i < 3; i++) leaving.send({ jsonrpc: '2.0', id: i, method: 'timelapse', params: { image, seed: 2000 + i, frames: 2, format: 'gif' } });
  (leaving as unknown as { ws: WebSocket }).ws.terminate();
  await sleep(1500);
  const watcher = await authenticated();
  const list = (await watcher.call(1, 'jobs.list')).result as { jobs: { params: { seed?: number }; state: string }[] };
  const left = list.jobs.filter((j) => [2000, 2001, 2002].includes(j.params.seed ?? 0));
  assert.equal(left.length, 3, 'the three were submitted');
  const orphans = left.filter((j) => j.state !== 'cancelled');
  assert.deepEqual(orphans, [], 'every job of the closed connection cancelled');
  watcher.close();
});
