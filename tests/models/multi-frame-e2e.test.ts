/**
 * End to end on the tiny golden models: an image file in, a timelapse video out, through the engine's own
 * CLI entry (main) with --backend paintsundo, configured by the environment; and the CPU refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { multiFrameOptionsFromEnv } from '../../models/src/multi-frame/env.js';
import { tinyFullModelsDir } from './tiny-models.js';

const driver = fileURLToPath(new URL('./fixtures/engine-cli-driver.ts', import.meta.url));
const sample = join(fileURLToPath(new URL('../../..', import.meta.url)), 'shared', 'samples', '1.jpg');

const TINY_ENV = {
  PAINTS_UNDO_DEVICE: 'cpu',
  PAINTS_UNDO_SF_STEPS: '2',
  PAINTS_UNDO_SF_SIZE: '64x48',
  PAINTS_UNDO_PROMPT: '1girl',
  PAINTS_UNDO_VIDEO_STEPS: '2',
  PAINTS_UNDO_VIDEO_SIZE: '64x64',
  PAINTS_UNDO_KEYFRAME_STEPS: '999',
};

function ffprobe(file: string): { width: number; height: number; frames: number } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' });
  const stream = (JSON.parse(r.stdout) as { streams: { width: number; height: number; nb_read_frames: string }[] }).streams[0];
  assert.ok(stream, r.stderr);
  return { width: stream.width, height: stream.height, frames: Number(stream.nb_read_frames) };
}

test('paints-undo timelapse --backend paintsundo writes the video (key frames + video model)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pu-mf-out-')), 'process.mp4');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', driver, 'timelapse', sample, '--backend', 'paintsundo', '-o', out, '--frames', '12', '--fps', '6', '--hold', '0.5', '--size', '160', '--json'],
    { encoding: 'utf8', env: { ...process.env, ...TINY_ENV, PAINTS_UNDO_MODELS: tinyFullModelsDir(), PAINTS_UNDO_ALLOW_CPU: '1' } },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const result = JSON.parse(r.stdout) as { ok: boolean; files: string[] };
  assert.equal(result.ok, true);
  assert.ok(existsSync(out));
  const probe = ffprobe(out);
  // 12 process frames + 0.5 s hold at 6 fps.
  assert.equal(probe.frames, 15);
  assert.equal(Math.max(probe.width, probe.height), 160);
});

test('on the CPU without PAINTS_UNDO_ALLOW_CPU the CLI refuses with the estimate and what to do', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pu-mf-out-')), 'process.mp4');
  const r = spawnSync(process.execPath, ['--import', 'tsx', driver, 'timelapse', sample, '--backend', 'paintsundo', '-o', out, '--frames', '12', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, ...TINY_ENV, PAINTS_UNDO_MODELS: tinyFullModelsDir(), PAINTS_UNDO_ALLOW_CPU: '0' },
  });
  assert.notEqual(r.status, 0);
  const text = `${r.stdout}\n${r.stderr}`;
  assert.match(text, /UNSUPPORTED/);
  assert.match(text, /use --backend classic or a GPU/);
  assert.match(text, /PAINTS_UNDO_ALLOW_CPU=1/);
  assert.ok(!existsSync(out));
});

test('bad video settings name the variable and what it expects', () => {
  assert.deepEqual(multiFrameOptionsFromEnv({ PAINTS_UNDO_VIDEO_SIZE: '512x320', PAINTS_UNDO_VIDEO_STEPS: '25', PAINTS_UNDO_KEYFRAME_STEPS: '400,999', PAINTS_UNDO_ALLOW_CPU: '1' }), {
    steps: 25,
    bucket: [320, 512],
    keyframeSteps: [400, 999],
    allowCpu: true,
  });
  assert.throws(
    () => multiFrameOptionsFromEnv({ PAINTS_UNDO_VIDEO_SIZE: '500x320' }),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'INVALID_OPTION' && /PAINTS_UNDO_VIDEO_SIZE/.test(e.message) && /multiples of 64/.test(e.message),
  );
  assert.throws(() => multiFrameOptionsFromEnv({ PAINTS_UNDO_KEYFRAME_STEPS: '400,,999' }), /PAINTS_UNDO_KEYFRAME_STEPS/);
  assert.throws(() => multiFrameOptionsFromEnv({ PAINTS_UNDO_ALLOW_CPU: 'yes' }), /0 or 1 for PAINTS_UNDO_ALLOW_CPU/);
});
