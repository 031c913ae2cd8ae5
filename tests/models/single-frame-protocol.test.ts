/**
 * The paintsundo-single backend through the engine service (WebSocket JSON-RPC, worker threads) on the
 * tiny golden models: a keyframes job with progress per sampler step, and a job cancelled mid-sampling.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineClient } from '../../engine/src/client/index.js';
import { EngineError } from '../../engine/src/client/index.js';
import type { JobProgress } from '../../engine/src/client/protocol.js';
import { removeDir, smallSample, startEngine, type Running } from '../service/helpers.js';
import { tinyModelsDir } from './tiny-models.js';

let engine: Running;
let client: EngineClient;
before(async () => {
  // Worker threads take their environment from the process at start-up.
  Object.assign(process.env, {
    PAINTS_UNDO_MODELS: tinyModelsDir(),
    PAINTS_UNDO_DEVICE: 'cpu',
    // Enough steps that a cancel sent at step 1 always lands before the end.
    PAINTS_UNDO_SF_STEPS: '12',
    PAINTS_UNDO_SF_SIZE: '64x48',
    PAINTS_UNDO_PROMPT: '1girl',
  });
  engine = await startEngine({ workers: 1 });
  client = engine.client();
  await client.connect();
});
after(async () => {
  await engine.stop();
  await removeDir(engine.cacheDir);
});

test('keyframes job with backend paintsundo-single: one image per step, progress per sampler step', async () => {
  const { image } = await client.putImage(await smallSample(96));
  const events: JobProgress[] = [];
  const job = await client.run('keyframes', { image, backend: 'paintsundo-single', steps: [400, 999] }, (p) => events.push(p));
  assert.equal(job.state, 'done');
  assert.equal(job.result?.files.length, 2, JSON.stringify(job.result));
  const messages = events.map((e) => e.message ?? '');
  // The service rate-limits progress events (the latest wins), so how many sampler steps arrive depends on
  // the machine's speed; those that do arrive are in order. Every step is checked at the backend level
  // (single-frame-backend.test.ts).
  const steps = messages.map((m) => /^step (\d+) of 12$/.exec(m)?.[1]).filter((v) => v !== undefined).map(Number);
  assert.ok(steps.length >= 1, messages.join(' | '));
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
  const fractions = events.map((e) => e.fraction);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b));
});

test('cancelling a paintsundo-single job between sampler steps', async () => {
  const { image } = await client.putImage(await smallSample(80));
  let sampling = false;
  const handle = await client.submit('keyframes', { image, backend: 'paintsundo-single', steps: [400, 600, 800, 900, 950, 999], seed: 5 }, (p) => {
    // Progress events are rate-limited, so any early sampler step counts (not one particular step).
    if (/^step ([1-9]|10) of 12$/.test(p.message ?? '')) sampling = true;
  });
  for (let i = 0; i < 2400 && !sampling; i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(sampling, 'the model started sampling');
  assert.equal((await handle.cancel()).state, 'cancelled');
  await assert.rejects(handle.done, (e: unknown) => e instanceof EngineError && e.code === 'CANCELLED');
});
