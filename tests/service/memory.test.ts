/**
 * One memory budget for the whole engine (core/memory.ts, `--memory`): full-size frames of an image on
 * both workers leave each worker a warm renderer; together they hold more than the renderers' half of
 * the budget, so the idle worker used least recently gives its back. Frames asked for afterwards are
 * still the pixels the backend renders in process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { quietContext } from '../../engine/src/core/backend.js';
import { createClassicBackend } from '../../engine/src/backends/classic/index.js';
import { decodeImageBuffer } from '../../engine/src/io/decode.js';
import { defaultMemoryBytes } from '../../engine/src/service/engine.js';
import { removeDir, smallSample, startEngine } from './helpers.js';

const MIB = 1024 * 1024;

test('by default the engine keeps a quarter of the memory it may use, from 512 MiB to 2 GiB', () => {
  assert.equal(defaultMemoryBytes(1024 * MIB), 512 * MIB, 'a 1 GiB container: the floor');
  assert.equal(defaultMemoryBytes(4096 * MIB), 1024 * MIB);
  assert.equal(defaultMemoryBytes(24 * 1024 * MIB), 2048 * MIB, 'a 24 GiB machine: the ceiling');
  assert.ok(defaultMemoryBytes() >= 512 * MIB && defaultMemoryBytes() <= 2048 * MIB, 'this machine');
});

test('warm renderers of all workers together stay within the engine memory budget', async () => {
  const png = await smallSample(384);
  const { width, height } = await sharp(png).metadata();
  // A full-size renderer holds width x height x (4 x layers + 9) bytes, 5 or 6 layers (classic/views.ts):
  // the renderers' half of this budget holds one of them, never two.
  const renderer6 = width! * height! * (4 * 6 + 9);
  const memoryBytes = 3 * renderer6;
  const running = await startEngine({ workers: 2, memoryBytes });
  const pool = running.engine.pool;
  const used = new Set<number>();
  const run = pool.run.bind(pool);
  pool.run = (index, ...rest) => {
    used.add(index);
    return run(index, ...rest);
  };
  try {
    assert.equal(pool.memory.budgetBytes, memoryBytes / 2, 'the workers get half the budget');
    const client = running.client();
    await client.connect();
    const image = (await client.putImage(png)).image;
    await client.run('frame', { image, step: 999 });
    used.clear();
    // Once the plan is shared, full-size frames run on both workers at once; each makes its renderer.
    const steps = [0, 150, 300, 450, 600, 750, 900, 60];
    const frames = await Promise.all(
      steps.map(async (step) => {
        const job = await client.run('frame', { image, step });
        return { step, png: await client.download(job.result!.files[0]!) };
      }),
    );
    assert.deepEqual([...used].sort(), [0, 1], 'both workers rendered full-size frames');

    const deadline = Date.now() + 10_000;
    while (pool.memory.total() > pool.memory.budgetBytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const held = [pool.memory.held(0), pool.memory.held(1)];
    assert.ok(pool.memory.total() <= pool.memory.budgetBytes, `the idle workers released what was over the budget (they hold ${held.join(' + ')} bytes, the budget is ${pool.memory.budgetBytes})`);
    assert.ok(pool.memory.total() > 0, 'the renderer used last stays warm');

    // Frames after the release: from the renderer kept, or one made again.
    const later = await Promise.all(
      [10, 500, 980].map(async (step) => {
        const job = await client.run('frame', { image, step });
        return { step, png: await client.download(job.result!.files[0]!) };
      }),
    );
    const source = (await decodeImageBuffer(png)).source;
    const backend = createClassicBackend();
    try {
      for (const frame of [...frames, ...later]) {
        const expected = await backend.frame({ source, seed: 12345, step: frame.step }, quietContext());
        const { data } = await sharp(frame.png).raw().toBuffer({ resolveWithObject: true });
        assert.ok(Buffer.from(expected.data).equals(data), `step ${frame.step}: the same pixels as in process`);
      }
    } finally {
      await backend.dispose();
    }
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});
