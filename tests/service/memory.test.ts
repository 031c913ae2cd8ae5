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
import { planKey } from '../../engine/src/service/worker-protocol.js';
import type { EngineClient } from '../../engine/src/client/client.js';
import type { WorkerPool } from '../../engine/src/service/pool.js';
import { removeDir, smallSample, startEngine, type Running } from './helpers.js';

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

/** The bytes the pool's shared plan of a frame of this PNG counts in the memory budget, measured in process. */
async function sharedPlanBytes(png: Buffer): Promise<number> {
  const source = (await decodeImageBuffer(png)).source;
  const backend = createClassicBackend();
  try {
    await backend.frame({ source, seed: 12345, step: 500 }, quietContext());
    return backend.exportPlan!(source.id, 12345)!.bytes;
  } finally {
    await backend.dispose();
  }
}

test('shared plans count in the memory budget: beyond their share the least recently used go, from the workers too', async () => {
  const base = await smallSample(128);
  const pngs = await Promise.all([0, 1, 2, 3, 4].map((i) => sharp(base).modulate({ hue: 40 * i + 1 }).png().toBuffer()));
  const planBytes = await sharedPlanBytes(pngs[0]!);
  // Plans may hold half of the workers' half of the budget: room for two and a half of these plans.
  const memoryBytes = 10 * planBytes;
  // One worker: its backend keeps the last 4 plans (images 1-4) unless the pool tells it to drop them.
  const running = await startEngine({ workers: 1, memoryBytes });
  const pool = running.engine.pool;
  try {
    const client = running.client();
    await client.connect();
    const images: string[] = [];
    for (const png of pngs) images.push((await client.putImage(png)).image);
    for (const image of images) assert.equal((await client.run('frame', { image, step: 500 })).state, 'done');
    assert.equal(pool.plansMade, 5);

    const shared = images.map((image) => pool.planShared(planKey({ backend: 'classic', imageId: image, seed: 12345 })));
    assert.deepEqual(shared, [false, false, false, true, true], 'the plans used last are shared, the older ones dropped');
    const planSlot = pool.memory.held(pool.size);
    assert.ok(planSlot > 0 && planSlot <= memoryBytes / 4, `the shared plans count ${planSlot} bytes, within their share of ${memoryBytes / 4}`);

    // The worker dropped image 2's plan when the pool did (its own cache would have kept it): it plans
    // again. (Progress events are rate-limited, so a 128 px plan may pass without a "planning" event: the
    // pool's count is the evidence.)
    const job = await client.run('frame', { image: images[2]!, step: 321 });
    assert.equal(job.state, 'done');
    assert.equal(pool.plansMade, 6, 'planned again');
    assert.ok(pool.planShared(planKey({ backend: 'classic', imageId: images[2]!, seed: 12345 })), 'and shared again, as the plan used last');
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

/**
 * Two versions (two hues) of the sample at `long` px as PNGs, and a one-worker engine whose image store
 * (half the budget) holds one of them in memory, not two; `work` gets them with a connected client.
 */
async function withStoreForOne(
  long: number,
  work: (context: { running: Running; client: EngineClient; pool: WorkerPool; first: Buffer; second: Buffer }) => Promise<void>,
): Promise<void> {
  const base = await smallSample(long);
  const [first, second] = await Promise.all([1, 120].map((hue) => sharp(base).modulate({ hue }).png().toBuffer()));
  const { width, height } = await sharp(base).metadata();
  const running = await startEngine({ workers: 1, memoryBytes: 3 * width! * height! * 3 });
  try {
    const client = running.client();
    await client.connect();
    await work({ running, client, pool: running.engine.pool, first: first!, second: second! });
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
}

test("an image's plans leave memory with the image: a plan never keeps pixels the image store let go", async () => {
  await withStoreForOne(256, async ({ client, pool, first, second }) => {
    const a = (await client.putImage(first)).image;
    await client.run('frame', { image: a, step: 500 });
    const keyA = planKey({ backend: 'classic', imageId: a, seed: 12345 });
    assert.ok(pool.planShared(keyA), "the first image's plan is shared");

    const b = (await client.putImage(second)).image;
    assert.ok(!pool.planShared(keyA), "once the second image pushed the first out of the store's memory, the first image's plan is gone");
    await client.run('frame', { image: b, step: 500 });
    const keyB = planKey({ backend: 'classic', imageId: b, seed: 12345 });
    assert.ok(pool.planShared(keyB));

    // The first image still renders (a step not in the result cache): read back from the cache folder,
    // pushing the second out, and planned again.
    const made = pool.plansMade;
    assert.equal((await client.run('frame', { image: a, step: 321 })).state, 'done');
    assert.equal(pool.plansMade, made + 1);
    assert.ok(pool.planShared(keyA) && !pool.planShared(keyB), "the second image's plan left with it");
  });
});

test('a plan whose image left memory while it was being made is not shared', async () => {
  await withStoreForOne(768, async ({ running, client, pool, first, second }) => {
    // The first image is planned ahead on the worker as soon as it is stored; the second arrives meanwhile.
    const a = (await client.putImage(first)).image;
    await client.putImage(second);
    assert.equal(running.engine.jobs.stats().plansAhead, 1, 'the first image was being planned ahead');
    assert.equal(pool.plansMade, 0, 'and its plan was not made yet when the second image pushed it out of memory');
    const deadline = Date.now() + 20_000;
    while (pool.plansMade === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.plansMade, 1, 'the plan was made');
    assert.ok(!pool.planShared(planKey({ backend: 'classic', imageId: a, seed: 12345 })), 'but not shared: its image is no longer in memory');
  });
});
