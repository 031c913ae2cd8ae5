/**
 * The built CLI against hostile and careless paths (issue 10, items 1-4 and the /proc pre-check): devices
 * and FIFOs as inputs, outputs that reach the input through symlinks and hard links (every command and
 * every kind of output), outputs that are device nodes or FIFOs, and a second Ctrl+C with a thread stuck
 * in a blocking open.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { SAMPLES, makeFifo, makeNullDevice, tempFolder } from '../io/helpers.js';
import { BIN, ROOT, ensureBuilt } from './build.js';

const dir = tempFolder('paints-undo-cli-paths-');
let art: string;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI with bounded memory (1.5 GiB of address space above node's own) and time, so a regression
 * that reads a device without limit fails this test instead of taking the machine down.
 */
function cli(args: string[], timeoutMs = 60_000): Run {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const result = spawnSync('bash', ['-c', `ulimit -v 6000000; exec ${quoted}`], {
    cwd: dir,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    env: { ...process.env, PAINTS_UNDO_DEBUG: '' },
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

function assertError(run: Run, exitCode: number, code: string, message: RegExp): void {
  assert.equal(run.signal, null, `ended by ${run.signal} (hung or out of memory); stderr: ${run.stderr}`);
  assert.equal(run.code, exitCode, `exit code (stderr: ${run.stderr})`);
  assert.match(run.stderr, new RegExp(`(^|\\n)paints-undo: error ${code}: `));
  assert.match(run.stderr, message);
}

before(async () => {
  ensureBuilt();
  art = join(dir, 'art.png');
  await sharp(join(SAMPLES, '3.jpg')).resize({ width: 64 }).png().toFile(art);
});

test('a device or a FIFO as the input is refused at once (no unbounded read, no hang)', () => {
  assertError(cli(['frame', '/dev/zero', '--step', '5', '-o', 'z.png']), 3, 'INPUT_NOT_IMAGE', /\/dev\/zero is a character device, not a regular file/);
  const fifo = makeFifo(join(dir, 'in.fifo'));
  assertError(cli(['frame', fifo, '--step', '5', '-o', 'z.png'], 20_000), 3, 'INPUT_NOT_IMAGE', /is a FIFO \(named pipe\)/);
  const evaluated = cli(['eval', fifo], 20_000);
  assert.equal(evaluated.code, 1, evaluated.stderr);
  assert.match(evaluated.stdout, /could not be evaluated: INPUT_NOT_IMAGE: .*is a FIFO/);
});

test('no output reaches the input through a symlink or a hard link, for any command or output', async () => {
  const sub = join(dir, 'guard');
  mkdirSync(sub);
  const input = join(sub, 'in.png');
  copyFileSync(art, input);
  const original = readFileSync(input);
  symlinkSync('in.png', join(sub, 'link.png'));
  linkSync(input, join(sub, 'hard.png'));
  const refused = /is the input image; it would be overwritten/;
  assertError(cli(['frame', join(sub, 'link.png'), '--step', '500', '-o', input]), 2, 'INVALID_OPTION', refused);
  assertError(cli(['frame', input, '--step', '500', '-o', join(sub, 'link.png')]), 2, 'INVALID_OPTION', refused);
  assertError(cli(['frame', join(sub, 'hard.png'), '--step', '500', '-o', input]), 2, 'INVALID_OPTION', refused);
  // An image whose name ends in .mp4 or .psd still decodes by its content; its video or PSD must not replace it.
  copyFileSync(art, join(sub, 'clip.mp4'));
  symlinkSync('clip.mp4', join(sub, 'clip-link.mp4'));
  assertError(cli(['timelapse', join(sub, 'clip-link.mp4'), '--frames', '4', '-o', join(sub, 'clip.mp4')]), 2, 'INVALID_OPTION', refused);
  copyFileSync(art, join(sub, 'doc.psd'));
  assertError(cli(['layers', join(sub, 'doc.psd'), '-o', join(sub, 'doc.psd')]), 2, 'INVALID_OPTION', refused);
  // Folder outputs: the input is one of the files the job would write there.
  mkdirSync(join(sub, 'kf'));
  copyFileSync(art, join(sub, 'kf', 'step-0500.png'));
  assertError(cli(['keyframes', join(sub, 'kf', 'step-0500.png'), '--steps', '500', '-o', join(sub, 'kf')]), 2, 'INVALID_OPTION', refused);
  mkdirSync(join(sub, 'layers'));
  copyFileSync(art, join(sub, 'layers', 'composite.png'));
  assertError(cli(['layers', join(sub, 'layers', 'composite.png'), '-o', join(sub, 'layers')]), 2, 'INVALID_OPTION', refused);
  // eval: a sheet named like another input of the same folder.
  mkdirSync(join(sub, 'ev'));
  copyFileSync(art, join(sub, 'ev', 'a.png'));
  copyFileSync(art, join(sub, 'ev', 'a-sheet.png'));
  assertError(cli(['eval', join(sub, 'ev'), '--sheet', join(sub, 'ev')]), 2, 'INVALID_OPTION', refused);

  for (const file of [input, join(sub, 'clip.mp4'), join(sub, 'doc.psd'), join(sub, 'kf', 'step-0500.png'), join(sub, 'layers', 'composite.png'), join(sub, 'ev', 'a-sheet.png')]) {
    assert.deepEqual(readFileSync(file), original, `${file} is untouched`);
  }
  assert.ok(lstatSync(join(sub, 'link.png')).isSymbolicLink());
  assert.deepEqual(readdirSync(join(sub, 'kf')), ['step-0500.png'], 'no temp or partial files left');
});

test('a batch never replaces an input through a symlinked output folder, for files or whole folders (--force too)', () => {
  const sub = join(dir, 'batch');
  mkdirSync(join(sub, 'src', 'cat'), { recursive: true });
  copyFileSync(art, join(sub, 'src', 'cat.png'));
  copyFileSync(art, join(sub, 'src', 'cat', 'sketch.png'));
  // An image saved with a video's name: its timelapse would be src/clip.mp4 itself when -o reaches src.
  copyFileSync(art, join(sub, 'src', 'clip.mp4'));
  symlinkSync('src', join(sub, 'out'));
  const refused = /would replace one of its inputs: .*which (is|holds) the input/;
  assertError(cli(['timelapse', join(sub, 'src', 'clip.mp4'), join(sub, 'src', 'cat.png'), '-o', join(sub, 'out'), '--frames', '4', '--force']), 2, 'INVALID_OPTION', refused);
  // keyframes replaces out/cat (= src/cat) as a whole: it holds the input src/cat/sketch.png.
  assertError(cli(['keyframes', join(sub, 'src', 'cat.png'), join(sub, 'src', 'cat', 'sketch.png'), '-o', join(sub, 'out'), '--steps', '500', '--force']), 2, 'INVALID_OPTION', refused);
  const original = readFileSync(art);
  for (const file of ['clip.mp4', 'cat.png', join('cat', 'sketch.png')]) assert.deepEqual(readFileSync(join(sub, 'src', file)), original, `${file} is untouched`);
});

test('outputs that are device nodes or FIFOs are refused and left as they are, for files and inside folders', () => {
  const sub = join(dir, 'nodes');
  mkdirSync(sub);
  const fifo = makeFifo(join(sub, 'out.png'));
  const notRegular = /not a regular file, and is never replaced/;
  assertError(cli(['frame', art, '--step', '500', '-o', fifo]), 4, 'OUTPUT_NOT_WRITABLE', notRegular);
  const device = makeNullDevice(join(sub, 'chardev'));
  if (device !== undefined) {
    assertError(cli(['frame', art, '--step', '500', '-o', device]), 4, 'OUTPUT_NOT_WRITABLE', /is a character device/);
    assert.ok(lstatSync(device).isCharacterDevice());
  }
  symlinkSync('/dev/null', join(sub, 'null.mp4'));
  assertError(cli(['timelapse', art, '--frames', '4', '-o', join(sub, 'null.mp4')]), 4, 'OUTPUT_NOT_WRITABLE', /is a character device/);
  makeFifo(join(sub, 'doc.psd'));
  assertError(cli(['layers', art, '-o', join(sub, 'doc.psd')]), 4, 'OUTPUT_NOT_WRITABLE', notRegular);
  mkdirSync(join(sub, 'kf'));
  makeFifo(join(sub, 'kf', 'step-0500.png'));
  assertError(cli(['keyframes', art, '--steps', '999,500', '-o', join(sub, 'kf')]), 4, 'OUTPUT_NOT_WRITABLE', notRegular);
  assertError(cli(['keyframes', art, '--steps', '500', '-o', fifo]), 4, 'OUTPUT_NOT_WRITABLE', /it is a FIFO \(named pipe\), not a folder/);
  mkdirSync(join(sub, 'demo'));
  makeFifo(join(sub, 'demo', 'illustration.png'));
  assertError(cli(['demo', '-o', join(sub, 'demo'), '--frames', '4']), 4, 'OUTPUT_NOT_WRITABLE', notRegular);

  assert.ok(lstatSync(fifo).isFIFO());
  assert.ok(lstatSync(join(sub, 'doc.psd')).isFIFO());
  assert.ok(lstatSync(join(sub, 'kf', 'step-0500.png')).isFIFO());
  assert.ok(lstatSync(join(sub, 'demo', 'illustration.png')).isFIFO());
  assert.deepEqual(readdirSync(join(sub, 'kf')), ['step-0500.png'], 'the keyframe written before the refusal is removed again');
});

test('outputs and folders under /proc fail up front with the real reason, and never hang', () => {
  // Node's recursive mkdir spins forever on /proc (ENOENT under an existing parent): folders are made level by level.
  const refused = /the file system of \/proc does not allow new files or folders/;
  assertError(cli(['frame', art, '--step', '500', '-o', '/proc/o.png']), 4, 'OUTPUT_NOT_WRITABLE', refused);
  assertError(cli(['keyframes', art, '--steps', '500', '-o', '/proc/kf/deeper'], 30_000), 4, 'OUTPUT_NOT_WRITABLE', refused);
  assertError(cli(['demo', '-o', '/proc/demo', '--frames', '4'], 30_000), 4, 'OUTPUT_NOT_WRITABLE', refused);
  assertError(cli(['eval', art, '--sheet', '/proc/sheets'], 30_000), 4, 'OUTPUT_NOT_WRITABLE', refused);
  assertError(cli(['serve', '--port', '0', '--cache-dir', '/proc/cache'], 30_000), 4, 'OUTPUT_NOT_WRITABLE', refused);
});

test('a second Ctrl+C ends the process even while a thread is stuck opening a FIFO', async () => {
  const fifo = makeFifo(join(dir, 'stuck.fifo'));
  const jobRunner = pathToFileURL(join(ROOT, 'dist', 'engine', 'src', 'cli', 'job-runner.js')).href;
  // A blocking open of a FIFO nobody writes to holds a libuv thread forever, as a FIFO input did before.
  const script = `
    import { open } from 'node:fs/promises';
    const { interruptSignal } = await import(${JSON.stringify(jobRunner)});
    interruptSignal({ json: true, stopBar() {} });
    void open(${JSON.stringify(fifo)}, 'r');
    setTimeout(() => process.stdout.write('ready\\n'), 200);
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const result = await ended;
  clearTimeout(timer);
  assert.deepEqual(result, { code: null, signal: 'SIGINT' }, 'ended by the second SIGINT itself (a shell shows exit 130), not killed after a hang');
});

test('outputs into /dev are refused before any work (as root /dev takes files); /dev/shm is ordinary scratch space', () => {
  if (process.platform === 'win32') return;
  for (const output of ['/dev/stdout', '/dev/paints-undo-test-frames']) {
    const run = spawnSync(process.execPath, [BIN, 'keyframes', art, '--steps', '999', '--size', '48', '-o', output], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 4, run.stderr);
    assert.match(run.stderr, new RegExp(`error OUTPUT_NOT_WRITABLE: Cannot write ${output}: it is in /dev, which holds device files, not outputs`));
  }
  const frame = spawnSync(process.execPath, [BIN, 'frame', art, '--step', '999', '--size', '48', '-o', '/dev/stdout'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(frame.status, 4, frame.stderr);
  assert.match(frame.stderr, /Output to standard output \(-o \/dev\/stdout\) is not supported/);
  assert.ok(lstatSync('/dev/stdout').isSymbolicLink(), '/dev/stdout is still the link it was');
  assert.ok(!existsSync('/dev/paints-undo-test-frames'));
  if (existsSync('/dev/shm')) {
    const shm = join('/dev/shm', `paints-undo-test-${process.pid}.png`);
    try {
      const ok = spawnSync(process.execPath, [BIN, 'frame', art, '--step', '999', '--size', '48', '-o', shm], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(ok.status, 0, ok.stderr);
    } finally {
      rmSync(shm, { force: true });
    }
  }
});

