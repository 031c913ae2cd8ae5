import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyModelsDir } from './tiny-models.js';

const driver = fileURLToPath(new URL('./fixtures/cli-driver.ts', import.meta.url));

function run(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', driver, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('models verify <dir> on a complete snapshot: exit 0, JSON report', () => {
  const r = run(['models', 'verify', tinyModelsDir(), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; report: { ok: boolean } };
  assert.equal(out.ok, true);
  assert.equal(out.report.ok, true);
});

test('models verify with PAINTS_UNDO_MODELS on an empty folder: report, download commands, MODEL_MISSING', () => {
  const empty = mkdtempSync(join(tmpdir(), 'pu-cli-'));
  const r = run(['models', 'verify'], { PAINTS_UNDO_MODELS: empty });
  assert.equal(r.code, 5);
  assert.match(r.stdout, new RegExp(`Models folder: ${empty}`));
  assert.match(r.stdout, /missing vocab\.json/);
  assert.match(r.stdout, /huggingface-cli download lllyasviel\/paints_undo_single_frame/);
  assert.match(r.stderr, /"code":"MODEL_MISSING"/);
});

test('doctor reports GPU, onnxruntime providers and models, with advice', () => {
  const r = run(['doctor', '--models', tinyModelsDir(), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { report: { onnxruntime: { backends?: string[] }; models: { source: string; report: { ok: boolean } }; advice: string[] } };
  assert.ok(out.report.onnxruntime.backends?.includes('cpu'));
  assert.equal(out.report.models.source, 'flag');
  assert.equal(out.report.models.report.ok, true);
  assert.ok(Array.isArray(out.report.advice));
});
