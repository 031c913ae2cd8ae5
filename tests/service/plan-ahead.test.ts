/**
 * Planning ahead: an uploaded image is planned on an idle worker right after `image.put`, so the first
 * frame a client asks for finds its plan in progress and joins it (one plan, never two), and a job that
 * needs the worker for something else takes it: the preparation is cancelled and released.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { quietContext } from '../../engine/src/core/backend.js';
import { DEFAULT_SEED } from '../../engine/src/core/job.js';
import { createClassicBackend } from '../../engine/src/backends/classic/index.js';
import { decodeImageBuffer } from '../../engine/src/io/decode.js';
import { planKey } from '../../engine/src/service/worker-protocol.js';
import { removeDir, smallSample, startEngine } from './helpers.js';

async function inProcessFrame(png: Buffer, step: number, size: number, seed = DEFAULT_SEED): Promise<Buffer> {
  const source = (await decodeImageBuffer(png)).source;
  const backend = createClassicBackend();
  try {
    return Buffer.from((await backend.frame({ source, seed, step, size }, quietContext())).data);
  } finally {
    await backend.dispose();
  }
}

test('an upload is planned ahead; the first frame joins that planning (one plan, with its progress) and has the same pixels', async () => {
  const running = await startEngine({ workers: 2 });
  try {
    const png = await smallSample(384);
    const client = running.client();
    await client.connect();
    const image = (await client.putImage(png)).image;
    const stages = new Set<string>();
    const job = await client.run('frame', { image, step: 500, size: 200 }, (progress) => stages.add(progress.stage));
    const { data } = await sharp(await client.download(job.result!.files[0]!)).raw().toBuffer({ resolveWithObject: true });
    assert.ok(data.equals(await inProcessFrame(png, 500, 200)), 'the frame rendered from the plan made ahead equals the in-process frame');

    const { stats } = await client.call('jobs.list', {});
    assert.equal(stats.plansAhead, 1, 'the upload was planned ahead');
    assert.equal(stats.plansAheadCancelled, 0);
    assert.equal(stats.plansMade, 1, 'the frame joined the planning instead of planning again');
    assert.ok(stages.has('planning'), `the frame reported the planning it waited for (stages: ${[...stages].join(', ')})`);

    // The same image again: its plan is made, nothing is planned ahead twice.
    await client.putImage(png);
    const again = await client.run('frame', { image, step: 300, size: 200 });
    assert.equal(again.state, 'done');
    const after = (await client.call('jobs.list', {})).stats;
    assert.equal(after.plansAhead, 1);
    assert.equal(after.plansMade, 1);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});

test('a plan made ahead gives way to a job that needs its worker: it is cancelled and released, and planned again when asked', async () => {
  const running = await startEngine({ workers: 1 });
  try {
    // At 640 px planning takes most of a second, long after the job below reaches the worker.
    const png = await smallSample(640);
    const client = running.client();
    await client.connect();
    const image = (await client.putImage(png)).image;
    const key = planKey({ backend: 'classic', imageId: image, seed: DEFAULT_SEED });
    assert.equal(running.engine.pool.preparingAhead(key), 0, 'the only worker, idle, plans the upload ahead');

    // Another seed is another plan: this job takes the worker and the plan ahead stops.
    const other = await client.run('frame', { image, step: 999, seed: 7, size: 64 });
    assert.equal(other.state, 'done');
    const stats = (await client.call('jobs.list', {})).stats;
    assert.equal(stats.plansAheadCancelled, 1, 'the plan ahead was cancelled for the job');
    assert.equal(stats.plansMade, 1, 'only the job made a plan');
    assert.equal(running.engine.pool.preparingAhead(key), undefined, 'nothing is planned ahead any more');
    assert.equal(running.engine.pool.planShared(key), false, 'the cancelled plan was not kept');

    // Asked for now, the default plan is made by the job itself (nothing of the cancelled one is waited for).
    const job = await client.run('frame', { image, step: 400, size: 128 });
    assert.equal(job.state, 'done');
    assert.equal((await client.call('jobs.list', {})).stats.plansMade, 2);
  } finally {
    await running.stop();
    await removeDir(running.cacheDir);
  }
});
