/**
 * The paintsundo backend through the engine service (WebSocket JSON-RPC, worker threads) on the tiny
 * golden models: a timelapse job with progress through the segments, and a cancelled one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineClient } from '../../engine/src/client/index.js';
import { EngineError } from '../../engine/src/client/index.js';
import type { JobProgress } from '../../engine/src/client/protocol.js';
import { removeDir, smallSample, startEngine, type Running } from '../service/helpers.js';
import { tinyFullModelsDir } from './tiny-models.js';

let engine: Running;
let client: EngineClient;
before(async () => {
  // Worker threads take their environment from the process at start-up.
  Object.assign(process.env, {
    PAINTS_UNDO_MODELS: tinyFullModelsDir(),
    PAINTS_UNDO_DEVICE: 'cpu',
    PAINTS_UNDO_ALLOW_CPU: '1',
    PAINTS_UNDO_SF_STEPS: '2',
    PAINTS_UNDO_SF_SIZE: '64x48',
    PAINTS_UNDO_PROMPT: '1girl',
    PAINTS_UNDO_VIDEO_STEPS: '2',
    PAINTS_UNDO_VIDEO_SIZE: '64x64',
    PAINTS_UNDO_KEYFRAME_STEPS: '999',
  });
  engine = await startEngine({ workers: 1 });
  client = engine.client();
  await client.connect();
});
after(async () => {
  await engine.stop();
  await removeDir(engine.cacheDir);
});

test('timelapse job with backend paintsundo: progress through key frames, sampler steps and frames, a GIF result', async () => {
  const { image } = await client.putImage(await smallSample(96));
  const events: JobProgress[] = [];
  const job = await client.run('timelapse', { image, backend: 'paintsundo', frames: 8, hold: 0, format: 'gif', size: 96 }, (p) => events.push(p));
  assert.equal(job.state, 'done');
  const file = job.result?.files[0];
  assert.ok(file !== undefined && file.mime === 'image/gif' && file.bytes > 0, JSON.stringify(job.result));
  const messages = events.map((e) => e.message ?? '');
  // The job runner forwards the backend's own progress (segments, sampler steps) and counts frames.
  assert.ok(messages.some((m) => /^segment \d of 2, step \d of 2$/.test(m)), messages.join(' | '));
  // Progress events are rate-limited: which frame messages survive varies, but the job ends at 100%.
  assert.ok(messages.some((m) => /^frame \d of 8$/.test(m)), messages.join(' | '));
  assert.equal(events.at(-1)?.fraction, 1);
  const fractions = events.map((e) => e.fraction);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b));
});

test('cancelling a paintsundo timelapse between sampler steps', async () => {
  const { image } = await client.putImage(await smallSample(80));
  let sampling = false;
  const handle = await client.submit('timelapse', { image, backend: 'paintsundo', frames: 8, hold: 0, format: 'gif', size: 80, seed: 77 }, (p) => {
    // Progress events are rate-limited, so any sampler-step message of the video model counts.
    if (/segment \d of 2, step \d/.test(p.message ?? '')) sampling = true;
  });
  for (let i = 0; i < 2400 && !sampling; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(sampling, 'the video model started sampling');
  assert.equal((await handle.cancel()).state, 'cancelled');
  await assert.rejects(handle.done, (e: unknown) => e instanceof EngineError && e.code === 'CANCELLED');
});
