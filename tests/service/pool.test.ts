/**
 * The worker pool with a real worker thread: a frame job frees its worker for the next job once the
 * frame is rendered, while its PNG is still being encoded and written (see pool.ts acceptsJob).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ResultCache } from '../../engine/src/service/cache.js';
import { ImageStore } from '../../engine/src/service/images.js';
import { WorkerPool } from '../../engine/src/service/pool.js';
import { removeDir, smallSample, tempDir } from './helpers.js';

test('a frame job frees its worker when the frame is rendered; the job ends when its file is written', async () => {
  const dir = await tempDir('pool');
  const pool = new WorkerPool(1);
  try {
    const images = new ImageStore({ cache: await ResultCache.open({ dir: join(dir, 'cache') }), pool, limits: {} });
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
    await removeDir(dir);
  }
});
