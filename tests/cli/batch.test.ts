/**
 * Batches through the built CLI, as users run them: real images made here, real worker processes, real
 * ffmpeg, real signals. Small images and few frames keep each run to a few seconds.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readPngText, PROVENANCE_KEYWORD } from '../../engine/src/io/png.js';
import { SAMPLES, probe, tempFolder } from '../io/helpers.js';
import { BIN, ensureBuilt } from './build.js';

const dir = tempFolder('paints-undo-batch-');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[]): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, PAINTS_UNDO_DEBUG: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface InputLine {
  readonly type: 'input';
  readonly status: 'written' | 'skipped' | 'failed' | 'cancelled';
  readonly ok: boolean;
  readonly input: string;
  readonly output?: string;
  readonly files?: string[];
  readonly error?: { code: string; exitCode: number; hint?: string };
}

interface SummaryLine {
  readonly type: 'summary';
  readonly ok: boolean;
  readonly inputs: number;
  readonly written: number;
  readonly skipped: number;
  readonly failed: number;
  readonly left: number;
  readonly cancelled: boolean;
  readonly exitCode: number;
}

/** JSON Lines: every line parses; the last is the summary. */
function jsonLines(run: Run): { inputs: Map<string, InputLine>; summary: SummaryLine } {
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as InputLine | SummaryLine);
  const summary = lines.at(-1) as SummaryLine;
  assert.equal(summary.type, 'summary', run.stdout);
  const inputs = new Map<string, InputLine>();
  for (const line of lines.slice(0, -1)) {
    assert.equal(line.type, 'input');
    inputs.set((line as InputLine).input, line as InputLine);
  }
  return { inputs, summary };
}

/** Everything in `folder`, hidden entries included (a temp file or folder would be one). */
function entries(folder: string): string[] {
  return existsSync(folder) ? readdirSync(folder).sort() : [];
}

async function image(path: string, sample: string, width: number): Promise<void> {
  await sharp(join(SAMPLES, sample)).resize({ width }).png().toFile(path);
}

before(async () => {
  ensureBuilt();
  mkdirSync(join(dir, 'art'));
  await image(join(dir, 'art', 'cat.png'), '1.jpg', 72);
  await image(join(dir, 'art', 'dog.png'), '2.jpg', 72);
  const good = readFileSync(join(dir, 'art', 'dog.png'));
  writeFileSync(join(dir, 'art', 'torn.png'), good.subarray(0, Math.floor(good.length * 0.5)));
  writeFileSync(join(dir, 'art', 'notes.txt'), 'not an image, and not taken from a folder\n');
});

test('a folder batch: one output per image, a corrupt input reported and skipped (exit 1), JSON Lines; a rerun skips what is done; --force redoes it', () => {
  const args = ['keyframes', 'art', '-o', 'kf', '--steps', '999,500', '--jobs', '2', '--json'];
  const first = cli(args);
  assert.equal(first.code, 1, first.stderr);
  assert.equal(first.stderr, '', 'nothing on stderr with --json');
  const one = jsonLines(first);
  assert.deepEqual([...one.inputs.keys()].sort(), ['art/cat.png', 'art/dog.png', 'art/torn.png']);
  for (const name of ['cat', 'dog']) {
    const line = one.inputs.get(`art/${name}.png`)!;
    assert.equal(line.status, 'written');
    assert.deepEqual(line.files, [join(dir, 'kf', name, 'step-0999.png'), join(dir, 'kf', name, 'step-0500.png')]);
    const provenance = JSON.parse(readPngText(readFileSync(join(dir, 'kf', name, 'step-0500.png'))).get(PROVENANCE_KEYWORD) ?? '{}') as { step?: number };
    assert.equal(provenance.step, 500);
  }
  const torn = one.inputs.get('art/torn.png')!;
  assert.deepEqual([torn.status, torn.ok, torn.error?.code, torn.error?.exitCode], ['failed', false, 'INPUT_CORRUPT', 3]);
  assert.ok(torn.error?.hint);
  assert.deepEqual(
    { ...one.summary, command: undefined },
    { type: 'summary', ok: false, command: undefined, inputs: 3, written: 2, skipped: 0, failed: 1, left: 0, cancelled: false, exitCode: 1 },
  );
  assert.deepEqual(entries(join(dir, 'kf')), ['cat', 'dog'], 'no output, not even a temp folder, for the corrupt input');

  const written = statSync(join(dir, 'kf', 'cat', 'step-0999.png')).mtimeMs;
  const again = jsonLines(cli(args));
  assert.deepEqual([again.inputs.get('art/cat.png')?.status, again.inputs.get('art/dog.png')?.status, again.inputs.get('art/torn.png')?.status], ['skipped', 'skipped', 'failed']);
  assert.deepEqual([again.summary.written, again.summary.skipped, again.summary.failed, again.summary.exitCode], [0, 2, 1, 1]);
  assert.equal(statSync(join(dir, 'kf', 'cat', 'step-0999.png')).mtimeMs, written, 'a skipped output is not touched');

  // A quoted pattern, and --force; through a terminal, so the batch's progress bar is drawn.
  const command = [process.execPath, BIN, 'keyframes', 'art/[cd]*.png', '-o', 'kf', '--steps', '999,500', '--force'].map((a) => `'${a}'`).join(' ');
  const tty = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8' });
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /keyframes \[[█░]+\] \d+% \| [0-2]\/2 images/);
  assert.match(tty.stdout, /\[[12]\/2\] Wrote 2 keyframes to kf\/cat: step-0999\.png, step-0500\.png\./);
  assert.match(tty.stdout, /Batch of 2 images: 2 written, 0 skipped \(already there\), 0 failed\./);
  assert.ok(statSync(join(dir, 'kf', 'cat', 'step-0999.png')).mtimeMs > written, '--force rewrote it');
  assert.deepEqual(entries(join(dir, 'kf')), ['cat', 'dog']);
});

