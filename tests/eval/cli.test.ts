import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { METRICS } from '../../engine/src/eval/metrics.js';
import { BIN, ROOT, ensureBuilt } from '../cli/build.js';

let folder: string;
let sheets: string;

before(async () => {
  ensureBuilt();
  folder = await mkdtemp(join(tmpdir(), 'paints-undo-eval-cli-'));
  sheets = join(folder, 'sheets');
  // A small illustration: outlined coloured shapes on white.
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="200"><rect width="160" height="200" fill="#fff"/>
    <circle cx="80" cy="80" r="50" fill="#f0b070" stroke="#000" stroke-width="4"/>
    <rect x="30" y="130" width="100" height="50" fill="#5080d0" stroke="#000" stroke-width="4"/></svg>`;
  await writeFile(join(folder, 'a-shapes.png'), await sharp(Buffer.from(svg)).png().toBuffer());
  // Truncated: a PNG signature and nothing else.
  await writeFile(join(folder, 'b-broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]));
});

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('eval reports every image as JSON, a bad image as its own failed row', () => {
  const r = run('eval', folder, '--json', '--size', '128', '--sheet', sheets, '--sheet-frames', '4');
  const report = JSON.parse(r.stdout) as {
    ok: boolean;
    pass: boolean;
    images: { file: string; checks: { id: string; pass: boolean }[]; error?: { code: string }; sheet?: string; width?: number; height?: number }[];
    totals: { id: string }[];
  };
  assert.equal(report.ok, true);
  assert.equal(report.images.length, 2);
  const [good, broken] = report.images;
  assert.ok(good && broken);
  // Every metric of the list, in table order.
  assert.deepEqual(
    good.checks.map((c) => c.id),
    METRICS.map((m) => m.id),
  );
  assert.ok(METRICS.length >= 10);
  assert.equal(Math.max(good.width ?? 0, good.height ?? 0), 128);
  assert.ok(good.sheet && existsSync(good.sheet), 'contact sheet written');
  assert.match(broken.error?.code ?? '', /^INPUT_/);
  assert.equal(report.pass, false);
  assert.equal(report.totals.length, METRICS.length);
  assert.equal(r.status, 1, r.stderr);
});

// The eval action sets process.exitCode (EVAL_FAILED_EXIT); main.ts returns it.
test('eval exits 1 when an image misses a threshold or cannot be read', () => {
  const r = run('eval', join(folder, 'b-broken.png'), '--json');
  assert.equal((JSON.parse(r.stdout) as { pass: boolean }).pass, false);
  assert.equal(r.status, 1, r.stderr);
});

test('eval prints tables and a verdict without --json', () => {
  const r = run('eval', join(folder, 'a-shapes.png'), '--size', '128');
  assert.match(r.stdout, /a-shapes\.png {2}102x128/);
  assert.match(r.stdout, /max error at step 0 \(levels\)\s+0\s+<= 1\s+pass/);
  assert.match(r.stdout, /^(PASS: 1 image|FAIL: 1 of 1 image)/m);
  assert.equal(r.status, /^PASS/m.test(r.stdout) ? 0 : 1);
});

test('eval refuses a missing folder and bad options with the usual codes, no stack trace', () => {
  const missing = run('eval', join(folder, 'nope'));
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /INPUT_NOT_FOUND/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
  const bad = run('eval', folder, '--seed', 'abc', '--json');
  assert.equal(bad.status, 2);
  const error = JSON.parse(bad.stdout) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(error.error.code, 'INVALID_OPTION');
  assert.match(error.error.message, /seed/);
});

test('eval --help points at METRICS.md and explains exit code 1', () => {
  const r = run('eval', '--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /METRICS\.md/);
  assert.match(r.stdout, /Exit code 1/);
});
