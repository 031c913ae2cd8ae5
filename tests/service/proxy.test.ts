/**
 * The engine behind a TLS reverse proxy (nginx, Caddy), as README "Several machines" sets it up: the proxy
 * passes the public Host (no port, or the proxy's) and X-Forwarded-Proto, and the engine, bound to
 * 127.0.0.1 and started with --allow-host <public name>, accepts them and hands out result URLs that
 * work through the proxy. What a proxy sends is sent here on a real socket, header for header.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { RawSocket, TOKEN, removeDir, smallSample, startEngine, type Running } from './helpers.js';

const PUBLIC = 'gpu1.studio.example';
let running: Running;

before(async () => {
  running = await startEngine({ workers: 1, listen: { allowHosts: [PUBLIC] } });
});

after(async () => {
  await running.stop();
  await removeDir(running.cacheDir);
});

function get(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: running.listener.port, path, headers: { host }, setHost: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('behind a proxy: the public name on the proxy port is accepted, result URLs use it and open through it; other names are refused', async () => {
  const socket = await RawSocket.open(running.url, { host: PUBLIC, 'x-forwarded-proto': 'https', authorization: `Bearer ${TOKEN}` });
  try {
    const put = await socket.call(1, 'image.put', { data: (await smallSample(96)).toString('base64') });
    const image = (put.result as { image: string }).image;
    await socket.call(2, 'frame', { image, step: 600 });
    const done = await socket.next((m) => m.method === 'job.done', 60_000);
    const url = new URL((done.params as { job: { result: { files: { url: string }[] } } }).job.result.files[0]!.url);
    assert.equal(url.origin, `https://${PUBLIC}`, 'the URL the client can reach: the proxy, by https');
    // The proxy forwards the download with the same public Host; the signature opens it without the token.
    assert.equal(await get(`${url.pathname}${url.search}`, PUBLIC), 200);
    assert.equal(await get(`${url.pathname}${url.search}`, `${PUBLIC}:8443`), 200, 'any proxy port');
    assert.equal(await get(`${url.pathname}${url.search}`, 'attacker.example'), 403, 'an unlisted name is still refused');
    assert.equal(await get(`${url.pathname}${url.search}`, `127.0.0.1:${running.listener.port + 1}`), 403, 'loopback still needs the engine port');
  } finally {
    socket.close();
  }
  await assert.rejects(RawSocket.open(running.url, { host: 'attacker.example', authorization: `Bearer ${TOKEN}` }), /HTTP 403/);
});
