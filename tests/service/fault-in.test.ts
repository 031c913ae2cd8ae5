/**
 * Fresh memory for a big raw upload is faulted in by an idle worker while the main thread fills it
 * (service/fault-in.ts): touching a page never changes a byte, whether it lands before or after the
 * bytes written there, so the upload arrives intact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAULT_IN_MIN_BYTES, faultIn } from '../../engine/src/service/fault-in.js';
import { sourceFromRgb } from '../../engine/src/io/decode.js';
import { Rng } from '../../engine/src/backends/classic/rng.js';
import { startEngine } from './helpers.js';

/** Noise with runs of zero bytes (a touch compares with 0) and of 0xff. */
function pattern(bytes: number): Uint8Array {
  const rng = new Rng(5);
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    const band = Math.floor(i / 5000) % 3;
    data[i] = band === 0 ? 0 : band === 1 ? 255 : Math.floor(rng.next() * 256);
  }
  return data;
}

describe('faulting memory in', () => {
  it('leaves every byte written before it as it was, and memory not yet written zero', async () => {
    // Not a whole number of pages or slices; the first half written, the rest still fresh.
    const bytes = 9 * 1024 * 1024 + 4 * 1001;
    const buffer = new SharedArrayBuffer(bytes);
    const view = new Uint8Array(buffer);
    const written = pattern(bytes >> 1);
    view.set(written);
    await faultIn(buffer);
    assert.deepEqual(view.subarray(0, written.length), written);
    assert.ok(view.subarray(written.length).every((v) => v === 0));
  });

  it('runs on an idle worker while a big raw upload is read, and the upload arrives intact', async () => {
    const running = await startEngine();
    try {
      const faulted: number[] = [];
      const pool = running.engine.pool;
      const original = pool.faultIn.bind(pool);
      pool.faultIn = (buffer: SharedArrayBuffer): void => {
        faulted.push(buffer.byteLength);
        original(buffer);
      };
      const client = running.client();
      await client.connect();
      const [width, height] = [2048, 1600];
      assert.ok(width * height * 3 >= FAULT_IN_MIN_BYTES, 'big enough to be faulted in');
      for (const seed of [1, 2]) {
        const data = pattern(width * height * 3 + seed).subarray(seed);
        const put = await client.putPixels({ width, height, channels: 3, data });
        assert.equal(put.image, sourceFromRgb({ width, height, channels: 3, data }).id, `upload ${seed}: the pixels sent`);
      }
      assert.deepEqual(faulted, [width * height * 3, width * height * 3]);
    } finally {
      await running.stop();
    }
  });
});
