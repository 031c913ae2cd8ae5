import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { EngineClient } from '../../engine/src/client/client.js';
import { nodeWebSocketTransport } from '../../engine/src/client/node.js';
import { sliceStream } from '../../engine/src/client/transfer.js';
import { cacheKey } from '../../engine/src/service/cache-format.js';
import { opaque } from '../../engine/src/core/content.js';
import { removeDir, SAMPLE, startEngine, tempDir, TOKEN } from './helpers.js';

/** The sample at `width` x `height` as raw pixels: RGB, or RGBA with a transparent band along the top. */
async function samplePixels(width: number, height: number, channels: 3 | 4): Promise<{ width: number; height: number; channels: 3 | 4; data: Uint8Array }> {
  const rgb = await sharp(SAMPLE).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  if (channels === 3) return { width, height, channels, data: new Uint8Array(rgb) };
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    data.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    const y = Math.floor(p / width);
    data[p * 4 + 3] = y < height / 4 ? Math.round((255 * y) / (height / 4)) : 255;
  }
  return { width, height, channels, data };
}

function png(pixels: { width: number; height: number; channels: 3 | 4; data: Uint8Array }): Promise<Buffer> {
  return sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } }).png().toBuffer();
}

/** POST /images with `query` and `body`, straight over HTTP: the status and the error's data. */
async function post(url: string, query: string, body: Uint8Array): Promise<{ status: number; code?: string; message?: string; hint?: string }> {
  const response = await fetch(`${url.replace(/^ws/, 'http').replace(/\/ws$/, '')}/images${query}`, {
    method: 'POST',
    body: body as Uint8Array<ArrayBuffer>,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const json = (await response.json()) as { error?: { message: string; data: { code: string; hint?: string } } };
  return { status: response.status, code: json.error?.data.code, message: json.error?.message, hint: json.error?.data.hint };
}

test('raw RGB and RGBA pixels are the same image as a PNG of them, and render', async () => {
  const running = await startEngine();
  try {
    const client = running.client();
    await client.connect();
    for (const channels of [3, 4] as const) {
      const pixels = await samplePixels(300, 240, channels);
      const raw = await client.putPixels(pixels);
      const fromPng = await client.putImage(await png(pixels));
      assert.equal(raw.image, fromPng.image, `${channels} channels: one image id`);
      assert.deepEqual([raw.width, raw.height, raw.hasAlpha, raw.reused], [300, 240, channels === 4, false]);
      assert.equal(fromPng.reused, true, 'the PNG finds the pixels the raw upload stored');
    }
    const pixels = await samplePixels(300, 240, 3);
    const job = await client.run('frame', { image: (await client.putPixels(pixels)).image, step: 500 });
    assert.equal(job.state, 'done');
  } finally {
    await running.stop();
  }
});

test('a file sent again is found by the hash taken as it arrived, never decoded twice; raw pixels go straight to their id', async () => {
  const running = await startEngine();
  try {
    const pool = running.engine.pool;
    const decode = pool.decode.bind(pool);
    let decodes = 0;
    pool.decode = (...args) => {
      decodes++;
      return decode(...args);
    };
    const client = running.client();
    await client.connect();
    const pixels = await samplePixels(320, 200, 3);
    const file = await png(pixels);
    const storedHash = async (image: string): Promise<string | undefined> =>
      (await running.engine.cache.get(cacheKey({ image }), { count: false }))?.files[0]?.sha256;

    const first = await client.putImage(file);
    assert.equal(await storedHash(first.image), createHash('sha256').update(file).digest('hex'), 'the hash taken on arrival is the file’s own');
    const again = await client.putImage(file);
    assert.deepEqual([again.image, again.reused, decodes], [first.image, true, 1], 'the same bytes again: known by their hash, not decoded');

    // Raw pixels: decoding them is hashing them into their id, so they are decoded each time; stored once, with their own hash.
    const raw = await client.putPixels({ width: 320, height: 200, channels: 4, data: opaque({ ...pixels, channels: 3 }).data });
    assert.deepEqual([raw.image, raw.reused, decodes], [first.image, true, 2], 'the same pixels as the file: one image');
    const other = await samplePixels(200, 320, 3);
    const fresh = await client.putPixels(other);
    assert.equal(fresh.reused, false);
    assert.equal(await storedHash(fresh.image), createHash('sha256').update(other.data).digest('hex'));
    assert.deepEqual([(await client.putPixels(other)).reused, decodes], [true, 4]);
  } finally {
    await running.stop();
  }
});

test('raw pixels that do not match their layout or the limits are refused, saying what to send', async () => {
  const running = await startEngine({ limits: { maxUploadBytes: 8 * 1024 * 1024 } });
  try {
    const url = running.url;
    const short = await post(url, '?width=100&height=80&channels=3', new Uint8Array(100 * 80 * 3 - 1));
    assert.equal(short.code, 'INPUT_CORRUPT');
    assert.match(short.message!, /^The uploaded image: 23999 bytes were sent, but 100x80 with 3 channels is 24000 bytes/);
    assert.match(short.hint!, /exactly width x height x channels bytes/);
    assert.equal((await post(url, '?width=100&height=80&channels=3', new Uint8Array(100 * 80 * 3 + 10))).code, 'BODY_TOO_LARGE');
    const channels = await post(url, '?width=100&height=80&channels=2', new Uint8Array(16_000));
    assert.equal(channels.code, 'INVALID_REQUEST');
    assert.match(channels.message!, /channels must be 3 \(RGB\) or 4 \(RGBA\), got "2"/);
    assert.match(channels.hint!, /POST \/images\?width=W&height=H&channels=3\|4/);
    assert.match((await post(url, '?width=abc&height=80&channels=3', new Uint8Array(3))).message!, /width must be an integer from 1 to 1000000, got "abc"/);
    assert.match((await post(url, '?width=0&height=80&channels=3', new Uint8Array(3))).message!, /width must be an integer/);
    assert.match((await post(url, '?width=100&channels=3', new Uint8Array(3))).message!, /width, height and channels together; height is missing/);
    // Over the upload limit: refused from the query alone, before the body is read.
    const big = await post(url, '?width=2000&height=2000&channels=4', new Uint8Array(10));
    assert.equal(big.code, 'BODY_TOO_LARGE');
    assert.match(big.message!, /2000x2000 with 4 channels are 16000000 bytes; the upload limit is 8388608/);
    assert.match(big.hint!, /as PNG instead/);
    // Sizes are checked as a file header's are.
    assert.equal((await post(url, '?width=10&height=10&channels=3', new Uint8Array(300))).code, 'INPUT_TOO_SMALL');
    const long = await post(url, '?width=16385&height=20&channels=3', new Uint8Array(16385 * 20 * 3));
    assert.equal(long.code, 'INPUT_TOO_LARGE');
    assert.match(long.message!, /16385x20/);
    // Over JSON-RPC the layout rides along with the base64 data, and is validated the same way.
    const client = running.client();
    await client.connect();
    await assert.rejects(client.putPixels({ width: 100, height: 80, channels: 3, data: new Uint8Array(5) }), /5 bytes were sent, but 100x80 with 3 channels is 24000 bytes/);
  } finally {
    await running.stop();
  }
});

test('a raw upload outlives the engine: another engine on the cache folder reads it back with its layout', async () => {
  const cacheDir = await tempDir('raw-cache');
  try {
    const first = await startEngine({ cacheDir });
    const pixels = await samplePixels(256, 200, 4);
    let image: string;
    try {
      const client = first.client();
      await client.connect();
      image = (await client.putPixels(pixels)).image;
    } finally {
      await first.stop();
    }
    const second = await startEngine({ cacheDir });
    try {
      const client = second.client();
      await client.connect();
      const job = await client.run('frame', { image, step: 0 });
      const frame = await sharp(await client.download(job.result!.files[0]!)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([frame.info.width, frame.info.height], [256, 200]);
      // Step 0 is the artwork on white: an opaque pixel is the input's own colour.
      const p = (150 * 256 + 100) * 3;
      assert.deepEqual([...frame.data.subarray(p, p + 3)], [...pixels.data.subarray((150 * 256 + 100) * 4, (150 * 256 + 100) * 4 + 3)]);
    } finally {
      await second.stop();
    }
  } finally {
    await removeDir(cacheDir);
  }
});

test('uploads go as a stream of slices over a Node transport, and as bytes through a fetch of the caller’s: the same image either way', async () => {
  const running = await startEngine();
  try {
    const streaming = running.client();
    await streaming.connect();
    // A fetch of the caller's own may not send streams (browsers, UXP): the bytes go as they are.
    const sent: string[] = [];
    const globalFetch = globalThis.fetch;
    const plainFetch: typeof fetch = (input, init) => {
      sent.push(init?.body instanceof ReadableStream ? 'stream' : init?.body instanceof Uint8Array ? 'bytes' : typeof init?.body);
      return globalFetch(input, init);
    };
    const plain = new EngineClient({ transport: nodeWebSocketTransport(running.url), token: TOKEN, reconnect: false, fetch: plainFetch });
    await plain.connect();
    try {
      // Over a megabyte, so that the stream has more than one slice.
      const pixels = await samplePixels(800, 600, 3);
      const file = await png(pixels);
      // Seen through the global fetch, which the Node transport's client uses.
      globalThis.fetch = plainFetch;
      let streamed: Awaited<ReturnType<EngineClient['putPixels']>>;
      try {
        streamed = await streaming.putPixels(pixels);
        assert.equal((await streaming.putImage(file)).image, streamed.image);
      } finally {
        globalThis.fetch = globalFetch;
      }
      const asBytes = await plain.putPixels(pixels);
      assert.equal(asBytes.image, streamed.image);
      assert.equal(asBytes.reused, true);
      assert.equal((await plain.putImage(file)).image, streamed.image);
      assert.deepEqual(sent, ['stream', 'stream', 'bytes', 'bytes']);
    } finally {
      plain.close();
    }
  } finally {
    await running.stop();
  }
});

test('an upload stream is views of the caller’s bytes, a slice per read, never a copy', async () => {
  const bytes = new Uint8Array(2.5 * 1024 * 1024).map((_, i) => i % 251);
  const reader = sliceStream(bytes).getReader();
  const parts: Uint8Array[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  assert.deepEqual(parts.map((p) => p.length), [1024 * 1024, 1024 * 1024, 512 * 1024]);
  assert.ok(parts.every((p) => p.buffer === bytes.buffer), 'each slice is a view of the same memory');
  assert.deepEqual(Buffer.concat(parts), Buffer.from(bytes));
});
