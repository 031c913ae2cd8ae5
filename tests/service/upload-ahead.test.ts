/**
 * A big raw upload is read with an idle worker's help (service/upload-ahead.ts): it faults the memory in
 * ahead of the main thread (touching a page never changes a byte, whether it lands before or after the
 * bytes written there) and hashes what has arrived behind it, so that the decode only hashes the rest.
 * The hashes must be those of the whole upload, however its chunks fall.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { READ_AHEAD_MIN_BYTES, UploadProgress, readAhead, takeHashedAhead } from '../../engine/src/service/upload-ahead.js';
import { PixelIdHash, imageId, sourceFromRgb, sourceFromRgba } from '../../engine/src/io/decode.js';
import { cacheKey } from '../../engine/src/service/cache-format.js';
import { Rng } from '../../engine/src/backends/classic/rng.js';
import { startEngine } from './helpers.js';

/** Noise with runs of zero bytes (a touch compares with 0) and of 0xff. */
function pattern(bytes: number, seed = 5): Uint8Array {
  const rng = new Rng(seed);
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    const band = Math.floor(i / 5000) % 3;
    data[i] = band === 0 ? 0 : band === 1 ? 255 : Math.floor(rng.next() * 256);
  }
  return data;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Writes `data` into `buffer` in chunks of `chunk` bytes as a request body arrives, reporting progress, and ends the read. */
async function arrive(buffer: SharedArrayBuffer, data: Uint8Array, progress: UploadProgress, chunk: number, complete = true): Promise<void> {
  const view = new Uint8Array(buffer);
  for (let at = 0; at < data.length; at += chunk) {
    view.set(data.subarray(at, at + chunk), at);
    progress.wrote(Math.min(data.length, at + chunk));
    // The reader's turns come between the chunks, as between a socket's reads.
    await tick();
  }
  progress.end(complete);
}

let key = 1000;

describe('the id hash of pixels that arrive in order', () => {
  it('is the same however the pixels are cut, for RGB (in its RGBA form) and RGBA', () => {
    const [width, height] = [301, 7];
    const rgb = pattern(width * height * 3, 9);
    const rgba = new Uint8Array(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
      rgba[p * 4 + 3] = 255;
    }
    const expected = imageId({ width, height, channels: 4, data: rgba });
    for (const cuts of [[width * height], [1, 2, 3, 5, 8, 13, 2000, width * height], [4, 4, 9, 1003, 1004, 2106, 2107]]) {
      for (const [channels, data] of [[3, rgb], [4, rgba]] as const) {
        const hash = new PixelIdHash(width, height, channels);
        for (const upTo of cuts) hash.update(data, upTo);
        hash.update(data, width * height);
        assert.equal(hash.digest(), expected, `${channels} channels cut at ${cuts.join(', ')}`);
      }
    }
    // Unaligned RGB (a view at an odd offset) is read byte by byte, to the same id.
    const shifted = new Uint8Array(rgb.length + 1);
    shifted.set(rgb, 1);
    assert.equal(sourceFromRgb({ width, height, channels: 3, data: shifted.subarray(1) }).id, expected);
    assert.throws(() => new PixelIdHash(width, height, 3).digest(), /0 of 2107 pixels/);
  });
});

describe('reading an upload ahead', () => {
  it('leaves every byte as written and hashes the whole upload, however its chunks fall', async () => {
    // Not a whole number of pages, slices or pixel groups.
    const [width, height] = [1531, 1893];
    for (const [channels, chunk] of [[3, 65536], [3, 1000003], [4, 4099]] as const) {
      const bytes = width * height * channels;
      assert.ok(bytes >= READ_AHEAD_MIN_BYTES);
      const data = pattern(bytes, channels + chunk);
      const buffer = new SharedArrayBuffer(bytes);
      const progress = new UploadProgress(key++, 0, new SharedArrayBuffer(8));
      readAhead({ key: progress.key, buffer, progress: progress.progress, pixels: { width, height, channels } });
      await arrive(buffer, data, progress, chunk);
      const hashed = takeHashedAhead(progress.key);
      assert.ok(hashed, `${channels} channels in chunks of ${chunk}: hashed ahead`);
      assert.deepEqual(new Uint8Array(buffer), data);
      const source = channels === 3 ? sourceFromRgb({ width, height, channels, data }) : sourceFromRgba({ width, height, channels, data });
      assert.equal(hashed.id.digest(), source.id);
      assert.equal(hashed.sha256, createHash('sha256').update(data).digest('hex'));
      // Taken once: the worker forgot it.
      assert.equal(takeHashedAhead(progress.key), undefined);
    }
  });

  it('hashes nothing for a read that failed, and leaves memory not yet written zero', async () => {
    const bytes = 9 * 1024 * 1024 + 4 * 1001;
    const buffer = new SharedArrayBuffer(bytes);
    const progress = new UploadProgress(key++, 0, new SharedArrayBuffer(8));
    readAhead({ key: progress.key, buffer, progress: progress.progress, pixels: { width: bytes / 4, height: 1, channels: 4 } });
    const written = pattern(bytes >> 1);
    await arrive(buffer, written, progress, 65536, false);
    // The reader's turns: it has faulted everything in and seen the read fail.
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(takeHashedAhead(progress.key), undefined);
    const view = new Uint8Array(buffer);
    assert.deepEqual(view.subarray(0, written.length), written);
    assert.ok(view.subarray(written.length).every((v) => v === 0));
  });

  it('runs on an idle worker while a big raw upload is read; the id and the stored bytes hash are those of the pixels sent', async () => {
    const running = await startEngine();
    try {
      const pool = running.engine.pool;
      const readAheadOf: number[] = [];
      const decodedSha: (string | undefined)[] = [];
      const originalReadAhead = pool.readAhead.bind(pool);
      pool.readAhead = (buffer, pixels) => {
        readAheadOf.push(buffer.byteLength);
        return originalReadAhead(buffer, pixels);
      };
      const originalDecode = pool.decode.bind(pool);
      pool.decode = async (...args) => {
        const decoded = await originalDecode(...args);
        decodedSha.push(decoded.sha256);
        return decoded;
      };
      const client = running.client();
      await client.connect();
      const [width, height] = [2048, 1600];
      // A worker is read ahead with only when one is idle: the previous upload's plan made ahead may hold one.
      const idleWorker = async (): Promise<void> => {
        for (let waited = 0; waited < 60_000; waited += 20) {
          if (Array.from({ length: pool.size }, (_, i) => pool.load(i) === 0 && !pool.isPreparingAhead(i)).some(Boolean)) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      for (const [seed, channels] of [[1, 3], [2, 4]] as const) {
        await idleWorker();
        const data = pattern(width * height * channels + seed, seed).subarray(seed);
        const put = await client.putPixels({ width, height, channels, data });
        const expected = channels === 3 ? sourceFromRgb({ width, height, channels, data }) : sourceFromRgba({ width, height, channels, data });
        assert.equal(put.image, expected.id, `upload ${seed}: the pixels sent`);
        const sha256 = createHash('sha256').update(data).digest('hex');
        assert.equal(decodedSha.at(-1), sha256, `upload ${seed}: hashed by the worker that read ahead`);
        const stored = await running.engine.cache.get(cacheKey({ image: put.image }), { count: false });
        assert.equal(stored?.files[0]?.sha256, sha256, `upload ${seed}: the stored bytes' hash`);
      }
      assert.deepEqual(readAheadOf, [width * height * 3, width * height * 4]);
    } finally {
      await running.stop();
    }
  });
});
