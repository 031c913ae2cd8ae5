/** Token, Host, Origin and limits on the real listener (HTTP and WebSocket handshakes). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import sharp from 'sharp';
import { EngineClient, EngineError } from '../../engine/src/client/index.js';
import { nodeWebSocketTransport } from '../../engine/src/client/node.js';
import { WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from '../../engine/src/client/protocol.js';
import { SIGNED_URL_TTL_SECONDS, checkHost, checkOrigin, checkSignature, signPath, signedQuery } from '../../engine/src/service/security.js';
import { RawSocket, TOKEN, errorOf, smallSample, startEngine, removeDir, type Running } from './helpers.js';

let running: Running;
let port: number;
let png: Buffer;

before(async () => {
  running = await startEngine({ workers: 1, limits: { maxUploadBytes: 200_000, maxPixels: 40_000, maxConnections: 4, maxRequestsPerSecond: 20 } });
  port = running.listener.port;
  png = await smallSample(128);
});

after(async () => {
  await running.stop();
  await removeDir(running.cacheDir);
});

/** A raw HTTP request with full control of Host and Origin (fetch would not let us forge them). */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...options.headers }, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const auth = { authorization: `Bearer ${TOKEN}` };

test('Host and Origin policy (unit): loopback only, no null or web origins unless allowed', () => {
  const options = { token: TOKEN, port: 7439, bindHost: '127.0.0.1', allowOrigins: ['http://localhost:5173'], allowHosts: [] };
  assert.equal(checkHost('127.0.0.1:7439', options), undefined);
  assert.equal(checkHost('localhost:7439', options), undefined);
  assert.equal(checkHost('[::1]:7439', options), undefined);
  assert.match(checkHost('evil.example:7439', options)!, /DNS rebinding/);
  assert.match(checkHost('127.0.0.1:80', options)!, /port 7439/);
  assert.match(checkHost('192.168.1.5:7439', options)!, /not this engine/);
  assert.match(checkHost(undefined, options)!, /no Host/);
  const remote = { ...options, bindHost: '0.0.0.0', allowHosts: ['gpu.example'] };
  assert.equal(checkHost('192.168.1.5:7439', remote), undefined);
  assert.equal(checkHost('gpu.example:7439', remote), undefined);
  assert.match(checkHost('evil.example:7439', remote)!, /DNS rebinding/);
  assert.equal(checkOrigin(undefined, options), undefined);
  assert.match(checkOrigin('null', options)!, /opaque/);
  assert.match(checkOrigin('http://evil.example', options)!, /may not use the engine/);
  assert.match(checkOrigin('https://localhost:3000', options)!, /may not use the engine/);
  assert.match(checkOrigin('chrome-extension://abc', options)!, /may not use the engine/);
  assert.equal(checkOrigin('http://localhost:5173', options), undefined);
  assert.equal(checkOrigin('uxp://com.example.plugin', options), undefined);
  const now = Date.UTC(2025, 0, 1, 10, 20);
  const query = new URLSearchParams(signedQuery(TOKEN, '/results/a/b.png', now));
  assert.equal(checkSignature(TOKEN, '/results/a/b.png', query, now), undefined);
  assert.equal(checkSignature(TOKEN, '/results/a/c.png', query, now), 'invalid');
  assert.equal(checkSignature('0'.repeat(64), '/results/a/b.png', query, now), 'invalid');
  assert.equal(checkSignature(TOKEN, '/results/a/b.png', new URLSearchParams(), now), 'missing');
  // Valid for the TTL (rounded up to the hour), then expired; a later exp is a different signature.
  const exp = Number(query.get('exp'));
  assert.ok(exp * 1000 >= now + SIGNED_URL_TTL_SECONDS * 1000 && exp * 1000 < now + SIGNED_URL_TTL_SECONDS * 1000 + 3600_000);
  assert.equal(checkSignature(TOKEN, '/results/a/b.png', query, exp * 1000 + 1000), 'expired');
  const extended = new URLSearchParams({ exp: String(exp + 3600), sig: query.get('sig')! });
  assert.equal(checkSignature(TOKEN, '/results/a/b.png', extended, now), 'invalid');
  assert.equal(new URLSearchParams(signedQuery(TOKEN, '/results/a/b.png', now + 60_000)).get('sig'), query.get('sig'), 'same URL within the hour');
  assert.notEqual(signPath(TOKEN, '/results/a/b.png', exp), signPath(TOKEN, '/results/a/b.png', exp + 1));
});

