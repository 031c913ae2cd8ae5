/**
 * Warming up (Backend.warmUp, WorkerPool's `warmUp`): an engine waiting for its first work runs the
 * classic planner and renderer on a picture of its own, keeps nothing of it, and stops as soon as real work
 * comes, which then runs as usual.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPaintsUndoError } from '../../engine/src/core/errors.js';
import { createClassicBackend } from '../../engine/src/backends/classic/index.js';
import { warmUpPicture } from '../../engine/src/backends/classic/warm-up.js';
import { analyse } from '../../engine/src/backends/classic/analyse.js';
import { WorkerPool } from '../../engine/src/service/pool.js';
import { removeDir, smallSample, startEngine } from './helpers.js';

const cancelled = (error: unknown): boolean => isPaintsUndoError(error) && error.code === 'CANCELLED';

test('the warm-up picture has what the line-art recipe works from: lines, flat colour, shading', () => {
  const picture = warmUpPicture();
  const a = analyse(picture);
  assert.equal(a.style, 'lineart', 'detected as line art, like most illustrations');
  assert.ok(a.lineDensity > 0.01, `line pixels: ${a.lineDensity}`);
  assert.ok(a.flatShare > 0.3, `flat colour: ${a.flatShare}`);
});

test('a backend warms up through planning and rendering, keeps nothing, and stops with CANCELLED when asked', async () => {
  const backend = createClassicBackend();
  try {
    const stopped = new AbortController();
    stopped.abort();
    await assert.rejects(backend.warmUp!(stopped.signal), cancelled, 'an aborted signal stops it before it starts');

    // Stopped in the middle: it would resolve if it ran through.
    const midway = new AbortController();
    const running = backend.warmUp!(midway.signal);
    setTimeout(() => midway.abort(), 150);
    await assert.rejects(running, cancelled);

    await backend.warmUp!(new AbortController().signal);
    for (let seed = 0; seed < 8; seed++) assert.equal(backend.exportPlan!('warm-up', seed), undefined, 'no plan of the warm-up picture is kept');
  } finally {
    await backend.dispose();
  }
});

/** Runs `work` on a one-worker pool that warms up, closed afterwards. */
async function withWarmingPool(work: (pool: WorkerPool) => Promise<void>): Promise<void> {
  const pool = new WorkerPool(1, { warmUp: true });
  try {
    await work(pool);
  } finally {
    await pool.close();
  }
}

/** A decode of a small PNG through `pool` (real work), checked. */
async function decodeSmall(pool: WorkerPool): Promise<void> {
  const decoded = await pool.decode(await smallSample(128), {});
  assert.equal(Math.max(decoded.source.image.width, decoded.source.image.height), 128);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a pool with warm-up reports each worker warm, then runs work as usual', () =>
  withWarmingPool(async (pool) => {
    assert.deepEqual(await pool.warmedUp, ['done']);
    await decodeSmall(pool);
  }));

test('describing backends (a client connecting) only pauses the warm-up: it goes on afterwards and ends warm', () =>
  withWarmingPool(async (pool) => {
    await pause(300);
    // The model backends' description awaits module loads and file checks, each a turn of the worker's loop.
    for (const id of ['classic', 'paintsundo-single']) {
      const description = await pool.describe(id).catch(() => undefined);
      if (id === 'classic') assert.equal(description?.id, 'classic');
    }
    assert.deepEqual(await pool.warmedUp, ['done']);
  }));

test('the first real work stops the warm-up, and is done', () =>
  withWarmingPool(async (pool) => {
    // The warm-up of one worker takes seconds; this upload comes well before it could be over.
    await pause(300);
    await decodeSmall(pool);
    assert.deepEqual(await pool.warmedUp, ['stopped']);
  }));

test('an engine without warm-up starts none; one with it gives way to an upload and its first frame', async () => {
  const plain = await startEngine({ workers: 1 });
  try {
    assert.equal(plain.engine.pool.warmedUp, undefined);
  } finally {
    await plain.stop();
    await removeDir(plain.cacheDir);
  }
  const warming = await startEngine({ workers: 2, warmUp: true });
  try {
    const client = warming.client();
    await client.connect();
    const image = (await client.putImage(await smallSample(256))).image;
    const job = await client.run('frame', { image, step: 400, size: 128 });
    assert.equal(job.state, 'done');
    const outcomes = await warming.engine.pool.warmedUp;
    assert.ok(outcomes?.includes('stopped'), `the upload stopped the warm-up: ${String(outcomes)}`);
  } finally {
    await warming.stop();
    await removeDir(warming.cacheDir);
  }
});
