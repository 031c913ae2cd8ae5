/**
 * Outputs to a full disk (issue 10, item 12), through the built CLI on a real 2 MiB tmpfs filled to the
 * last byte: every kind of write (videos through ffmpeg, single files such as PNG and PSD through one
 * atomic writer, folders, the pairing token) is OUTPUT_NOT_WRITABLE (exit 4) saying the disk is full,
 * never ENCODER_FAILED or INTERNAL, and never a truncated video reported as written; nothing is left
 * behind. Skipped, with the reason, where a tmpfs cannot be mounted (not root).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import sharp from 'sharp';
import { SAMPLES, fillDisk, smallTmpfs, tempFolder } from '../io/helpers.js';
import { BIN, ensureBuilt } from './build.js';

const dir = tempFolder('paints-undo-cli-full-');
const disk = smallTmpfs(2 * 1024 * 1024);
let art: string;

before(async () => {
  ensureBuilt();
  art = join(dir, 'art.png');
  await sharp(join(SAMPLES, '3.jpg')).resize({ width: 160 }).png().toFile(art);
});

const run = promisify(execFile);

test('MP4, WebM, GIF, PNG, keyframe-folder and token outputs to a full disk exit 4 with "the disk is full", leaving nothing', { skip: 'skip' in disk ? disk.skip : false }, async () => {
  const full = (disk as { path: string }).path;
  fillDisk(full);
  const outputs = [
    ['timelapse', art, '--frames', '10', '-o', join(full, 't.mp4')],
    ['timelapse', art, '--frames', '10', '-o', join(full, 't.webm')],
    ['timelapse', art, '--frames', '10', '-o', join(full, 't.gif')],
    ['frame', art, '--step', '300', '-o', join(full, 'f.png')],
    ['keyframes', art, '--steps', '300,600', '-o', join(full, 'k')],
    // The pairing token, created on first use (serve and token): its folder is on the full disk too.
    ['token'],
  ];
  // In parallel: each is a fresh process, so this costs about one start-up, not six.
  const runs = await Promise.all(
    outputs.map((args) =>
      run(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PAINTS_UNDO_DEBUG: '', PAINTS_UNDO_CONFIG_DIR: join(full, 'config') } }).then(
        () => ({ args, status: 0, stderr: '' }),
        (error: { code?: number; stderr?: string }) => ({ args, status: error.code, stderr: error.stderr ?? '' }),
      ),
    ),
  );
  for (const { args, status, stderr } of runs) {
    assert.equal(status, 4, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, /paints-undo: error OUTPUT_NOT_WRITABLE: Cannot write .*: the disk is full\./, args.join(' '));
    assert.match(stderr, /hint: Free some disk space/);
    assert.doesNotMatch(stderr, /ENCODER_FAILED|report it/);
  }
  assert.deepEqual(readdirSync(full).sort(), ['config', 'filler'], 'no output and no temp file is left');
  assert.deepEqual(readdirSync(join(full, 'config')), [], 'no half-written token either');
});