test('HTTP requires the token, the loopback Host and an allowed Origin', async () => {
  const none = await raw('/images', { method: 'POST', body: png });
  assert.equal(none.status, 401);
  assert.equal(JSON.parse(none.body).error.data.code, 'UNAUTHORIZED');
  assert.equal((await raw('/images', { method: 'POST', body: png, headers: { authorization: `Bearer ${'0'.repeat(64)}` } })).status, 401);
  const rebinding = await raw('/images', { method: 'POST', body: png, headers: { ...auth, host: `attacker.example:${port}` } });
  assert.equal(rebinding.status, 403);
  assert.equal(JSON.parse(rebinding.body).error.data.code, 'FORBIDDEN');
  assert.equal((await raw('/images', { method: 'POST', body: png, headers: { ...auth, origin: 'http://evil.example' } })).status, 403);
  assert.equal((await raw('/images', { method: 'POST', body: png, headers: { ...auth, origin: 'null' } })).status, 403);
  const ok = await raw('/images', { method: 'POST', body: png, headers: { 'x-paints-undo-token': TOKEN } });
  assert.equal(ok.status, 200, ok.body);
  assert.match(JSON.parse(ok.body).image, /^[0-9a-f]{64}$/);
  // No CORS headers, ever: a foreign page cannot read a response even if a request got through.
  assert.equal(ok.headers['access-control-allow-origin'], undefined);
  const unknown = await raw('/nothing', { headers: auth });
  assert.equal(unknown.status, 404);
});

test('result URLs need their signature; a signature opens that one file only, until it expires', async () => {
  const client = running.client();
  await client.connect();
  const image = (await client.putImage(png)).image;
  const job = await client.run('frame', { image, step: 900 });
  const url = new URL(job.result!.files[0]!.url!);
  assert.equal((await raw(`${url.pathname}${url.search}`)).status, 200);
  assert.equal((await raw(url.pathname)).status, 401);
  assert.equal((await raw(`${url.pathname}?sig=${'0'.repeat(32)}`)).status, 401);
  // The URL carries a signed expiry, hours ahead: moving it (to the past, or further out) breaks the signature.
  const exp = Number(url.searchParams.get('exp'));
  assert.ok(exp * 1000 > Date.now() + 3600_000, `exp=${url.searchParams.get('exp')} is hours ahead`);
  for (const moved of ['1', String(exp + 3600)]) {
    const forged = new URLSearchParams(url.search);
    forged.set('exp', moved);
    const refused = await raw(`${url.pathname}?${forged}`);
    assert.equal(refused.status, 401, `exp=${moved}`);
    assert.match(JSON.parse(refused.body).error.message, /signature/);
  }
  const expired = `exp=1700000000&sig=${signPath(TOKEN, url.pathname, 1700000000)}`;
  const late = await raw(`${url.pathname}?${expired}`);
  assert.equal(late.status, 401);
  assert.match(JSON.parse(late.body).error.message, /expired/);
  const other = url.pathname.replace('frame.png', 'meta.json');
  assert.equal((await raw(`${other}${url.search}`)).status, 401, 'the signature is bound to its path');
  assert.equal((await raw(`${url.pathname}${url.search}`, { headers: { origin: 'http://evil.example' } })).status, 403);
  const head = await raw(`${url.pathname}${url.search}`, { method: 'HEAD' });
  assert.equal(head.headers['cross-origin-resource-policy'], 'same-origin');
  client.close();
});

test('uploads over the byte or pixel limit get 413; non-images get INPUT_NOT_IMAGE', async () => {
  const big = await raw('/images', { method: 'POST', body: Buffer.alloc(300_000, 1), headers: auth });
  assert.equal(big.status, 413);
  assert.match(JSON.parse(big.body).error.message, /200000-byte limit/);
  // 400x400 = 160000 pixels over the 40000-pixel limit, refused from the header before decoding.
  const tooManyPixels = await raw('/images', { method: 'POST', body: await sharp({ create: { width: 400, height: 400, channels: 3, background: '#fff' } }).png().toBuffer(), headers: auth });
  assert.equal(tooManyPixels.status, 413);
  assert.equal(JSON.parse(tooManyPixels.body).error.data.code, 'INPUT_TOO_LARGE');
  const text = await raw('/images', { method: 'POST', body: Buffer.from('hello, not an image'), headers: auth });
  assert.equal(text.status, 400);
  assert.equal(JSON.parse(text.body).error.data.code, 'INPUT_NOT_IMAGE');
});

