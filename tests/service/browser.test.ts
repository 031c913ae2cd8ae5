/**
 * The browser-origin attack in real headless Chromium: a page served from another origin tries to use the
 * engine (WebSocket, uploads, result downloads, even with a valid signed result URL) and must fail; the
 * same page from an origin allowed with --allow-origin gets through (so the test can tell the difference).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { smallSample, startEngine, removeDir, TOKEN, type Running } from './helpers.js';

let browser: Browser;
let page: Server;
let pagePort: number;

const ATTACK_PAGE = (engine: string, resultUrl: string, token: string, pngBase64: string) => `<!doctype html><meta charset="utf-8"><title>attack</title>
<script>
window.results = (async () => {
  const out = {};
  const ws = await new Promise((resolve) => {
    let socket;
    try { socket = new WebSocket(${JSON.stringify(engine.replace('http', 'ws') + '/ws')}, ['paints-undo.v1']); } catch (e) { resolve({ opened: false, threw: String(e) }); return; }
    const done = (r) => { try { socket.close(); } catch {} resolve(r); };
    socket.onopen = () => {
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { protocol: 1, token: ${JSON.stringify(token)} } }));
      socket.onmessage = (m) => done({ opened: true, reply: String(m.data).slice(0, 200) });
    };
    socket.onerror = () => done({ opened: false });
    setTimeout(() => done({ opened: false, timeout: true }), 5000);
  });
  out.websocket = ws;
  try {
    const r = await fetch(${JSON.stringify(resultUrl)});
    out.corsFetch = { ok: r.ok, status: r.status, bytes: (await r.arrayBuffer()).byteLength };
  } catch (e) { out.corsFetch = { error: String(e) }; }
  try {
    const r = await fetch(${JSON.stringify(resultUrl)}, { mode: 'no-cors' });
    out.noCorsFetch = { type: r.type, status: r.status, bytes: (await r.arrayBuffer()).byteLength };
  } catch (e) { out.noCorsFetch = { error: String(e) }; }
  out.img = await new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({ loaded: true, width: img.naturalWidth });
    img.onerror = () => resolve({ loaded: false });
    img.src = ${JSON.stringify(resultUrl)};
  });
  try {
    const png = Uint8Array.from(atob(${JSON.stringify(pngBase64)}), (c) => c.charCodeAt(0));
    const r = await fetch(${JSON.stringify(engine + '/images')}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: png });
    out.upload = { type: r.type };
  } catch (e) { out.upload = { error: String(e) }; }
  return out;
})();
</script>`;

let html = '';

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pagePort = (page.address() as AddressInfo).port;
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => page.close(() => resolve()));
});

interface PageResults {
  websocket: { opened: boolean; reply?: string };
  corsFetch: { ok?: boolean; bytes?: number; error?: string };
  noCorsFetch: { type?: string; bytes?: number; error?: string };
  img: { loaded: boolean };
  upload: { type?: string; error?: string };
  /** Cache entries just before the page loaded (the Node set-up above adds some). */
  entriesBefore: number;
}

/** Runs the attack page from http://localhost:<pagePort> against `running`, knowing a valid signed result URL. */
async function attack(running: Running, knowsToken: boolean): Promise<PageResults> {
  const client = running.client();
  await client.connect();
  const image = (await client.putImage(await smallSample(128))).image;
  const job = await client.run('frame', { image, step: 640 });
  const resultUrl = job.result!.files[0]!.url!;
  client.close();
  // A real image the page tries to upload (a different one each time, so it would be a new cache entry).
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: Math.floor(Math.random() * 255), g: 10, b: 20 } } }).png().toBuffer();
  html = ATTACK_PAGE(running.url, resultUrl, knowsToken ? TOKEN : 'f'.repeat(64), png.toString('base64'));
  const context = await browser.newContext();
  try {
    const entriesBefore = running.engine.cache.stats().entries;
    const tab = await context.newPage();
    await tab.goto(`http://localhost:${pagePort}/`);
    return { ...((await tab.evaluate('window.results')) as Omit<PageResults, 'entriesBefore'>), entriesBefore };
  } finally {
    await context.close();
  }
}

test('a page from another origin can neither call a method nor download a result, even with the token and a signed URL', async () => {
  const running = await startEngine({ workers: 1 });
  try {
    const r = await attack(running, true);
    assert.equal(r.websocket.opened, false, JSON.stringify(r.websocket));
    assert.ok(r.corsFetch.error, `CORS fetch must fail: ${JSON.stringify(r.corsFetch)}`);
    // no-cors gives an opaque response: nothing of the file reaches the page.
    assert.ok(r.noCorsFetch.error || (r.noCorsFetch.type === 'opaque' && r.noCorsFetch.bytes === 0), JSON.stringify(r.noCorsFetch));
    assert.equal(r.img.loaded, false, 'an <img> of the result is blocked (Cross-Origin-Resource-Policy)');
    assert.equal(running.engine.cache.stats().entries, r.entriesBefore, 'the page uploaded nothing');
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

test('control: the same page from an allowed origin can connect, so the refusal above is the Origin check', async () => {
  const running = await startEngine({ workers: 1, listen: { allowOrigins: [`http://localhost:${pagePort}`] } });
  try {
    const r = await attack(running, true);
    assert.equal(r.websocket.opened, true);
    assert.match(r.websocket.reply ?? '', /"protocol":1/);
    // Without a known token the allowed page is still refused by hello.
    const guess = await attack(running, false);
    assert.equal(guess.websocket.opened, true);
    assert.match(guess.websocket.reply ?? '', /UNAUTHORIZED/);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});
