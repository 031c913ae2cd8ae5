/** Every method over a real WebSocket + HTTP server, and the error contract of malformed requests. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { EngineError, LAYERS_MANIFEST_FILE, parseLayersManifest, toBase64, type EngineClient } from '../../engine/src/client/index.js';
import { ALL_ERROR_CODES, METHOD_NAMES, EVENT_NAMES, rpcCodeOf } from '../../engine/src/client/protocol.js';
import { RawSocket, TOKEN, errorOf, smallSample, startEngine, tempDir, removeDir, type Running } from './helpers.js';

let running: Running;
let client: EngineClient;
let png: Buffer;
let imageId: string;
let scratch: string;

before(async () => {
  running = await startEngine();
  client = running.client();
  await client.connect();
  png = await smallSample(128);
  imageId = (await client.putImage(png)).image;
  scratch = await tempDir('proto');
});

after(async () => {
  await running.stop();
  await removeDir(running.cacheDir);
  await removeDir(scratch);
});

test('hello / engine.info describe the engine, its backends and limits', async () => {
  const info = await client.call('engine.info');
  assert.equal(info.name, 'paints-undo');
  assert.equal(info.protocol, 1);
  assert.equal(info.transport, 'websocket');
  assert.equal(info.httpBase, running.url);
  const classic = info.backends.find((b) => b.id === 'classic');
  assert.ok(classic, 'classic backend listed');
  assert.equal(classic.capabilities.frame, true);
  assert.equal(classic.capabilities.device, 'cpu');
  assert.ok(info.limits.maxUploadBytes > 0);
  assert.equal(info.limits.workingLongSide, 4096, 'clients send no bigger canvas than the engine keeps');
  assert.equal(client.state, 'connected');
});

test('image.put: content-hash ids, re-upload and same pixels in another file are free', async () => {
  const again = await client.putImage(png);
  assert.equal(again.image, imageId);
  assert.equal(again.reused, true);
  // Same pixels, different PNG bytes (another compression level): same id, nothing decoded twice into the store.
  const recompressed = await sharp(png).png({ compressionLevel: 0 }).toBuffer();
  assert.notDeepEqual(recompressed, png);
  const viaRpc = await client.call('image.put', { data: toBase64(recompressed) });
  assert.equal(viaRpc.image, imageId);
  assert.equal(viaRpc.reused, true);
  const meta = await sharp(png).metadata();
  assert.deepEqual([viaRpc.width, viaRpc.height, viaRpc.hasAlpha], [meta.width, meta.height, false]);
  // Base64 broken into MIME lines of 76 characters is the same upload.
  const wrapped = toBase64(recompressed).replace(/.{76}/g, '$&\r\n');
  assert.equal((await client.call('image.put', { data: wrapped })).image, imageId);
});

test('image.put says what decoding found, also when the same bytes come again and nothing is decoded', async () => {
  // A 128 px sample is small enough to be worth a word; an animation uses its first frame only.
  const small = (await client.putImage(png)).notices;
  assert.ok(small.some((n) => /only \d+x\d+; results look best from/.test(n)), small.join(' | '));
  const frame = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const { width, height } = frame.info;
  const pages = Buffer.concat([frame.data, frame.data.map((v) => 255 - v)]);
  const gif = await sharp(pages, { raw: { width, height: height * 2, channels: frame.info.channels, pageHeight: height } }).gif({ loop: 0 }).toBuffer();
  const first = await client.putImage(gif);
  const again = await client.putImage(gif);
  assert.equal(again.reused, true);
  for (const put of [first, again]) assert.ok(put.notices.some((n) => n.includes('first of 2 frames')), put.notices.join(' | '));
  assert.deepEqual(again.notices, first.notices);
});

test('frame: queued, progress and done events; signed URL download with Range and HEAD', async () => {
  const seen: string[] = [];
  const offs = (['job.queued', 'job.progress', 'job.done'] as const).map((e) => client.on(e, () => seen.push(e)));
  const job = await client.run('frame', { image: imageId, step: 500 });
  offs.forEach((off) => off());
  assert.equal(job.state, 'done');
  assert.equal(job.priority, 'interactive');
  assert.ok(seen.includes('job.queued') && seen.includes('job.done'), seen.join(','));
  const file = job.result!.files[0]!;
  assert.equal(file.name, 'frame.png');
  assert.equal(file.step, 500);
  assert.equal(file.path, undefined, 'no disk paths for network clients');
  const bytes = await client.download(file);
  assert.equal(bytes.length, file.bytes);
  assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from('PNG')]);
  const decoded = await sharp(bytes).metadata();
  const source = await sharp(png).metadata();
  assert.deepEqual([decoded.width, decoded.height], [source.width, source.height]);
  const part = await client.download(file, { start: 10, end: 29 });
  assert.deepEqual([...part], [...bytes.subarray(10, 30)]);
  const head = await fetch(file.url!, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(file.bytes));
  const bad = await fetch(file.url!, { headers: { range: 'bytes=999999999-' } });
  assert.equal(bad.status, 416);
});

test('keyframes, interpolate, layers (psd and png) and jobs.get', async () => {
  const keyframes = await client.run('keyframes', { image: imageId, steps: [999, 400] });
  assert.deepEqual(keyframes.result!.files.map((f) => [f.name, f.step]), [['step-0400.png', 400], ['step-0999.png', 999]]);
  assert.equal(keyframes.priority, 'batch');

  const blurred = await sharp(png).blur(6).png().toBuffer();
  const from = (await client.putImage(blurred)).image;
  const interpolation = await client.run('interpolate', { from, to: imageId, frames: 3 });
  assert.equal(interpolation.result!.files.length, 3);
  assert.ok(interpolation.result!.files.every((f) => f.mime === 'image/png'));

  const psd = await client.run('layers', { image: imageId });
  assert.deepEqual(psd.result!.files.map((f) => f.name), ['layers.psd']);
  const psdBytes = await client.download(psd.result!.files[0]!);
  assert.equal(Buffer.from(psdBytes.subarray(0, 4)).toString('latin1'), '8BPS');
  const pngs = await client.run('layers', { image: imageId, format: 'png' });
  assert.ok(pngs.result!.files.length >= 3);
  assert.ok(pngs.result!.files.some((f) => f.name === 'composite.png'));
  // The manifest says how the PNGs stack, and names only files of the result.
  const manifestFile = pngs.result!.files.find((f) => f.name === LAYERS_MANIFEST_FILE);
  assert.equal(manifestFile?.mime, 'application/json');
  const parsed = parseLayersManifest(new TextDecoder().decode(await client.download(manifestFile!)));
  assert.ok('manifest' in parsed, JSON.stringify(parsed));
  assert.deepEqual(parsed.manifest.layers.map((l) => l.file).sort(), pngs.result!.files.filter((f) => f.name !== 'composite.png' && f.mime === 'image/png').map((f) => f.name).sort());

  const got = await client.call('jobs.get', { job: psd.id });
  assert.equal(got.state, 'done');
  assert.equal(got.result?.id, psd.result?.id);
});

test('timelapse: an MP4 with the requested frame count, codec and size; progress with ETA and previews', async () => {
  const progress: { eta?: number; preview?: { width: number; height: number; data: string } }[] = [];
  const job = await client.run('timelapse', { image: imageId, frames: 12, fps: 12, hold: 0, size: 128, seed: 4242 }, (p, preview) =>
    progress.push({ ...(p.etaSeconds !== undefined ? { eta: p.etaSeconds } : {}), ...(preview ? { preview } : {}) }),
  );
  assert.ok(progress.some((p) => p.eta !== undefined), 'some progress events estimate the time left');
  const preview = progress.find((p) => p.preview)?.preview;
  assert.ok(preview, 'the classic backend sends low-resolution previews');
  assert.ok(Math.max(preview.width, preview.height) <= 128);
  assert.equal((await sharp(Buffer.from(preview.data, 'base64')).metadata()).format, 'png');
  const file = job.result!.files[0]!;
  assert.equal(file.name, 'timelapse.mp4');
  assert.equal(file.mime, 'video/mp4');
  const path = join(scratch, 'out.mp4');
  await writeFile(path, await client.download(file));
  const probe = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path], { encoding: 'utf8' }),
  ) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] };
  const stream = probe.streams[0]!;
  assert.equal(stream.codec_name, 'h264');
  assert.equal(Math.max(stream.width, stream.height), 128);
  assert.equal(Number(stream.nb_read_frames), 12);
});

test('a job that fails in the backend sends job.failed with the error code and message, and caches nothing', async () => {
  const other = (await client.putImage(await smallSample(96))).image;
  const entries = (await client.call('cache.stats')).entries;
  const failed: string[] = [];
  const off = client.on('job.failed', (e) => failed.push(e.job.error?.code ?? '?'));
  await assert.rejects(
    client.run('interpolate', { from: other, to: imageId, frames: 2 }),
    (e: unknown) => e instanceof EngineError && e.code === 'INVALID_OPTION' && /same size/.test(e.message),
  );
  off();
  assert.deepEqual(failed, ['INVALID_OPTION']);
  assert.equal((await client.call('cache.stats')).entries, entries);
});

test('a repeated request is answered from the cache without recomputation', async () => {
  const before = (await client.call('jobs.list')).stats;
  const job = await client.run('frame', { image: imageId, step: 500 });
  assert.equal(job.result?.cached, true);
  const after = (await client.call('jobs.list')).stats;
  assert.equal(after.computed, before.computed);
  assert.equal(after.fromCache, before.fromCache + 1);
  const stats = await client.call('cache.stats');
  assert.ok(stats.entries > 0 && stats.hits > 0);
});

test('jobs.list filters by state and owner; jobs.cancel on a finished job returns it unchanged', async () => {
  const list = await client.call('jobs.list', { state: 'done', mine: true, limit: 3 });
  assert.ok(list.jobs.length > 0 && list.jobs.length <= 3);
  assert.ok(list.jobs.every((j) => j.state === 'done'));
  const done = list.jobs[0]!;
  const cancelled = await client.call('jobs.cancel', { job: done.id });
  assert.equal(cancelled.state, 'done');
});

test('malformed and invalid messages get stable JSON-RPC errors and the connection stays usable', async () => {
  const raw = await RawSocket.open(running.url);
  try {
    assert.equal((await raw.call(1, 'hello', { protocol: 1, token: TOKEN })).error, undefined);
    const cases: [string, string, number, RegExp][] = [
      ['{"jsonrpc":"2.0","id":2,"method":', 'PARSE_ERROR', -32700, /not valid JSON/],
      ['{"id":3,"method":"engine.info"}', 'INVALID_REQUEST', -32600, /jsonrpc/],
      ['42', 'INVALID_REQUEST', -32600, /number/],
      ['{"jsonrpc":"2.0","id":4,"method":"frobnicate"}', 'METHOD_NOT_FOUND', -32601, /Should be one of: hello, engine.info/],
      [`{"jsonrpc":"2.0","id":5,"method":"frame","params":{"image":"${imageId}","step":"ten"}}`, 'INVALID_OPTION', -32602, /step/],
      [`{"jsonrpc":"2.0","id":6,"method":"frame","params":{"image":"${imageId}","step":1000}}`, 'INVALID_OPTION', -32602, /<= 999 for step but received 1000/],
      [`{"jsonrpc":"2.0","id":7,"method":"frame","params":{"image":"${'0'.repeat(64)}","step":1}}`, 'NOT_FOUND', -32003, /No image has the id/],
      ['{"jsonrpc":"2.0","id":8,"method":"jobs.get","params":{"job":"jnope"}}', 'NOT_FOUND', -32003, /No job has the id jnope/],
      [`{"jsonrpc":"2.0","id":9,"method":"frame","params":{"image":"${imageId}","step":1,"stpe":2}}`, 'INVALID_OPTION', -32602, /stpe/],
      ['{"jsonrpc":"2.0","id":10,"method":"frame","params":[1,2]}', 'INVALID_REQUEST', -32600, /named parameters/],
      [`{"jsonrpc":"2.0","id":11,"method":"frame","params":{"image":"${imageId}","step":1,"backend":"nope"}}`, 'UNKNOWN_BACKEND', -32016, /Should be one of: classic/],
      ['{"jsonrpc":"2.0","id":12,"method":"image.put","params":{"data":"bm90IGFuIGltYWdl"}}', 'INPUT_NOT_IMAGE', -32011, /./],
      ['{"jsonrpc":"2.0","id":13,"method":"image.put","params":{"path":"/etc/passwd"}}', 'INVALID_REQUEST', -32600, /only available over stdio/],
      ['{"jsonrpc":"2.0","id":15,"method":"image.put","params":{"data":"iVBORw0K!GgoAAAANSUhEUg=="}}', 'INVALID_REQUEST', -32600, /not valid base64/],
      ['{"jsonrpc":"2.0","id":16,"method":"image.put","params":{"data":"iVBORw0KGgoAAAANSUhEUgAA*AAE"}}', 'INVALID_REQUEST', -32600, /not valid base64/],
      ['{"jsonrpc":"2.0","id":17,"method":"image.put","params":{"data":"===="}}', 'INVALID_REQUEST', -32600, /not valid base64/],
      [JSON.stringify({ jsonrpc: '2.0', id: 14, method: 'engine.info', params: { pad: 'x'.repeat(1_100_000) } }), 'BODY_TOO_LARGE', -32006, /limit/],
    ];
    for (const [text, code, number, message] of cases) {
      raw.sendText(text);
      const reply = await raw.next((m) => 'error' in m || 'result' in m);
      const error = errorOf(reply);
      assert.equal(error.data.code, code, `${text.slice(0, 80)} -> ${JSON.stringify(error)}`);
      assert.equal(error.code, number);
      assert.match(error.message, message);
      assert.equal((await raw.call(`ok${code}`, 'engine.info')).error, undefined, 'connection still usable');
    }
    // Notifications (no id) get no reply; a batch gets one reply per request.
    raw.send({ jsonrpc: '2.0', method: 'engine.info' });
    raw.sendText(JSON.stringify([{ jsonrpc: '2.0', id: 'b1', method: 'cache.stats' }, { jsonrpc: '2.0', id: 'b2', method: 'nope' }]));
    const batch = (await raw.next()) as unknown as Record<string, unknown>[];
    assert.ok(Array.isArray(batch));
    assert.equal(batch.length, 2);
  } finally {
    raw.close();
  }
});

test('the typed client surfaces errors as EngineError with the stable code and a hint', async () => {
  await assert.rejects(client.call('frame', { image: imageId, step: 5000 }), (e: unknown) => e instanceof EngineError && e.code === 'INVALID_OPTION' && /step/.test(e.message));
  await assert.rejects(client.call('jobs.cancel', { job: 'jmissing' }), (e: unknown) => e instanceof EngineError && e.code === 'NOT_FOUND' && e.rpcCode === -32003 && e.hint !== undefined);
});

test('cache.clear empties the cache and the next request recomputes', async () => {
  const cleared = await client.call('cache.clear');
  assert.ok(cleared.removedEntries > 0);
  assert.equal((await client.call('cache.stats')).entries, 0);
  // The uploaded image was cleared with the cache but is still in memory: the job runs.
  const job = await client.run('frame', { image: imageId, step: 501 });
  assert.equal(job.result?.cached, false);
});

test('PROTOCOL.md documents every method, event and error code', () => {
  const doc = readFileSync(new URL('../../engine/PROTOCOL.md', import.meta.url), 'utf8');
  for (const m of METHOD_NAMES) assert.ok(doc.includes(`\`${m}\``), `method ${m}`);
  for (const e of EVENT_NAMES) assert.ok(doc.includes(`\`${e}\``), `event ${e}`);
  for (const c of ALL_ERROR_CODES) assert.ok(doc.includes(`| \`${c}\` | ${rpcCodeOf(c)} |`), `error ${c}`);
  assert.match(doc, /Default port: 7439/);
});
