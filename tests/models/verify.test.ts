import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatVerifyReport, verify } from '../../models/src/verify.js';
import { defaultModelsDir, resolveModelsDir, snapshotFolder } from '../../models/src/manifest.js';
import { GOLDEN_DIR } from '../golden/golden.js';
import { tinyModelsDir } from './tiny-models.js';

test('a complete (tiny) snapshot verifies as present; the optional tagger is reported missing', () => {
  const dir = tinyModelsDir();
  const report = verify(dir);
  assert.equal(report.ok, true, formatVerifyReport(report).join('\n'));
  assert.deepEqual(report.snapshot.components.map((c) => c.status), ['present', 'present', 'present', 'present']);
  assert.equal(report.tagger.status, 'missing');
  assert.match(formatVerifyReport(report).join('\n'), /The single-frame model is complete/);
});

test('missing and wrong files are named, with the download commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pu-verify-'));
  const unet = join(dir, 'paints_undo_single_frame', 'unet');
  mkdirSync(unet, { recursive: true });
  cpSync(join(GOLDEN_DIR, 'sd_vae'), join(dir, 'paints_undo_single_frame', 'vae'), { recursive: true });
  copyFileSync(join(GOLDEN_DIR, 'sf_unet', 'config.json'), join(unet, 'config.json'));
  // The VAE's weights under the UNet's name: every tensor is wrong or missing.
  copyFileSync(join(GOLDEN_DIR, 'sd_vae', 'diffusion_pytorch_model.safetensors'), join(unet, 'diffusion_pytorch_model.safetensors'));
  const vaeWeights = join(dir, 'paints_undo_single_frame', 'vae', 'diffusion_pytorch_model.safetensors');
  writeFileSync(vaeWeights, readFileSync(vaeWeights).subarray(0, 40000));
  const report = verify(dir);
  assert.equal(report.ok, false);
  const byName = Object.fromEntries(report.snapshot.components.map((c) => [c.name, c]));
  assert.equal(byName.tokenizer?.status, 'missing');
  assert.equal(byName.unet?.status, 'wrong');
  assert.match(byName.unet?.files[1]?.problems.join('\n') ?? '', /missing tensor conv_in\.weight/);
  assert.match(byName.vae?.files[1]?.problems.join('\n') ?? '', /past the end of the file/);
  const text = formatVerifyReport(report).join('\n');
  assert.match(text, /huggingface-cli download lllyasviel\/paints_undo_single_frame --local-dir/);
  assert.match(text, /missing vocab\.json/);
  rmSync(dir, { recursive: true });
});

test('models folder: flag over PAINTS_UNDO_MODELS over the per-user default; HF cache layout found', () => {
  assert.equal(resolveModelsDir('/x/flag', { PAINTS_UNDO_MODELS: '/x/env' }).source, 'flag');
  assert.deepEqual(resolveModelsDir(undefined, { PAINTS_UNDO_MODELS: '/x/env' }), { dir: '/x/env', source: 'env' });
  assert.equal(resolveModelsDir(undefined, { XDG_DATA_HOME: '/x/data' }).dir, defaultModelsDir({ XDG_DATA_HOME: '/x/data' }));
  assert.equal(defaultModelsDir({ XDG_DATA_HOME: '/x/data' }, 'linux'), '/x/data/paints-undo/models');
  const dir = mkdtempSync(join(tmpdir(), 'pu-cache-'));
  const rev = join(dir, 'models--lllyasviel--paints_undo_single_frame', 'snapshots', 'abc123');
  mkdirSync(rev, { recursive: true });
  assert.equal(snapshotFolder(dir), rev);
  rmSync(dir, { recursive: true });
});