test('WebSocket: foreign origins and rebinding hosts are refused at the handshake; a wrong token too', async () => {
  await assert.rejects(RawSocket.open(running.url, { origin: 'http://evil.example' }), /HTTP 403/);
  await assert.rejects(RawSocket.open(running.url, { origin: 'null' }), /HTTP 403/);
  await assert.rejects(RawSocket.open(running.url, { host: `evil.example:${port}` }), /HTTP 403/);
  await assert.rejects(RawSocket.open(running.url, {}, [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${'0'.repeat(64)}`]), /HTTP 401/);
  // The right token in the subprotocol authenticates at once.
  const pre = await RawSocket.open(running.url, {}, [WS_SUBPROTOCOL, `${WS_TOKEN_SUBPROTOCOL_PREFIX}${TOKEN}`]);
  assert.equal((await pre.call(1, 'cache.stats')).error, undefined);
  pre.close();
  // Download URLs name the host the client reached (here through a TLS proxy that keeps the Host).
  const proxied = await RawSocket.open(running.url, { host: `localhost:${port}`, 'x-forwarded-proto': 'https' });
  const hello = await proxied.call(1, 'hello', { protocol: 1, token: TOKEN });
  assert.equal((hello.result as { httpBase: string }).httpBase, `https://localhost:${port}`);
  proxied.close();
});

test('WebSocket: nothing but hello works before authenticating; a wrong token gets UNAUTHORIZED', async () => {
  const socket = await RawSocket.open(running.url);
  try {
    assert.equal(errorOf(await socket.call(1, 'engine.info')).data.code, 'UNAUTHORIZED');
    assert.equal(errorOf(await socket.call(2, 'hello', { protocol: 1 })).data.code, 'UNAUTHORIZED');
    assert.equal(errorOf(await socket.call(3, 'hello', { protocol: 1, token: '0'.repeat(64) })).data.code, 'UNAUTHORIZED');
    assert.equal(errorOf(await socket.call(4, 'hello', { protocol: 99, token: TOKEN })).data.code, 'VERSION_MISMATCH');
    const ok = await socket.call(5, 'hello', { protocol: 1, token: TOKEN });
    assert.equal((ok.result as { protocol: number }).protocol, 1);
    assert.equal((ok.result as { httpBase: string }).httpBase, running.url);
    assert.equal((await socket.call(6, 'engine.info')).error, undefined);
  } finally {
    socket.close();
  }
});

test('the typed client reports unauthorized and version-mismatch states', async () => {
  const wrong = running.client({ token: 'f'.repeat(64) });
  await assert.rejects(wrong.connect(), (e: unknown) => e instanceof EngineError && e.code === 'UNAUTHORIZED');
  assert.equal(wrong.state, 'unauthorized');
  assert.match(wrong.lastError!.hint!, /Pair again/);
  const future = new EngineClient({ transport: nodeWebSocketTransport(running.url), token: TOKEN, reconnect: false, protocolVersion: 2 });
  await assert.rejects(future.connect(), (e: unknown) => e instanceof EngineError && e.code === 'VERSION_MISMATCH');
  assert.equal(future.state, 'version-mismatch');
  assert.match(future.lastError!.hint!, /Update the engine/);
});

test('request rate and connection count are limited with clear errors; the connection stays usable', async () => {
  const socket = await RawSocket.open(running.url);
  try {
    await socket.call('h', 'hello', { protocol: 1, token: TOKEN });
    for (let i = 0; i < 40; i++) socket.send({ jsonrpc: '2.0', id: i, method: 'cache.stats' });
    const replies = [];
    for (let i = 0; i < 40; i++) replies.push(await socket.next((m) => typeof m.id === 'number'));
    const limited = replies.filter((r) => (r.error as { data?: { code?: string } } | undefined)?.data?.code === 'RATE_LIMITED');
    assert.ok(limited.length > 0, 'some requests were rate limited');
    assert.ok(limited.length < 40, 'the burst allowance was served');
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await socket.call('after', 'cache.stats')).error, undefined);
    // HTTP has its own bucket per client address.
    const statuses = await Promise.all(Array.from({ length: 40 }, () => raw('/nothing', { headers: auth }).then((r) => r.status)));
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.ok(statuses.includes(404));
    await new Promise((r) => setTimeout(r, 1100));
    const extra: RawSocket[] = [];
    try {
      // maxConnections is 4 paired connections; this socket is one of them. Tokenless sockets do not count.
      for (let i = 0; i < 3; i++) extra.push(await RawSocket.open(running.url, auth));
      await assert.rejects(RawSocket.open(running.url, auth), /HTTP 503/);
    } finally {
      for (const s of extra) s.close();
      await Promise.all(extra.map((s) => s.whenClosed()));
    }
  } finally {
    socket.close();
    await socket.whenClosed();
  }
});

test('refused HTTP requests (401, 403) have their own budget: signed downloads keep working through a flood of them', async () => {
  const client = running.client();
  await client.connect();
  const image = (await client.putImage(png)).image;
  const job = await client.run('frame', { image, step: 700 });
  client.close();
  const url = new URL(job.result!.files[0]!.url!);
  await new Promise((r) => setTimeout(r, 1100));
  const refused = { origin: 'https://evil.example' };
  const wrongToken = { authorization: `Bearer ${'0'.repeat(64)}` };
  const flood = await Promise.all(Array.from({ length: 100 }, (_, i) => raw('/nothing', { headers: i % 2 ? refused : wrongToken }).then((r) => r.status)));
  assert.ok(flood.every((s) => s === 401 || s === 403 || s === 429), flood.join(','));
  assert.ok(flood.includes(429), 'the refused requests ran out of their own budget');
  const downloads = await Promise.all(Array.from({ length: 10 }, () => raw(`${url.pathname}${url.search}`).then((r) => r.status)));
  assert.deepEqual(downloads, Array.from({ length: 10 }, () => 200));
});
