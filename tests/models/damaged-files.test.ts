/**
 * Model files that are damaged, forged, in the wrong place or from mismatched models, from an audit of the
 * model loading: each is refused quickly as MODEL_MISSING (exit 5, "fix your model files"), naming the
 * file or the mismatch, never a hang, an out-of-memory crash, an INTERNAL error or a black image passed
 * off as a result, and `models verify` says the same where it can tell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../../models/src/safetensors.js';
import { ClipTextConfigSchema } from '../../models/src/graph/clip-text.js';
import { VaeConfigSchema } from '../../models/src/graph/vae.js';
import { checkWeights, verify } from '../../models/src/verify.js';
import { snapshotFolder } from '../../models/src/manifest.js';
import { sourceFromHeader } from '../../models/src/graph/weights.js';
import { ClipTokenizer } from '../../models/src/tokenizer/clip.js';
import { ClipTextEncoder } from '../../models/src/components.js';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import { createSingleFrameBackend } from '../../models/src/backends/single-frame.js';
import { quietContext } from '../../engine/src/core/backend.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { GOLDEN_DIR } from '../golden/golden.js';
import { tinyModelsDir } from './tiny-models.js';

const dir = mkdtempSync(join(tmpdir(), 'pu-damaged-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file from a header object (written as given) and its data bytes. */
function safetensors(path: string, header: string, data: Buffer | number): void {
  const json = Buffer.from(header);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  if (typeof data === 'number') {
    // Data of that many bytes, as a sparse file: nothing is written.
    writeFileSync(path, Buffer.concat([length, json]));
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, 8 + json.length + data);
    closeSync(fd);
    return;
  }
  writeFileSync(path, Buffer.concat([length, json, data]));
}

const modelMissing = (pattern: RegExp) => (error: unknown): boolean => error instanceof PaintsUndoError && error.code === 'MODEL_MISSING' && pattern.test(error.message);

test('a weights file that is a FIFO or a folder is refused at once (a FIFO would block the open, deaf to Ctrl+C)', () => {
  const fifo = join(dir, 'fifo.safetensors');
  execFileSync('mkfifo', [fifo]);
  const started = performance.now();
  assert.throws(() => readSafetensorsHeader(fifo), modelMissing(/fifo\.safetensors is not a valid safetensors file: it is not a regular file/));
  assert.ok(performance.now() - started < 2000);
  const folder = join(dir, 'folder.safetensors');
  mkdirSync(folder);
  assert.throws(() => readSafetensorsHeader(folder), modelMissing(/it is a folder/));
});

test('forged headers: tensors that share bytes, a tensor named twice, a tensor of gigabytes over a sparse file', () => {
  const overlap = join(dir, 'overlap.safetensors');
  safetensors(overlap, JSON.stringify({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }), Buffer.alloc(24));
  assert.throws(() => readSafetensorsHeader(overlap), modelMissing(/tensors a and b overlap/));
  const twice = join(dir, 'twice.safetensors');
  safetensors(
    twice,
    `{"a":{"dtype":"I8","shape":[999999999999],"data_offsets":[0,999999999999]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`,
    Buffer.alloc(16),
  );
  assert.throws(() => readSafetensorsHeader(twice), modelMissing(/names 1 tensor\(s\) twice/));
  const huge = join(dir, 'huge.safetensors');
  const bytes = 5 * 1024 * 1024 * 1024;
  safetensors(huge, JSON.stringify({ emb: { dtype: 'F32', shape: [bytes / 4], data_offsets: [0, bytes] } }), bytes);
  assert.throws(() => readSafetensorsHeader(huge), modelMissing(/tensor emb claims 5368709120 bytes/));
});

