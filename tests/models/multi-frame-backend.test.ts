/**
 * The paintsundo backend end to end on the tiny golden models (real onnxruntime, CPU): single-frame key
 * frames, the video model between each pair, drawing order, resampling, progress, cancellation, the CPU
 * refusal with its estimate, missing models, and interpolation between two user images.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Progress, SourceImage } from '../../engine/src/core/backend.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import type { RgbImage } from '../../engine/src/core/image.js';
import { createPaintsUndoBackend, resampleIndex } from '../../models/src/multi-frame/backend.js';
import type { PaintsUndoBackendOptions } from '../../models/src/multi-frame/backend.js';
import { unet3dFlops } from '../../models/src/multi-frame/flops.js';
import { Unet3dConfigSchema } from '../../models/src/multi-frame/unet3d.js';
import { GOLDEN_DIR } from '../golden/golden.js';
import { tinyFullModelsDir } from './tiny-models.js';

const modelsDir = tinyFullModelsDir();
const TINY: PaintsUndoBackendOptions = {
  modelsDir,
  device: 'cpu',
  allowCpu: true,
  steps: 2,
  keyframeSteps: [999],
  bucket: [64, 64],
  singleFrame: { steps: 2, size: { width: 64, height: 48 }, prompt: '1girl' },
  warn: () => undefined,
};
const backend = createPaintsUndoBackend(TINY);
after(() => backend.dispose());

function source(width = 90, height = 50): SourceImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set([(i * 7) % 256, (i * 3) % 256, 180], i * 3);
  return { id: 'b'.repeat(64), image: { width, height, channels: 3, data } };
}

async function collect(iterable: AsyncIterable<RgbImage>): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for await (const frame of iterable) out.push(frame);
  return out;
}

const same = (a: RgbImage | undefined, b: RgbImage | undefined): boolean => a !== undefined && b !== undefined && Buffer.from(a.data).equals(Buffer.from(b.data));

test('timelapse: key frames, segments of 15 new frames + the blank end, drawing order, undo reversed and resampled', async () => {
  const events: Progress[] = [];
  // Input -> 999 -> white: 2 segments x 15 + 1 = 31 process frames; asking for 31 takes every one.
  const draw = await collect(backend.timelapse({ source: source(), seed: 5, frames: 31, direction: 'draw' }, { signal: new AbortController().signal, onProgress: (p) => events.push(p) }));
  assert.equal(draw.length, 31);
  for (const f of draw) assert.deepEqual([f.width, f.height, f.data.length], [90, 50, 90 * 50 * 3]);
  const messages = events.map((e) => e.message ?? '');
  assert.ok(messages.includes('segment 1 of 2, step 1 of 2'));
  assert.ok(messages.includes('segment 2 of 2, step 2 of 2'));
  assert.ok(events.some((e) => e.stage.startsWith('keyframes')));
  const fractions = events.map((e) => e.fraction);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), 'progress never goes back');
  assert.equal(fractions.at(-1), 1);
  assert.ok(!same(draw[0], draw[30]));

  // Same seed, undo direction, 16 frames: the drawing sequence reversed, then resampled (ends included).
  assert.deepEqual(
    Array.from({ length: 5 }, (_, j) => resampleIndex(j, 5, 31)),
    [0, 8, 15, 23, 30],
  );
  const undo = await collect(backend.timelapse({ source: source(), seed: 5, frames: 16, direction: 'undo' }, { signal: new AbortController().signal, onProgress: () => undefined }));
  assert.equal(undo.length, 16);
  undo.forEach((frame, j) => {
    const k = 30 - resampleIndex(j, 16, 31);
    assert.ok(same(frame, draw[k]), `undo frame ${j} is draw frame ${k}`);
  });
});

test('cancellation between sampler steps stops the timelapse with CANCELLED', async () => {
  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(
    collect(
      backend.timelapse({ source: source(), seed: 9, frames: 10, direction: 'draw' }, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.message !== undefined) seen.push(p.message);
          if (p.message === 'segment 1 of 2, step 1 of 2') controller.abort();
        },
      }),
    ),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'CANCELLED',
  );
  assert.ok(!seen.includes('segment 1 of 2, step 2 of 2'), 'sampling went on after the cancel');
});

test('interpolate: frames between two user images, at the size of the later one', async () => {
  const from = source(70, 40);
  const to = { ...source(), id: 'c'.repeat(64) };
  const frames = await backend.interpolate({ from, to, frames: 6, seed: 3 }, { signal: new AbortController().signal, onProgress: () => undefined });
  assert.equal(frames.length, 6);
  for (const f of frames) assert.deepEqual([f.width, f.height], [90, 50]);
});

test('on the CPU without the override it refuses with a time estimate and the way out', async () => {
  const refusing = createPaintsUndoBackend({ ...TINY, allowCpu: false });
  try {
    await assert.rejects(
      collect(refusing.timelapse({ source: source(), seed: 1, frames: 10, direction: 'draw' }, { signal: new AbortController().signal, onProgress: () => undefined })),
      (e: unknown) =>
        e instanceof PaintsUndoError && e.code === 'UNSUPPORTED' && /will take about .*; use --backend classic or a GPU/.test(e.message) && /PAINTS_UNDO_ALLOW_CPU=1/.test(e.hint ?? ''),
    );
  } finally {
    await refusing.dispose();
  }
  // The real (inferred) 3D UNet at 320x512 x 16 frames: ~12.6 TFLOP per forward, hours on a CPU.
  const real = Unet3dConfigSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, 'keys', 'mf_unet.json'), 'utf8')).config);
  const flops = unet3dFlops(real, { batch: 1, frames: 16, latentHeight: 40, latentWidth: 64, textTokens: 77, imageTokens: 16 });
  assert.ok(flops > 10e12 && flops < 16e12, `${flops / 1e12} TFLOP`);
});

test('missing video model: MODEL_MISSING naming the files, the verify command and the download', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pu-mf-empty-'));
  const empty = createPaintsUndoBackend({ modelsDir: dir, device: 'cpu', allowCpu: true, warn: () => undefined });
  try {
    await assert.rejects(
      collect(empty.timelapse({ source: source(), seed: 1, frames: 10, direction: 'draw' }, { signal: new AbortController().signal, onProgress: () => undefined })),
      (e: unknown) =>
        e instanceof PaintsUndoError &&
        e.code === 'MODEL_MISSING' &&
        /unet\/model\.safetensors/.test(e.message) &&
        /models verify/.test(e.hint ?? '') &&
        /huggingface-cli download lllyasviel\/paints_undo_multi_frame/.test(e.hint ?? ''),
    );
  } finally {
    await empty.dispose();
  }
});

test('models verify: the multi-frame snapshot is reported file by file, with its download command', async () => {
  const { verify, formatVerifyReport } = await import('../../models/src/verify.js');
  const complete = verify(modelsDir);
  assert.equal(complete.multiFrame?.ok, true, formatVerifyReport(complete).join('\n'));
  assert.deepEqual(complete.multiFrame?.components.map((c) => c.name), ['tokenizer', 'text_encoder', 'image_encoder', 'vae', 'image_projection', 'unet']);
  assert.match(formatVerifyReport(complete).join('\n'), /The multi-frame model is complete/);

  // A copy whose VAE holds the projection's weights and whose UNet folder is empty.
  const dir = mkdtempSync(join(tmpdir(), 'pu-mf-verify-'));
  const root = join(dir, 'paints_undo_multi_frame');
  mkdirSync(root);
  for (const sub of ['tokenizer', 'text_encoder', 'image_encoder', 'image_projection']) {
    symlinkSync(join(modelsDir, 'paints_undo_multi_frame', sub), join(root, sub));
  }
  mkdirSync(join(root, 'vae'));
  mkdirSync(join(root, 'unet'));
  symlinkSync(join(GOLDEN_DIR, 'mf_vae', 'config.json'), join(root, 'vae', 'config.json'));
  symlinkSync(join(GOLDEN_DIR, 'mf_projection', 'model.safetensors'), join(root, 'vae', 'model.safetensors'));
  const report = verify(dir).multiFrame;
  assert.ok(report);
  assert.equal(report.ok, false);
  const byName = Object.fromEntries(report.components.map((c) => [c.name, c]));
  assert.equal(byName.unet?.status, 'missing');
  assert.deepEqual(byName.unet?.files.map((f) => f.status), ['missing', 'missing']);
  assert.equal(byName.vae?.status, 'wrong');
  assert.match(byName.vae?.files[1]?.problems.join('\n') ?? '', /missing tensor encoder\.conv_in\.weight/);
  assert.match(byName.vae?.files[1]?.problems.join('\n') ?? '', /unexpected tensor latents/);
  assert.equal(byName.image_encoder?.status, 'present');
  assert.match(formatVerifyReport(verify(dir)).join('\n'), /huggingface-cli download lllyasviel\/paints_undo_multi_frame --local-dir/);
});

test('the version (part of every cache key) changes with the picture-changing settings', async () => {
  const other = createPaintsUndoBackend({ ...TINY, steps: 3 });
  const sfOther = createPaintsUndoBackend({ ...TINY, singleFrame: { ...TINY.singleFrame, steps: 3 } });
  const same = createPaintsUndoBackend(TINY);
  try {
    assert.notEqual(other.version, backend.version);
    assert.notEqual(sfOther.version, backend.version);
    assert.equal(same.version, backend.version);
    assert.match(backend.version, /^paintsundo-1\+[0-9a-f]{12}$/);
  } finally {
    await Promise.all([other.dispose(), sfOther.dispose(), same.dispose()]);
  }
});
