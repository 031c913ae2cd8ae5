/**
 * Frames of one image on several workers: the first job plans the image in one worker, which shares
 * the plan; later frames run on every worker at once and are the same pixels the backend renders in
 * process. The slider's preview size (`size`) is honoured over the protocol.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import extractChunks from 'png-chunks-extract';
import { quietContext } from '../../engine/src/core/backend.js';
import { createClassicBackend } from '../../engine/src/backends/classic/index.js';
import { decodeImageBuffer } from '../../engine/src/io/decode.js';
import { removeDir, smallSample, startEngine } from './helpers.js';

test('frames of one image run on both workers from one shared plan, identical to in-process frames, at the asked size', async () => {
  const running = await startEngine({ workers: 2 });
  const used = new Set<number>();
  const pool = running.engine.pool;
  const run = pool.run.bind(pool);
  pool.run = (index, ...rest) => {
    used.add(index);
    return run(index, ...rest);
  };
  try {
    const png = await smallSample(384);
    const client = running.client();
    await client.connect();
    const image = (await client.putImage(png)).image;
    await client.run('frame', { image, step: 999 });
    used.clear();
    const asks = [{ step: 0 }, { step: 120 }, { step: 480, size: 200 }, { step: 600 }, { step: 720, size: 333 }, { step: 840 }, { step: 910, size: 100 }, { step: 66 }];
    const results = await Promise.all(
      asks.map(async (ask) => {
        const job = await client.run('frame', { image, ...ask });
        const bytes = await client.download(job.result!.files[0]!);
        const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
        return { ask, data, info, deflate: firstDeflateBlockType(bytes) };
      }),
    );
    assert.deepEqual([...used].sort(), [0, 1], 'both workers rendered frames of the image');

    // Frames go through the cache on disk: stored (uncompressed) deflate blocks would write 3 bytes a pixel.
    for (const { ask, deflate } of results) assert.notEqual(deflate, 'stored', `step ${ask.step}: the frame's pixels are compressed`);
    const source = (await decodeImageBuffer(png)).source;
    const backend = createClassicBackend();
    try {
      for (const { ask, data, info } of results) {
        const expected = await backend.frame({ source, seed: 12345, ...ask }, quietContext());
        assert.deepEqual([info.width, info.height], [expected.width, expected.height], `size of step ${ask.step}`);
        if (ask.size !== undefined) assert.equal(Math.max(info.width, info.height), ask.size, 'the preview size is honoured');
        assert.ok(Buffer.from(expected.data).equals(data), `step ${ask.step} at ${ask.size ?? 'full'} size: the same pixels on any worker`);
      }
    } finally {
      await backend.dispose();
    }
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

/** The type of the first deflate block of a PNG's pixel data (RFC 1951 BTYPE, after the 2-byte zlib header). */
function firstDeflateBlockType(png: Uint8Array): 'stored' | 'fixed' | 'dynamic' | 'invalid' {
  const idat = extractChunks(png).find((c) => c.name === 'IDAT');
  assert.ok(idat && idat.data.length > 2, 'the PNG has pixel data');
  return (['stored', 'fixed', 'dynamic', 'invalid'] as const)[(idat.data[2]! >> 1) & 3]!;
}

test('a worker whose small plan cache dropped a plan gets it again from the pool instead of planning again', async () => {
  // One worker: its backend keeps 4 plans; the pool shares all six (they fit its part of the memory budget).
  const running = await startEngine({ workers: 1 });
  try {
    const client = running.client();
    await client.connect();
    const base = await smallSample(128);
    const images: string[] = [];
    for (let i = 0; i < 6; i++) {
      const png = await sharp(base).modulate({ hue: 40 * i + 1 }).png().toBuffer();
      images.push((await client.putImage(png)).image);
    }
    for (const image of images) await client.run('frame', { image, step: 500 });
    const made = running.engine.jobs.stats().plansMade;
    assert.equal(made, 6, 'each image planned once');

    // The worker's backend dropped the first two plans; the pool still shares them.
    for (const image of images.slice(0, 2)) {
      const stages = new Set<string>();
      const job = await client.run('frame', { image, step: 321 }, (progress) => stages.add(progress.stage));
      assert.equal(job.state, 'done');
      assert.ok(!stages.has('planning'), `image ${images.indexOf(image)}: rendered from the shared plan, not planned again (stages: ${[...stages].join(', ')})`);
    }
    assert.equal(running.engine.jobs.stats().plansMade, made, 'no plan was made again');
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});