test('config values are bounded and must fit together; a config asking for far more tensors than the file has stops early', () => {
  const clip = JSON.parse(readFileSync(join(GOLDEN_DIR, 'clip_text_sd15', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(ClipTextConfigSchema.safeParse({ ...clip, num_hidden_layers: 100_000_000 }).success, false);
  assert.equal(ClipTextConfigSchema.safeParse({ ...clip, vocab_size: 1_000_000_000 }).success, false);
  const heads = ClipTextConfigSchema.safeParse({ ...clip, hidden_size: 12, num_attention_heads: 5 });
  assert.match(heads.error?.issues[0]?.message ?? '', /divisible by num_attention_heads/);
  const vae = JSON.parse(readFileSync(join(GOLDEN_DIR, 'sd_vae', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.match(VaeConfigSchema.safeParse({ ...vae, norm_num_groups: 5 }).error?.issues[0]?.message ?? '', /divisible by norm_num_groups/);
  // 200 layers (within the bounds) against the tiny file's few: the build stops at 1000 problems, quickly.
  const source = sourceFromHeader(readSafetensorsHeader(join(GOLDEN_DIR, 'clip_text_sd15', 'model.safetensors')), 'text_encoder/model.safetensors');
  const started = performance.now();
  assert.throws(() => checkWeights('clip-text', { ...clip, num_hidden_layers: 200 }, source), modelMissing(/does not match its config\.json \(10\d\d problems\)/));
  assert.ok(performance.now() - started < 5000);
});

test('a tokenizer file that is not JSON, or a vocabulary without its byte tokens, is named as the file that is wrong', () => {
  const models = tinyModelsDir();
  const snapshot = snapshotFolder(models);
  const tokenizer = join(snapshot, 'tokenizer');
  // The tiny snapshot links to the golden folder: a copy of it is damaged instead.
  rmSync(tokenizer);
  cpSync(join(GOLDEN_DIR, 'tokenizer_sd15'), tokenizer, { recursive: true });
  writeFileSync(join(tokenizer, 'vocab.json'), '{"a": ');
  assert.throws(() => ClipTokenizer.fromFolder(tokenizer), modelMissing(/vocab\.json is malformed: it is not JSON/));
  let report = verify(models).snapshot.components.find((c) => c.name === 'tokenizer');
  assert.equal(report?.files.find((f) => f.problems.length > 0)?.file, 'vocab.json');
  writeFileSync(join(tokenizer, 'vocab.json'), '{}');
  assert.throws(() => ClipTokenizer.fromFolder(tokenizer), modelMissing(/fewer than the 256 byte tokens/));
  report = verify(models).snapshot.components.find((c) => c.name === 'tokenizer');
  assert.equal(report?.status, 'wrong');
  rmSync(models, { recursive: true });
});

test('the Hugging Face cache: the revision refs/main names is used, and a dangling link among the snapshots is passed over', () => {
  const models = mkdtempSync(join(tmpdir(), 'pu-hf-'));
  const repo = join(models, 'models--lllyasviel--paints_undo_single_frame');
  mkdirSync(join(repo, 'snapshots', 'abc123'), { recursive: true });
  mkdirSync(join(repo, 'snapshots', 'newer', 'unet'), { recursive: true });
  symlinkSync(join(models, 'nowhere'), join(repo, 'snapshots', 'zzz'));
  const old = new Date(Date.now() - 3600_000);
  utimesSync(join(repo, 'snapshots', 'abc123'), old, old);
  // Without refs/main: the newest folder, never the dangling link.
  assert.equal(snapshotFolder(models), join(repo, 'snapshots', 'newer'));
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), 'abc123\n');
  assert.equal(snapshotFolder(models), join(repo, 'snapshots', 'abc123'));
  assert.doesNotThrow(() => verify(models));
  rmSync(models, { recursive: true });
});

test('a text encoder given token ids past its vocabulary refuses them, naming the mismatch, before onnxruntime looks them up', async () => {
  const runtime = OrtRuntime.start();
  try {
    const folder = join(snapshotFolder(tinyModelsDir()), 'text_encoder');
    const encoder = await ClipTextEncoder.load(runtime, folder, 'cpu');
    const row = (id: number): number[] => [49406, id, ...Array.from({ length: encoder.length - 2 }, () => 49407)];
    await assert.rejects(encoder.encode([row(320), row(encoder.vocabSize)]), modelMissing(/token id 49408, but the text encoder has embeddings for ids 0 to 49407 only/));
    // The same encoder still runs ids it has.
    assert.equal((await encoder.encode([row(320)])).length, encoder.length * encoder.hidden);
    await encoder.release();
  } finally {
    await runtime.dispose();
  }
});

test('weights that hold NaN are refused with what to do, not written out as a black image', async () => {
  const models = tinyModelsDir();
  const unet = join(snapshotFolder(models), 'unet');
  // The tiny snapshot links to the golden folder: a copy of it is damaged instead, every weight NaN.
  const original = realpathSync(unet);
  rmSync(unet);
  cpSync(original, unet, { recursive: true });
  const weights = join(unet, readdirSync(unet).find((f) => f.endsWith('.safetensors')) ?? 'missing.safetensors');
  const bytes = readFileSync(weights);
  const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
  bytes.fill(0xff, dataStart);
  writeFileSync(weights, bytes);
  const backend = createSingleFrameBackend({ modelsDir: models, device: 'cpu', steps: 2, size: { width: 64, height: 48 }, warn: () => undefined });
  try {
    const image = { width: 64, height: 48, channels: 3 as const, data: new Uint8Array(64 * 48 * 3).fill(180) };
    await assert.rejects(
      backend.frame({ source: { id: 'b'.repeat(64), image }, step: 500, seed: 1 }, quietContext()),
      (error: unknown) =>
        error instanceof PaintsUndoError && error.code === 'MODEL_MISSING' && /latents hold NaN values/.test(error.message) && /models verify/.test(error.hint ?? '') && /PAINTS_UNDO_DEVICE=cpu/.test(error.hint ?? ''),
    );
  } finally {
    await backend.dispose();
    rmSync(models, { recursive: true });
  }
});
