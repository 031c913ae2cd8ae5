/** Scheduling over a real server: cancellation mid-job, slider supersession, priorities, shared work. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { EngineClient, Job } from '../../engine/src/client/index.js';
import { EngineError } from '../../engine/src/client/index.js';
import { smallSample, startEngine, removeDir, type Running } from './helpers.js';

let one: Running; // one worker: strict ordering
let two: Running; // two workers: the interactive reserve
let c1: EngineClient;
let c2: EngineClient;
let base: Buffer;

before(async () => {
  [one, two] = await Promise.all([startEngine({ workers: 1 }), startEngine({ workers: 2 })]);
  c1 = one.client();
  c2 = two.client();
  await Promise.all([c1.connect(), c2.connect()]);
  base = await smallSample(128);
});

after(async () => {
  await Promise.all([one.stop(), two.stop()]);
  await Promise.all([removeDir(one.cacheDir), removeDir(two.cacheDir)]);
});

/** A distinct image per call (so no two tests share a plan or a cache entry). */
let variant = 0;
async function upload(client: EngineClient): Promise<string> {
  variant++;
  const img = await sharp(base).modulate({ brightness: 1 + variant * 0.01 }).png().toBuffer();
  return (await client.putImage(img)).image;
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('cancelling a running job stops it inside the backend and leaves nothing in the cache or on disk', async () => {
  const image = await upload(c1);
  const entriesBefore = (await c1.call('cache.stats')).entries;
  let progressSeen = 0;
  const handle = await c1.submit('timelapse', { image, frames: 400, hold: 0, format: 'webm', size: 128 }, () => {
    progressSeen++;
  });
  await waitFor(() => progressSeen > 0, 'the first progress event');
  const cancelled = await handle.cancel();
  assert.equal(cancelled.state, 'cancelled');
  await assert.rejects(handle.done, (e: unknown) => e instanceof EngineError && e.code === 'CANCELLED');
  // The worker lets go (the backend saw the cancel between operations) and its staging folder is removed.
  await waitFor(async () => (await c1.call('jobs.list')).stats.running === 0 && one.engine.pool.load(0) === 0, 'the worker to be free');
  await waitFor(async () => (await readdir(join(one.engine.cache.root, 'staging'))).length === 0, 'staging to be empty');
  const job = await c1.call('jobs.get', { job: handle.job.id });
  assert.equal(job.state, 'cancelled');
  assert.equal(job.result, undefined);
  assert.equal(job.error?.code, 'CANCELLED');
  assert.equal((await c1.call('cache.stats')).entries, entriesBefore);
  // The engine is fine afterwards.
  const frame = await c1.run('frame', { image, step: 10 });
  assert.equal(frame.state, 'done');
});

test('a newer slider request supersedes the same client\'s older unfinished one', async () => {
  const image = await upload(c1);
  const events: Job[] = [];
  const off = c1.on('job.cancelled', (e) => events.push(e.job));
  const first = await c1.submit('frame', { image, step: 100, slider: 'main' });
  const second = await c1.submit('frame', { image, step: 200, slider: 'main' });
  const other = await c1.submit('frame', { image, step: 250, slider: 'other' });
  const third = await c1.submit('frame', { image, step: 300, slider: 'main' });
  await assert.rejects(first.done, (e: unknown) => e instanceof EngineError && e.code === 'CANCELLED');
  await assert.rejects(second.done, (e: unknown) => e instanceof EngineError && e.code === 'CANCELLED');
  const done = await third.done;
  assert.equal(done.result?.files[0]?.step, 300);
  assert.equal((await other.done).state, 'done', 'another slider is not superseded');
  off();
  const byId = new Map(events.map((j) => [j.id, j]));
  assert.equal(byId.get(first.job.id)?.supersededBy, second.job.id);
  assert.equal(byId.get(second.job.id)?.supersededBy, third.job.id);
  assert.ok((await c1.call('jobs.list')).stats.superseded >= 2);
});

test('interactive frames jump ahead of queued batch work', async () => {
  const [a, b, c] = [await upload(c1), await upload(c1), await upload(c1)];
  const batch1 = await c1.submit('keyframes', { image: a, steps: [500, 999] });
  const batch2 = await c1.submit('keyframes', { image: b, steps: [500, 999] });
  const frame = await c1.submit('frame', { image: c, step: 42 });
  const [j1, j2, f] = await Promise.all([batch1.done, batch2.done, frame.done]);
  // The worker takes the next job as soon as the frame is rendered: its cache commit may end a moment later.
  assert.ok(f.startedAt! <= j2.startedAt!, `frame started at ${f.startedAt}, second batch job at ${j2.startedAt}`);
  assert.ok(f.finishedAt! <= j2.finishedAt!, `frame finished at ${f.finishedAt}, second batch job at ${j2.finishedAt}`);
  assert.ok(j1.startedAt! <= f.startedAt!);
});

test('batch jobs leave the last free worker to interactive requests', async () => {
  const [a, b, c] = [await upload(c2), await upload(c2), await upload(c2)];
  const t1 = await c2.submit('timelapse', { image: a, frames: 40, hold: 0, format: 'gif', size: 96 });
  const t2 = await c2.submit('timelapse', { image: b, frames: 40, hold: 0, format: 'gif', size: 96 });
  await waitFor(async () => (await c2.call('jobs.get', { job: t1.job.id })).state === 'running', 'the first batch job to start');
  const frame = await c2.run('frame', { image: c, step: 7 });
  assert.equal(frame.state, 'done');
  const second = await c2.call('jobs.get', { job: t2.job.id });
  // While the first timelapse ran, the second waited rather than take the reserved worker.
  assert.ok(second.state === 'queued' || second.startedAt! >= frame.startedAt!, JSON.stringify(second));
  await Promise.all([t1.done, t2.done]);
});

test('identical requests in flight share one computation', async () => {
  const image = await upload(c2);
  const before = (await c2.call('jobs.list')).stats.computed;
  const other = two.client();
  await other.connect();
  const [x, y] = await Promise.all([c2.run('frame', { image, step: 333 }), other.run('frame', { image, step: 333 })]);
  assert.notEqual(x.id, y.id);
  assert.equal(x.result?.id, y.result?.id);
  assert.equal((await c2.call('jobs.list')).stats.computed, before + 1);
});

test('too many unfinished jobs for one client is refused with TOO_MANY_JOBS', async () => {
  const limited = await startEngine({ workers: 1, limits: { maxQueuedJobsPerClient: 2 } });
  try {
    const c = limited.client();
    await c.connect();
    const img = (await c.putImage(base)).image;
    const a = await c.submit('keyframes', { image: img, steps: [1] });
    const b = await c.submit('keyframes', { image: img, steps: [2] });
    await assert.rejects(c.submit('keyframes', { image: img, steps: [3] }), (e: unknown) => e instanceof EngineError && e.code === 'TOO_MANY_JOBS');
    await Promise.all([a.done, b.done]);
  } finally {
    await limited.stop();
    await removeDir(limited.cacheDir);
  }
});

test('GPU-bound backends run one job at a time, always in worker 0', async () => {
  // The real scheduler, pool, cache and classic backend, with the backend described as GPU-bound.
  const { ResultCache } = await import('../../engine/src/service/cache.js');
  const { WorkerPool } = await import('../../engine/src/service/pool.js');
  const { ImageStore } = await import('../../engine/src/service/images.js');
  const { JobManager } = await import('../../engine/src/service/jobs.js');
  const { tempDir } = await import('./helpers.js');
  const dir = await tempDir('gpu');
  const cache = await ResultCache.open({ dir });
  const pool = new WorkerPool(2);
  try {
    const images = new ImageStore({ cache, pool, limits: {} });
    const finished: string[] = [];
    const manager = new JobManager({
      cache,
      images,
      pool,
      maxUnfinishedPerOwner: 10,
      describeBackend: async (id) => {
        const real = await pool.describe(id);
        return { ...real, capabilities: { ...real.capabilities, device: 'gpu' } };
      },
      emit: (record, event) => {
        if (event === 'job.done' || event === 'job.failed') finished.push(record.id);
      },
    });
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const png = await sharp(base).modulate({ hue: 40 * (i + 1) }).png().toBuffer();
      ids.push((await images.put(png)).image);
    }
    const records = await Promise.all(ids.map((image, i) => manager.submit({ id: 'o' }, { kind: 'frame', image, step: 100 + i, seed: 1, backend: 'classic' })));
    await waitFor(() => finished.length === 3, 'all three jobs');
    assert.ok(records.every((r) => r.state === 'done'), records.map((r) => `${r.state} ${r.error?.message ?? ''}`).join('; '));
    assert.ok(records.every((r) => r.computation?.worker === 0));
    const spans = records.map((r) => [r.startedAt!, r.finishedAt!] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], `jobs overlapped: ${JSON.stringify(spans)}`);
  } finally {
    await pool.close();
    await removeDir(dir);
  }
});