test('--recursive with one file per image (timelapse, layers as PSD): each output goes into the mirrored sub-folder, made as needed', async () => {
  mkdirSync(join(dir, 'deep', 'spring', 'week 2'), { recursive: true });
  await image(join(dir, 'deep', 'top.png'), '1.jpg', 64);
  await image(join(dir, 'deep', 'spring', 'week 2', 'bud.png'), '3.jpg', 64);
  for (const [kind, extra, out] of [
    ['timelapse', ['--frames', '4', '--size', '64'], 'deep-videos'],
    ['layers', ['--format', 'psd'], 'deep-psds'],
  ] as const) {
    const run = cli([kind, 'deep', '-o', out, '--recursive', ...extra, '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const { inputs, summary } = jsonLines(run);
    assert.deepEqual([summary.written, summary.failed], [2, 0]);
    const bud = inputs.get('deep/spring/week 2/bud.png');
    assert.equal(bud?.status, 'written', JSON.stringify(bud));
    assert.ok(bud?.output && existsSync(bud.output) && bud.output.startsWith(join(dir, out, 'spring', 'week 2')), bud?.output);
  }
});

test('a batch leaves no empty folder it made: not -o when every input failed, not a mirrored sub-folder whose only input failed', async () => {
  mkdirSync(join(dir, 'broken', 'sketches'), { recursive: true });
  const good = readFileSync(join(dir, 'art', 'dog.png'));
  writeFileSync(join(dir, 'broken', 'torn.png'), good.subarray(0, 200));
  writeFileSync(join(dir, 'broken', 'sketches', 'torn too.png'), good.subarray(0, 300));
  for (const [kind, extra] of [
    ['layers', ['--format', 'psd']],
    ['keyframes', ['--steps', '500']],
  ] as const) {
    const out = `nothing-${kind}`;
    const run = cli([kind, 'broken', '-o', join(out, 'made', 'here'), '--recursive', ...extra, '--json']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.deepEqual([jsonLines(run).summary.written, jsonLines(run).summary.failed], [0, 2]);
    assert.ok(!existsSync(join(dir, out)), `${kind}: ${out} and its sub-folders are not left behind`);
  }
  // One good image beside the broken sub-folder: its output stays, the sub-folder made for the failed one goes.
  await image(join(dir, 'broken', 'fine.png'), '1.jpg', 64);
  const run = cli(['layers', 'broken', '-o', 'partly', '--recursive', '--format', 'psd', '--json']);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.deepEqual(entries(join(dir, 'partly')), ['fine.psd']);
});

test('mistakes in a batch fail before any work with what to do', () => {
  writeFileSync(join(dir, 'taken.mp4'), 'a file already');
  const file = cli(['timelapse', 'art', '-o', 'taken.mp4']);
  assert.equal(file.code, 2);
  assert.match(file.stderr, /error INVALID_OPTION: The output taken\.mp4 is an existing file, but a batch writes one output per image into a folder\.\n {2}hint: Give a folder with -o/);
  assert.match(cli(['timelapse', 'art', '-o', 'videos.mp4']).stderr, /looks like a file name/);
  assert.match(cli(['timelapse', 'art']).stderr, /No output folder/);

  mkdirSync(join(dir, 'twins'));
  writeFileSync(join(dir, 'twins', 'a.png'), '');
  writeFileSync(join(dir, 'twins', 'A.jpg'), '');
  const twins = cli(['layers', 'twins', '-o', 'out', '--json']);
  assert.equal(twins.code, 2);
  const error = (JSON.parse(twins.stdout) as { error: { code: string; message: string; hint: string } }).error;
  assert.equal(error.code, 'INVALID_OPTION');
  assert.match(error.message, /twins\/A\.jpg and twins\/a\.png would all write out\/A?a?\.psd/i);
  assert.match(error.hint, /Rename the images/);
  assert.ok(!existsSync(join(dir, 'out')), 'nothing created');

  writeFileSync(join(dir, 'twins', 'b.psd'), '');
  writeFileSync(join(dir, 'twins', 'b.png'), '');
  assert.match(cli(['layers', 'twins/b.*', '-o', 'twins']).stderr, /would replace one of its inputs: twins\/b\.p.. would write twins\/b\.psd, which is the input twins\/b\.psd/);

  const none = cli(['keyframes', 'nowhere/*.png', 'missing.png', '-o', 'out']);
  assert.equal(none.code, 3);
  assert.match(none.stderr, /error INPUT_NOT_FOUND: None of the inputs is an image: nowhere\/\*\.png, missing\.png\./);
});

test('Ctrl+C cancels a running batch: exit 130, no half-written output, what was done is kept and a rerun does the rest', async () => {
  const inputs = join(dir, 'queue');
  mkdirSync(inputs);
  for (const [i, sample] of ['1.jpg', '2.jpg', '3.jpg'].entries()) await image(join(inputs, `p${i + 1}.png`), sample, 64);
  const out = join(dir, 'videos');
  const args = ['timelapse', 'queue', '-o', 'videos', '--frames', '150', '--size', '64', '--hold', '0'];
  // Its own process group, so the signal reaches the whole group (workers too), as a terminal's Ctrl+C does.
  const child = spawn(process.execPath, [BIN, ...args, '--jobs', '1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Interrupt once the first video is complete and the second is being written.
  while (!(entries(out).includes('p1.mp4') && entries(out).some((f) => f.startsWith('.p2.part-')))) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /cancelling/);
  assert.match(stderr, /batch cancelled: 1 written, 0 skipped \(already there\), 0 failed, 2 left\. Run the same command again to do the rest/);
  assert.deepEqual(entries(out), ['p1.mp4'], 'no temp file, no partial video');
  assert.equal(probe(join(out, 'p1.mp4')).frames, 150);

  const rerun = jsonLines(cli([...args, '--json']));
  assert.deepEqual([...rerun.inputs.values()].map((l) => `${l.input} ${l.status}`).sort(), ['queue/p1.png skipped', 'queue/p2.png written', 'queue/p3.png written']);
  assert.equal(rerun.summary.exitCode, 0);
  assert.deepEqual(entries(out), ['p1.mp4', 'p2.mp4', 'p3.mp4']);
  assert.equal(probe(join(out, 'p3.mp4')).frames, 150);
});

test('a batch whose parent is killed outright: its worker cancels the job and leaves no partial output', async () => {
  const inputs = join(dir, 'orphans');
  mkdirSync(inputs);
  for (const [i, sample] of ['1.jpg', '2.jpg'].entries()) await image(join(inputs, `o${i + 1}.png`), sample, 64);
  const out = join(dir, 'orphan-videos');
  const child = spawn(process.execPath, [BIN, 'timelapse', 'orphans', '-o', 'orphan-videos', '--frames', '1500', '--size', '64', '--jobs', '1'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // Killed while its worker sends progress on a video being written (the worker's next send fails).
  while (!entries(out).some((f) => f.includes('.part-'))) {
    assert.equal(child.exitCode, null, 'the batch is still running');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill('SIGKILL');
  await exited;
  const started = Date.now();
  while (entries(out).some((f) => f.includes('.part-'))) {
    assert.ok(Date.now() - started < 30_000, `the orphaned worker removed its temp file (left: ${entries(out).join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(!entries(out).some((f) => f.endsWith('.mp4') && !f.startsWith('.')), 'no video written after the parent died');
});

