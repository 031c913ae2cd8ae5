/**
 * The worker pool with a real worker thread: a frame job frees its worker for the next job once the
 * frame is rendered, while its PNG is still being encoded and written (see pool.ts acceptsJob).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ResultCache } from '../../engine/src/service/cache.js';
import { ImageStore } from '../../engine/src/service/images.js';
import { JobManager } from '../../engine/src/service/jobs.js';
import { WorkerPool, type RunCallbacks } from '../../engine/src/service/pool.js';
import { removeDir, smallSample, tempDir } from './helpers.js';

test('a frame job frees its worker when the frame is rendered; the job ends when its file is written', async () => {
  const dir = await tempDir('pool');
  const pool = new WorkerPool(1);
  let cache: ResultCache | undefined;
  try {
    cache = await ResultCache.open({ dir: join(dir, 'cache') });
    const images = new ImageStore({ cache, pool, limits: {} });
    const source = await images.get((await images.put(await smallSample(256))).image);
    const staging = join(dir, 'staging');
    await mkdir(staging);
    const seen: string[] = [];
    const ignore = (): void => undefined;
    assert.ok(pool.acceptsJob(0) && !pool.writing(0), 'an idle worker takes jobs');
    const files = await pool.run(0, 'job-1', { kind: 'frame', image: source.id, step: 200, seed: 12345, backend: 'classic' }, [source], staging, {
      onProgress: ignore,
      onPreview: ignore,
      onComputed: () => {
        seen.push(`computed: load ${pool.load(0)}, writing ${pool.writing(0)}, accepts ${pool.acceptsJob(0)}`);
      },
    });
    seen.push(`done: writing ${pool.writing(0)}, accepts ${pool.acceptsJob(0)}`);
    assert.deepEqual(seen, ['computed: load 0, writing true, accepts true', 'done: writing false, accepts true']);
    assert.deepEqual(files.map((f) => f.name), ['frame.png']);
    assert.deepEqual(await readdir(staging), ['frame.png'], 'the file is complete when the job is done');
  } finally {
    await pool.close();
    // Its index is written a moment after each change: written now, it cannot land in the folder being removed.
    await cache?.flush();
    await removeDir(dir);
  }
});

test('an upload is planned ahead only on a worker that writes nothing: planning would hold up the frame being written', async () => {
  const dir = await tempDir('pool-ahead');
  const pool = new WorkerPool(1);
  let cache: ResultCache | undefined;
  try {
    cache = await ResultCache.open({ dir });
    const images = new ImageStore({ cache, pool, limits: {} });
    const manager = new JobManager({ cache, images, pool, maxUnfinishedPerOwner: 10, describeBackend: (id) => pool.describe(id), emit: () => undefined });
    const png = await smallSample(256);
    const first = await images.get((await images.put(png)).image);
    const second = await images.get((await images.put(await sharp(png).negate().png().toBuffer())).image);
    const aheads: string[] = [];
    const prepareAhead = pool.prepareAhead.bind(pool);
    pool.prepareAhead = (index, id, backend, source, seed) => {
      aheads.push(source.id);
      return prepareAhead(index, id, backend, source, seed);
    };
    // While the frame's file is written (its worker free, but writing), the second upload arrives.
    let writing = false;
    const run = pool.run.bind(pool);
    pool.run = (index, id, input, sources, staging, callbacks: RunCallbacks) =>
      run(index, id, input, sources, staging, {
        ...callbacks,
        onComputed: () => {
          writing = pool.writing(index);
          manager.prepareAhead(second);
          callbacks.onComputed?.();
        },
      });
    const job = await manager.submit({ id: 'o' }, { kind: 'frame', image: first.id, step: 300, seed: 12345, backend: 'classic' });
    for (let i = 0; i < 600 && job.state !== 'done'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(job.state, 'done');
    assert.ok(writing, 'the upload came while the frame was being written');
    assert.deepEqual(aheads, [], 'no planning started on the writing worker');
    manager.prepareAhead(second);
    assert.deepEqual(aheads, [second.id], 'planned ahead once the worker writes nothing');
  } finally {
    await pool.close();
    // Its index is written a moment after each change: written now, it cannot land in the folder being removed.
    await cache?.flush();
    await removeDir(dir);
  }
});
