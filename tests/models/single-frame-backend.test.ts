/**
 * The paintsundo-single backend end to end on the tiny golden models (real onnxruntime, CPU): keyframes
 * with progress per sampler step, determinism per seed, cancellation between steps, missing models.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSingleFrameBackend } from '../../models/src/backends/single-frame.js';
import { collectKeyframes, type Progress, type SourceImage } from '../../engine/src/core/backend.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { tinyModelsDir } from './tiny-models.js';

const modelsDir = tinyModelsDir();
const warnings: string[] = [];
const backend = createSingleFrameBackend({
  modelsDir,
  device: 'cpu',
  // The CUDA configuration (fused attention, whole batch per UNet call) on the CPU kernels.
  fusedAttention: true,
  steps: 3,
  size: { width: 64, height: 48 },
  prompt: '1girl, solo',
  warn: (m) => warnings.push(m),
});
after(() => backend.dispose());

function source(): SourceImage {
  const width = 80;
  const height = 60;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = (i * 7) % 256;
    data[i * 3 + 1] = (i * 13) % 256;
    data[i * 3 + 2] = 200;
  }
  return { id: 'a'.repeat(64), image: { width, height, channels: 3, data } };
}

test('keyframes: one image per step at the model size, progress per sampler step, CPU warning', async () => {
  const events: Progress[] = [];
  const frames = await collectKeyframes(backend.keyframes({ source: source(), steps: [400, 999], seed: 7 }, { signal: new AbortController().signal, onProgress: (p) => events.push(p) }));
  assert.deepEqual(frames.map((f) => f.step), [400, 999]);
  for (const f of frames) assert.deepEqual([f.image.width, f.image.height, f.image.data.length], [64, 48, 64 * 48 * 3]);
  assert.deepEqual(events.filter((e) => e.stage === 'sampling').map((e) => e.message), ['step 0 of 3', 'step 1 of 3', 'step 2 of 3', 'step 3 of 3']);
  const fractions = events.map((e) => e.fraction);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b));
  assert.equal(fractions.at(-1), 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /CPU/);
  // Same seed, same frames; the operation step changes the result.
  const again = await backend.frame({ source: source(), step: 400, seed: 7 }, { signal: new AbortController().signal, onProgress: () => undefined });
  assert.ok(Buffer.from(again.data).equals(Buffer.from(frames[0]?.image.data ?? [])));
  assert.ok(!Buffer.from(frames[0]?.image.data ?? []).equals(Buffer.from(frames[1]?.image.data ?? [])));
});

test('cancellation between sampler steps throws CANCELLED and the backend stays usable', async () => {
  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(
    collectKeyframes(backend.keyframes({ source: source(), steps: [600], seed: 1 }, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.message !== undefined) seen.push(p.message);
        if (p.message === 'step 1 of 3') controller.abort();
      },
    })),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'CANCELLED',
  );
  assert.ok(!seen.includes('step 2 of 3'), 'sampling went on after the cancel');
  const frame = await backend.frame({ source: source(), step: 600, seed: 1 }, { signal: new AbortController().signal, onProgress: () => undefined });
  assert.equal(frame.width, 64);
});

test('missing models: MODEL_MISSING naming the files and the verify command', async () => {
  const empty = createSingleFrameBackend({ modelsDir: mkdtempSync(join(tmpdir(), 'pu-empty-')), device: 'cpu', warn: () => undefined });
  try {
    await assert.rejects(
      empty.frame({ source: source(), step: 400, seed: 1 }, { signal: new AbortController().signal, onProgress: () => undefined }),
      (e: unknown) => e instanceof PaintsUndoError && e.code === 'MODEL_MISSING' && /unet\/config\.json/.test(e.message) && /models verify/.test(e.hint ?? ''),
    );
  } finally {
    await empty.dispose();
  }
});

test('operations the model does not offer are UNSUPPORTED with a hint', async () => {
  await assert.rejects(
    backend.layers({ source: source(), seed: 1 }, { signal: new AbortController().signal, onProgress: () => undefined }),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'UNSUPPORTED' && e.hint !== undefined,
  );
  assert.equal(backend.capabilities.keyframes, true);
  // Settings that change pictures change the cache version.
  const other = createSingleFrameBackend({ modelsDir, device: 'cpu', steps: 4, size: { width: 64, height: 48 }, prompt: '1girl, solo' });
  assert.notEqual(other.version, backend.version);
  assert.equal(createSingleFrameBackend({ modelsDir, device: 'cpu', fusedAttention: true, steps: 3, size: { width: 64, height: 48 }, prompt: '1girl, solo' }).version, backend.version);
  await other.dispose();
  assert.equal(backend.capabilities.timelapse, false);
});

test("device 'auto': when CUDA does not start the backend falls back to the CPU with a warning", async () => {
  const notes: string[] = [];
  // CUDA is tried first; on a machine without its provider library (or driver) the session fails to open.
  const auto = createSingleFrameBackend({ modelsDir, autoDevice: () => 'cuda', steps: 1, size: { width: 64, height: 48 }, prompt: '', warn: (m) => notes.push(m) });
  try {
    const versionBefore = auto.version;
    const frame = await auto.frame({ source: source(), step: 999, seed: 3 }, { signal: new AbortController().signal, onProgress: () => undefined });
    assert.equal(frame.width, 64);
    if (notes.some((n) => /CUDA did not start/.test(n))) {
      assert.equal(auto.capabilities.device, 'cpu');
      assert.notEqual(auto.version, versionBefore, 'the cache version follows the device actually used');
      assert.ok(notes.some((n) => /on the CPU/.test(n)));
    } else {
      assert.equal(auto.capabilities.device, 'gpu');
    }
  } finally {
    await auto.dispose();
  }
});
