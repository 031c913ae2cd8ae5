/**
 * End to end on the tiny golden models: an image file in, keyframe PNGs out, through the engine's own
 * CLI entry (main) with --backend paintsundo-single, configured by the environment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { singleFrameOptionsFromEnv } from '../../models/src/backends/register.js';
import { tinyModelsDir } from './tiny-models.js';

const driver = fileURLToPath(new URL('./fixtures/engine-cli-driver.ts', import.meta.url));
const sample = join(fileURLToPath(new URL('../../..', import.meta.url)), 'shared', 'samples', '1.jpg');

test('paints-undo keyframes --backend paintsundo-single writes one PNG per step', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pu-e2e-')), 'frames');
  const r = spawnSync(process.execPath, ['--import', 'tsx', driver, 'keyframes', sample, '--backend', 'paintsundo-single', '--steps', '400,999', '-o', out, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, PAINTS_UNDO_MODELS: tinyModelsDir(), PAINTS_UNDO_DEVICE: 'cpu', PAINTS_UNDO_SF_STEPS: '2', PAINTS_UNDO_SF_SIZE: '64x48', PAINTS_UNDO_PROMPT: '1girl' },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const result = JSON.parse(r.stdout) as { ok: boolean; files: string[] };
  assert.equal(result.ok, true);
  assert.equal(result.files.length, 2);
  for (const file of result.files) {
    assert.ok(existsSync(file), file);
    const meta = await sharp(file).metadata();
    assert.ok(meta.width !== undefined && meta.width > 0);
  }
  assert.match(r.stderr, /CPU/);
});

test('bad environment settings name the variable and what it expects', () => {
  assert.deepEqual(singleFrameOptionsFromEnv({ PAINTS_UNDO_SF_SIZE: '128x64', PAINTS_UNDO_SF_STEPS: '4', PAINTS_UNDO_FUSED_ATTENTION: '0' }), {
    size: { width: 128, height: 64 },
    steps: 4,
    fusedAttention: false,
  });
  assert.throws(
    () => singleFrameOptionsFromEnv({ PAINTS_UNDO_SF_SIZE: '100x7' }),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'INVALID_OPTION' && /PAINTS_UNDO_SF_SIZE/.test(e.message) && /multiples of 8/.test(e.message),
  );
  assert.throws(() => singleFrameOptionsFromEnv({ PAINTS_UNDO_DEVICE: 'tpu' }), /one of auto, cpu, cuda for PAINTS_UNDO_DEVICE/);
});
