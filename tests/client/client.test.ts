/**
 * The typed client outside Node: bundled for the browser (esbuild, platform "browser": any Node import
 * would fail the build) and run in headless Chromium from an allowed origin against a real engine; plus
 * client behaviour that needs no engine.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { EngineClient, EngineError, toBase64, type Connection, type Transport, type TransportHandlers } from '../../engine/src/client/index.js';
import { smallSample, startEngine, removeDir, TOKEN } from '../service/helpers.js';

let browser: Browser;
let server: Server;
let port: number;
let bundle = '';
let html = '';

before(async () => {
  const entry = fileURLToPath(new URL('../../engine/src/client/index.ts', import.meta.url));
  const result = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
  bundle = result.outputFiles[0]!.text;
  server = createServer((req, res) => {
    const js = req.url === '/client.js';
    res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
    res.end(js ? bundle : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('the client bundles for browsers without Node modules and drives a real engine from Chromium', async () => {
  assert.doesNotMatch(bundle, /from\s*["']node:|require\(["'](fs|path|child_process|ws)["']\)/);
  const origin = `http://localhost:${port}`;
  const running = await startEngine({ workers: 1, listen: { allowOrigins: [origin] } });
  try {
    const png = await smallSample(128);
    html = `<!doctype html><script type="module">
      import { EngineClient, webSocketTransport } from '/client.js';
      window.results = (async () => {
        const states = [];
        const client = new EngineClient({ transport: webSocketTransport({ baseUrl: ${JSON.stringify(running.url)} }), token: ${JSON.stringify(TOKEN)}, reconnect: false });
        client.onStateChange((s) => states.push(s));
        const info = await client.connect();
        const bytes = Uint8Array.from(atob(${JSON.stringify(png.toString('base64'))}), (c) => c.charCodeAt(0));
        const put = await client.putImage(bytes);
        const progress = [];
        const job = await client.run('frame', { image: put.image, step: 250 }, (p) => progress.push(p.stage));
        const file = await client.download(job.result.files[0]);
        let error;
        try { await client.call('frame', { image: put.image, step: -1 }); } catch (e) { error = { name: e.name, code: e.code }; }
        client.close();
        return { states, protocol: info.protocol, image: put.image, state: job.state, bytes: file.length, expected: job.result.files[0].bytes, error, progress: progress.length };
      })();
    </script>`;
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${origin}/`);
      const r = (await tab.evaluate('window.results')) as Record<string, unknown>;
      assert.equal(r.protocol, 1);
      assert.equal(r.state, 'done');
      assert.equal(r.bytes, r.expected);
      assert.match(String(r.image), /^[0-9a-f]{64}$/);
      assert.deepEqual(r.error, { name: 'EngineError', code: 'INVALID_OPTION' });
      assert.deepEqual((r.states as string[]).slice(0, 2), ['connecting', 'connected']);
      assert.equal((r.states as string[]).at(-1), 'disconnected');
    } finally {
      await context.close();
    }
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

/** A transport that accepts a connection and never answers: for timeouts and disconnects. */
function silentTransport(): Transport & { handlers?: TransportHandlers; sent: string[] } {
  const t: Transport & { handlers?: TransportHandlers; sent: string[] } = {
    kind: 'websocket',
    sent: [],
    open(handlers) {
      t.handlers = handlers;
      const connection: Connection = { send: (text) => t.sent.push(text), close: () => handlers.onClose('closed') };
      return Promise.resolve(connection);
    },
  };
  return t;
}

test('a silent engine times out with TIMEOUT; an unreachable one leaves the state disconnected with a hint', async () => {
  const silent = new EngineClient({ transport: silentTransport(), requestTimeoutMs: 50, reconnect: false });
  await assert.rejects(silent.connect(), (e: unknown) => e instanceof EngineError && e.code === 'TIMEOUT');
  assert.equal(silent.state, 'disconnected');
  const failing: Transport = { kind: 'websocket', open: () => Promise.reject(new Error('ECONNREFUSED')) };
  const down = new EngineClient({ transport: failing, reconnect: false });
  await assert.rejects(down.connect(), (e: unknown) => e instanceof EngineError && e.code === 'DISCONNECTED');
  assert.equal(down.state, 'disconnected');
  assert.match(down.lastError!.hint!, /paints-undo serve/);
  await assert.rejects(down.call('engine.info'), (e: unknown) => e instanceof EngineError && e.code === 'NOT_CONNECTED');
});

test('a job whose final event arrives before anyone waits still resolves; a closed connection rejects waiters', async () => {
  const t = silentTransport();
  const client = new EngineClient({ transport: t, reconnect: false, requestTimeoutMs: 1000 });
  const connecting = client.connect();
  await new Promise((r) => setTimeout(r, 0));
  const hello = JSON.parse(t.sent[0]!) as { id: number };
  const info = { name: 'paints-undo', version: '0', protocol: 1, backends: [], devices: [], models: [], limits: { maxUploadBytes: 1, maxPixels: 1, maxMessageBytes: 1, maxConnections: 1, maxQueuedJobsPerClient: 1, maxRequestsPerSecond: 1 }, transport: 'websocket' };
  t.handlers!.onMessage(JSON.stringify({ jsonrpc: '2.0', id: hello.id, result: info }));
  await connecting;
  const job = { id: 'j1', kind: 'frame', state: 'queued', priority: 'interactive', backend: 'classic', params: {}, createdAt: 1, progress: { fraction: 0, stage: 'queued' } };
  const submitted = client.submit('frame', { image: 'a'.repeat(64), step: 1 });
  await new Promise((r) => setTimeout(r, 0));
  const request = JSON.parse(t.sent[1]!) as { id: number; method: string };
  assert.equal(request.method, 'frame');
  // The done event overtakes the response.
  t.handlers!.onMessage(JSON.stringify({ jsonrpc: '2.0', method: 'job.done', params: { job: { ...job, state: 'done', result: { id: 'r', files: [], cached: false } } } }));
  t.handlers!.onMessage(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: job }));
  const handle = await submitted;
  assert.equal((await handle.done).state, 'done');
  // Malformed messages from a broken engine are ignored, not thrown.
  t.handlers!.onMessage('not json');
  t.handlers!.onMessage(JSON.stringify({ jsonrpc: '2.0', method: 'job.done', params: { job: 42 } }));
  const second = client.submit('frame', { image: 'a'.repeat(64), step: 2 });
  await new Promise((r) => setTimeout(r, 0));
  const request2 = JSON.parse(t.sent[2]!) as { id: number };
  t.handlers!.onMessage(JSON.stringify({ jsonrpc: '2.0', id: request2.id, result: { ...job, id: 'j2' } }));
  const pending = (await second).done;
  t.handlers!.onClose('engine exited');
  await assert.rejects(pending, (e: unknown) => e instanceof EngineError && e.code === 'DISCONNECTED');
  assert.equal(client.state, 'disconnected');
});

test('base64 without Buffer matches Node', () => {
  const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) & 255);
  assert.equal(toBase64(bytes), Buffer.from(bytes).toString('base64'));
});
