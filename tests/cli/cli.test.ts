import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ERROR_CODES } from '../../engine/src/core/errors.js';
import { STALE_PART_MS } from '../../engine/src/io/atomic.js';
import { readPsd } from '../../engine/src/io/ag-psd.js';
import { readPngText, PROVENANCE_KEYWORD } from '../../engine/src/io/png.js';
import { SAMPLES, bombPng, probe, tempFolder } from '../io/helpers.js';
import { BIN, ROOT, ensureBuilt } from './build.js';

const dir = tempFolder('paints-undo-cli-');
let art: string;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, PAINTS_UNDO_DEBUG: '', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function assertNoStack(run: Run): void {
  assert.doesNotMatch(run.stderr + run.stdout, /\n\s+at .+[:(]/, 'no stack trace for user errors');
}

function assertError(run: Run, exitCode: number, code: keyof typeof ERROR_CODES, message: RegExp): void {
  assert.equal(run.code, exitCode, `exit code (stderr: ${run.stderr})`);
  assert.match(run.stderr, new RegExp(`^paints-undo: error ${code}: `));
  assert.match(run.stderr, message);
  assert.match(run.stderr, /\n {2}hint: \S/);
  assertNoStack(run);
}

before(async () => {
  ensureBuilt();
  art = join(dir, 'art.png');
  await sharp(join(SAMPLES, '3.jpg')).resize({ width: 160 }).png().toFile(art);
});

test('--help works for the program and every command, with the exit codes', () => {
  const top = cli(['--help']);
  assert.equal(top.code, 0);
  for (const command of ['timelapse', 'frame', 'keyframes', 'layers', 'demo', 'eval', 'serve', 'token', 'backends', 'models', 'doctor']) {
    assert.match(top.stdout, new RegExp(`\\n  ${command} `), `${command} listed`);
    const run = cli([command, '--help']);
    assert.equal(run.code, 0, command);
    assert.match(run.stdout, new RegExp(`^Usage: paints-undo ${command} `));
    assert.match(run.stdout, /Exit codes:\n {2}0 {4}success\n {2}1 {4}a batch ran, but some inputs failed[^\n]*\n {2}2 {4}usage error/);
  }
  assert.match(cli(['timelapse', '--help']).stdout, /--duration <seconds>[\s\S]*--intro <seconds>[\s\S]*--hold <seconds>[\s\S]*--direction[\s\S]*--label \[text\][\s\S]*--seed <n>[\s\S]*--json/);
  const version = cli(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.equal(cli([]).code, 2, 'no command is a usage error');
});

test('usage errors exit 2 and name the bad option', () => {
  // Usage errors the option parser finds are worded like every other error: a code, then a hint.
  assertError(cli(['paint', art]), 2, 'INVALID_OPTION', /Unknown command 'paint'[\s\S]*hint: Run paints-undo --help/);
  assertError(cli(['frame', art]), 2, 'INVALID_OPTION', /Required option '--step <n>' not specified\.\n {2}hint: Run paints-undo frame --help/);
  assertError(cli(['frame', art, '--step', '5', '--bogus']), 2, 'INVALID_OPTION', /Unknown option '--bogus'/);
  assert.deepEqual(JSON.parse(cli(['frame', art, '--step', '5', '--bogus', '--json']).stdout), {
    ok: false,
    error: { code: 'INVALID_OPTION', message: "Unknown option '--bogus'.", hint: 'Run paints-undo frame --help for its arguments and options.', exitCode: 2 },
  });
  // A typo's suggestion stays on the error's line, in text and in JSON.
  assertError(cli(['frame', art, '--step', '5', '--szie', '64']), 2, 'INVALID_OPTION', /error INVALID_OPTION: Unknown option '--szie' \(Did you mean --size\?\)\n {2}hint:/);
  assert.equal((JSON.parse(cli(['timelaps', art, '--json']).stdout) as { error: { message: string } }).error.message, "Unknown command 'timelaps' (Did you mean timelapse?)");
  assertError(cli(['frame', art, '--step', '1200']), 2, 'INVALID_OPTION', /Expected number <= 999 for --step but received 1200 \(number\)/);
  // "-o -" is standard output, which no command writes to: refused before any work, and no file named "-".
  for (const args of [['frame', art, '--step', '5'], ['timelapse', art], ['layers', art]]) {
    assertError(cli([...args, '-o', '-']), 2, 'INVALID_OPTION', /The output "-" \(standard output\) is not supported/);
  }
  assert.ok(!existsSync(join(dir, '-')), 'no file named "-"');
  // A bad value in a list is named by its flag, not by its place in the parsed list.
  assertError(cli(['keyframes', art, '--steps', '5,5,1000']), 2, 'INVALID_OPTION', /Expected number <= 999 for --steps but received 1000 \(number\)\./);
  const many = cli(['timelapse', art, '--fps', 'fast', '--frames', '1', '--direction', 'up']);
  assertError(many, 2, 'INVALID_OPTION', /for --frames but received 1[\s\S]*for --fps but received "fast"[\s\S]*one of "draw", "undo" for --direction/);
  assertError(cli(['keyframes', art, '--steps', '5', '--jobs', '0']), 2, 'INVALID_OPTION', /Expected number >= 1 for --jobs but received 0/);
  assertError(cli(['timelapse', art, '--fps', '1e400']), 2, 'INVALID_OPTION', /Expected a finite number for --fps but received Infinity/);
  assertError(cli(['frame', art, '--step', '5', '--backend', 'magic']), 2, 'UNKNOWN_BACKEND', /Unknown backend "magic"\. Should be one of: classic/);
  assertError(cli(['timelapse', art, '-o', 'out.mov']), 2, 'INVALID_OPTION', /Should be one of: \.mp4, \.webm, \.gif/);
  assertError(cli(['timelapse', art, '-o', 'out.mp4', '--format', 'gif']), 2, 'INVALID_OPTION', /ends in \.mp4 but --format is gif/);
  assertError(cli(['timelapse', art, '-o', 'out.mp4', '--format', 'avi']), 2, 'INVALID_OPTION', /one of "mp4", "webm", "gif" for --format but received "avi"/);
  assertError(cli(['frame', art, '--step', '5', '-o', art]), 2, 'INVALID_OPTION', /is the input image; it would be overwritten/);
});

test('bad input files exit 3 with a clear message and no stack trace', async () => {
  assertError(cli(['frame', 'missing.png', '--step', '5']), 3, 'INPUT_NOT_FOUND', /missing\.png does not exist/);
  writeFileSync(join(dir, 'notes.jpg'), 'not an image at all\n');
  assertError(cli(['frame', 'notes.jpg', '--step', '5']), 3, 'INPUT_NOT_IMAGE', /notes\.jpg is not an image/);
  writeFileSync(join(dir, 'empty.png'), '');
  assertError(cli(['frame', 'empty.png', '--step', '5']), 3, 'INPUT_NOT_IMAGE', /empty \(0 bytes\)/);
  const png = readFileSync(art);
  writeFileSync(join(dir, 'cut.png'), png.subarray(0, Math.floor(png.length * 0.6)));
  assertError(cli(['frame', 'cut.png', '--step', '5']), 3, 'INPUT_CORRUPT', /cut\.png is truncated or corrupt/);
  writeFileSync(join(dir, 'bomb.png'), bombPng(60_000, 60_000));
  assertError(cli(['frame', 'bomb.png', '--step', '5']), 3, 'INPUT_TOO_LARGE', /60000x60000 .*not decoded/);
  await sharp({ create: { width: 10, height: 10, channels: 3, background: '#fff' } }).png().toFile(join(dir, 'icon.png'));
  assertError(cli(['frame', 'icon.png', '--step', '5']), 3, 'INPUT_TOO_SMALL', /10x10; the minimum is 16 px/);
});

test('an unwritable output exits 4 before any work, and ffmpeg missing exits 5', () => {
  assertError(cli(['frame', art, '--step', '5', '-o', join(dir, 'no', 'such', 'folder', 'f.png')]), 4, 'OUTPUT_NOT_WRITABLE', /the folder .* does not exist/);
  // -o naming a folder that is not there (a trailing slash): nothing is written, and no file takes its name.
  assertError(cli(['frame', art, '--step', '5', '-o', 'later/']), 4, 'OUTPUT_NOT_WRITABLE', /the folder .*later does not exist\.\n {2}hint: Create the folder \(mkdir -p ".*later"\), or choose an output in a folder that exists\./);
  assert.ok(!existsSync(join(dir, 'later')));
  assertError(cli(['frame', art, '--step', '5', '-o', 'art-5.jpg']), 2, 'INVALID_OPTION', /art-5\.jpg ends in \.jpg, but frame writes a PNG image/);
  assert.ok(!existsSync(join(dir, 'art-5.jpg')));
  assertError(cli(['timelapse', art, '-o', 'x.mp4'], { PAINTS_UNDO_FFMPEG: join(dir, 'no-ffmpeg') }), 5, 'FFMPEG_MISSING', /No usable ffmpeg/);
  assert.ok(!existsSync(join(dir, 'x.mp4')));
});

test('--json prints exactly one JSON object, for errors too', () => {
  const error = cli(['frame', 'missing.png', '--step', '5', '--json']);
  assert.equal(error.code, 3);
  assert.equal(error.stderr, '');
  const parsed = JSON.parse(error.stdout) as { ok: boolean; error: { code: string; exitCode: number; hint: string } };
  assert.equal(parsed.ok, false);
  assert.equal(parsed.error.code, 'INPUT_NOT_FOUND');
  assert.equal(parsed.error.exitCode, 3);
  const usage = JSON.parse(cli(['frame', art, '--json']).stdout) as { ok: boolean; error: { code: string } };
  assert.deepEqual([usage.ok, usage.error.code], [false, 'INVALID_OPTION']);
  const backends = JSON.parse(cli(['backends', '--json']).stdout) as { backends: { id: string; default: boolean }[] };
  assert.deepEqual(backends.backends.filter((b) => b.default).map((b) => b.id), ['classic']);
  assert.ok(backends.backends.length >= 1);
});

test('frame, keyframes and layers write real files with provenance; same seed, same pixels', async () => {
  const a = cli(['frame', art, '--step', '500', '-o', 'a.png', '--seed', '9', '--json']);
  assert.equal(a.code, 0, a.stderr);
  const result = JSON.parse(a.stdout) as { ok: boolean; files: string[]; seed: number; backend: string };
  assert.deepEqual([result.ok, result.seed, result.backend], [true, 9, 'classic']);
  assert.deepEqual(result.files, [join(dir, 'a.png')]);
  assert.equal(a.stderr, '', 'nothing on stderr with --json');
  assert.equal(cli(['frame', art, '--step', '500', '-o', 'b.png', '--seed', '9']).code, 0);
  const pixels = async (f: string): Promise<Buffer> => sharp(join(dir, f)).raw().toBuffer();
  assert.ok((await pixels('a.png')).equals(await pixels('b.png')), 'deterministic');
  assert.equal(JSON.parse(readPngText(readFileSync(join(dir, 'a.png'))).get(PROVENANCE_KEYWORD) ?? '{}').step, 500);

  const kf = cli(['keyframes', art, '--steps', '999,400', '-o', 'kf']);
  assert.equal(kf.code, 0, kf.stderr);
  assert.match(kf.stdout, /Wrote 2 keyframes to kf: step-0999\.png, step-0400\.png/);
  assert.deepEqual(readdirSync(join(dir, 'kf')).sort(), ['step-0400.png', 'step-0999.png']);

  // --size (long side) on frame and keyframes; --steps takes ranges.
  assert.equal(cli(['frame', art, '--step', '500', '--size', '64', '-o', 'small.png']).code, 0);
  const small = await sharp(join(dir, 'small.png')).metadata();
  assert.equal(Math.max(small.width, small.height), 64);
  const range = cli(['keyframes', art, '--steps', '990-999,500', '--size', '48', '-o', 'range', '--json']);
  assert.equal(range.code, 0, range.stderr);
  assert.equal((JSON.parse(range.stdout) as { files: string[] }).files.length, 11);
  const ranged = await sharp(join(dir, 'range', 'step-0500.png')).metadata();
  assert.equal(Math.max(ranged.width, ranged.height), 48);
  assert.equal(cli(['keyframes', art, '--steps', 'all,5000', '-o', 'bad', '--json']).code, 2, 'more than 1000 steps is a usage error');

  assert.equal(cli(['layers', art, '-o', 'art.psd']).code, 0);
  const psd = readPsd(readFileSync(join(dir, 'art.psd')), { skipLayerImageData: true, skipCompositeImageData: true });
  const names = (psd.children ?? []).map((c) => c.name ?? '');
  assert.ok(names.length >= 3, `layers: ${names.join(', ')}`);
  assert.match(names.at(-1) ?? '', /^Generated reconstruction by paints-undo/);
  const folder = cli(['layers', art, '-o', 'layers']);
  assert.equal(folder.code, 0, folder.stderr);
  const written = readdirSync(join(dir, 'layers'));
  assert.ok(written.includes('composite.png') && written.includes('layers.json'));
  const layerPngs = written.filter((n) => n.endsWith('.png') && n !== 'composite.png').length;
  assert.match(folder.stdout + folder.stderr, new RegExp(`Wrote ${layerPngs} layer PNGs, composite.png and layers.json`));
});

test('timelapse: MP4 and GIF probed with ffprobe', () => {
  const mp4 = cli(['timelapse', art, '-o', 'clip.mp4', '--frames', '8', '--fps', '8', '--hold', '0.25', '--intro', '0.25', '--size', '120', '--label', '--json']);
  assert.equal(mp4.code, 0, mp4.stderr);
  const result = JSON.parse(mp4.stdout) as { frames: number; width: number; height: number; format: string };
  assert.equal(result.frames, 12);
  const info = probe(join(dir, 'clip.mp4'));
  assert.deepEqual([info.codec, info.pixFmt, info.frames], ['h264', 'yuv420p', 12]);
  assert.equal(Math.max(info.width, info.height), 120);
  assert.equal(info.width % 2, 0);
  assert.equal(info.height % 2, 0);
  assert.match(info.tags['comment'] ?? '', /Generated reconstruction.*backend classic/);

  const gif = cli(['timelapse', art, '-o', 'clip.gif', '--duration', '1', '--fps', '5', '--hold', '0']);
  assert.equal(gif.code, 0, gif.stderr);
  assert.match(gif.stdout, /^Wrote clip\.gif \(GIF, \d+x\d+, 5 frames\)/);
  assert.equal(probe(join(dir, 'clip.gif')).frames, 5);
});

/**
 * A long timelapse into the new folder `out`, in its own process group (so a signal can go to the whole
 * group, as a terminal's Ctrl+C does), once ffmpeg has started writing its temp file.
 */
async function longTimelapse(out: string): Promise<{ pid: number; stderr: () => string; exited: Promise<number | null> }> {
  mkdirSync(out);
  const child = spawn(process.execPath, [BIN, 'timelapse', art, '-o', join(out, 'long.mp4'), '--frames', '3000', '--fps', '60'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  while (!readdirSync(out).some((f) => f.includes('.part-'))) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: child.pid!, stderr: () => stderr, exited };
}

test('Ctrl+C cancels a running timelapse: exit 130 and no file, not even a temp file', async () => {
  const out = join(dir, 'cancel');
  const running = await longTimelapse(out);
  process.kill(-running.pid, 'SIGINT');
  assert.equal(await running.exited, 130, running.stderr());
  assert.match(running.stderr(), /cancelling/);
  assert.match(running.stderr(), /error CANCELLED/);
  assert.deepEqual(readdirSync(out), []);
});

test('a closed terminal (SIGHUP) cancels a running timelapse as Ctrl+C does: no file, not even a temp file', async () => {
  const out = join(dir, 'hangup');
  const running = await longTimelapse(out);
  process.kill(-running.pid, 'SIGHUP');
  assert.notEqual(await running.exited, 0);
  assert.doesNotMatch(running.stderr(), /cancelling/, 'nothing written to the terminal that is gone');
  assert.deepEqual(readdirSync(out), []);
});

test('a timelapse killed outright leaves its hidden temp file; the next run of that output removes it once stale', async () => {
  const out = join(dir, 'killed');
  const running = await longTimelapse(out);
  // SIGKILL to the whole group (ffmpeg runs in a group of its own: it sees its input end, and stops).
  process.kill(-running.pid, 'SIGKILL');
  await running.exited;
  const left = readdirSync(out);
  assert.equal(left.length, 1, String(left));
  assert.match(left[0]!, new RegExp(`^\\.long\\.part-${running.pid}-[0-9a-f]{8}\\.mp4$`));
  // Left untouched for longer than a live writer ever leaves it (once its ffmpeg has stopped writing).
  for (let i = 0; i < 60 && (await ffmpegWrites(join(out, left[0]!))); i++);
  const old = (Date.now() - STALE_PART_MS - 60_000) / 1000;
  utimesSync(join(out, left[0]!), old, old);
  const rerun = spawnSync(process.execPath, [BIN, 'timelapse', art, '-o', join(out, 'long.mp4'), '--frames', '20'], { cwd: dir, encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.deepEqual(readdirSync(out), ['long.mp4']);
});

/** Whether the file is still written to (its size or modification time changes within half a second). */
async function ffmpegWrites(path: string): Promise<boolean> {
  const before = statSync(path);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = statSync(path);
  return after.size !== before.size || after.mtimeMs !== before.mtimeMs;
}

test('a reader that goes away (| head) stops no command: the whole batch is written, exit 0, no stack trace', async () => {
  const out = join(dir, 'closed-reader');
  const b = join(dir, 'closed-reader-b.png');
  writeFileSync(b, readFileSync(art));
  // --json prints one line per finished image: the first write already finds the pipe closed (EPIPE).
  const child = spawn(process.execPath, [BIN, 'keyframes', art, b, '--steps', '500', '-o', out, '--json', '--jobs', '1'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PAINTS_UNDO_DEBUG: '' },
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assertNoStack({ code, stdout: '', stderr });
  assert.deepEqual(readdirSync(out).sort(), ['art', 'closed-reader-b']);
  for (const name of readdirSync(out)) assert.deepEqual(readdirSync(join(out, name)), ['step-0500.png']);
});

test('a progress bar is drawn on a TTY only', () => {
  // util-linux `script` gives the child a pseudo-terminal.
  const command = [process.execPath, BIN, 'frame', art, '--step', '300', '-o', 'tty.png'].map((a) => `'${a}'`).join(' ');
  const tty = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8' });
  assert.equal(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /frame \[[█░]+\] \d+%/);
  assert.match(tty.stdout, /Wrote tty\.png \(step 300\)/);
  const plain = cli(['frame', art, '--step', '300', '-o', 'plain.png']);
  assert.equal(plain.code, 0);
  assert.doesNotMatch(plain.stderr + plain.stdout, /\[[█░]+\]|%/);
});

test('-o naming a folder (an existing one, or a name ending in a slash) holds the file under its default name', () => {
  mkdirSync(join(dir, 'frames.png'), { recursive: true });
  mkdirSync(join(dir, 'stills'), { recursive: true });
  for (const [output, written] of [
    [join(dir, 'frames.png'), join(dir, 'frames.png', 'art-step-0007.png')],
    ['stills/', join(dir, 'stills', 'art-step-0007.png')],
  ] as const) {
    const run = cli(['frame', art, '--step', '7', '--size', '64', '-o', output]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(statSync(written).isFile(), `${output}: wrote ${written}`);
  }
});
