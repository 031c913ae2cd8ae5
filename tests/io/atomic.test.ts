import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { checkFolderWritable, ensureFolder, ensureWritableFile, STALE_PART_MS, tempPathFor, withAtomicFile, withOutputFolder, writeFileAtomic } from '../../engine/src/io/atomic.js';
import { withAtomicFolder } from '../../engine/src/io/atomic-folder.js';
import { rejection, tempFolder } from './helpers.js';

const dir = tempFolder();

test('writeFileAtomic writes the bytes and leaves no temp file', async () => {
  const path = join(dir, 'a.bin');
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  await writeFileAtomic(path, new Uint8Array([4]));
  assert.deepEqual([...readFileSync(path)], [4], 'replaces an existing file');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
});

test('temp files are hidden, in the same folder, and keep the extension', () => {
  const temp = tempPathFor('/x/y/out.mp4');
  assert.equal(temp.startsWith(`/x/y/.out.part-${process.pid}-`), true, temp);
  assert.match(temp, /^\/x\/y\/\.out\.part-[0-9]+-[0-9a-f]{8}\.mp4$/);
});

test('a failing writer leaves neither the output nor the temp file, and keeps the old output', async () => {
  const sub = join(dir, 'fail');
  mkdirSync(sub);
  const path = join(sub, 'out.mp4');
  writeFileSync(path, 'previous');
  const error = await rejection(() =>
    withAtomicFile(path, async (temp) => {
      writeFileSync(temp, 'half a video');
      throw new Error('encoder crashed');
    }),
  );
  assert.equal(error.message, 'encoder crashed');
  assert.deepEqual(readdirSync(sub), ['out.mp4']);
  assert.equal(readFileSync(path, 'utf8'), 'previous');
});

test('an abort after writing does not publish the file', async () => {
  const sub = join(dir, 'abort');
  mkdirSync(sub);
  const controller = new AbortController();
  const error = await rejection(() =>
    withAtomicFile(
      join(sub, 'out.psd'),
      async (temp) => {
        writeFileSync(temp, 'data');
        controller.abort();
      },
      { signal: controller.signal },
    ),
  );
  assert.ok(error instanceof PaintsUndoError);
  assert.equal(error.code, 'CANCELLED');
  assert.deepEqual(readdirSync(sub), []);
});

test('unwritable outputs are OUTPUT_NOT_WRITABLE with the path and what to do', async () => {
  const missing = await rejection(() => writeFileAtomic(join(dir, 'no-such-folder', 'out.png'), new Uint8Array(1)));
  assert.ok(missing instanceof PaintsUndoError);
  assert.equal(missing.code, 'OUTPUT_NOT_WRITABLE');
  assert.match(missing.message, /no-such-folder\/out\.png: the folder .* does not exist/);
  assert.match(missing.hint ?? '', /^Create the folder \(mkdir -p ".*no-such-folder"\), or choose an output in a folder that exists\.$/);

  mkdirSync(join(dir, 'taken.png'));
  const folder = await rejection(() => ensureWritableFile(join(dir, 'taken.png')));
  assert.equal(folder.code, 'OUTPUT_NOT_WRITABLE');
  assert.match(folder.message, /it is a folder/);

  writeFileSync(join(dir, 'plain-file'), 'x');
  const underFile = await rejection(() => writeFileAtomic(join(dir, 'plain-file', 'out.png'), new Uint8Array(1)));
  assert.equal(underFile.code, 'OUTPUT_NOT_WRITABLE');
  const underFileFolder = await rejection(() => ensureFolder(join(dir, 'plain-file', 'frames')));
  assert.equal(underFileFolder.code, 'OUTPUT_NOT_WRITABLE');

  // /proc refuses new files even for root, so this holds in containers too.
  const proc = await rejection(() => writeFileAtomic('/proc/paints-undo-out.png', new Uint8Array(1)));
  assert.equal(proc.code, 'OUTPUT_NOT_WRITABLE');
  assert.ok(!existsSync('/proc/paints-undo-out.png'));
});

test('ensureFolder creates nested folders', async () => {
  const nested = join(dir, 'a', 'b', 'c');
  assert.equal(await ensureFolder(nested), nested);
  assert.ok(existsSync(nested));
});

test('a failed job, or one that wrote nothing, removes the output folders it created, never a folder that was there or holds files', async () => {
  const failure = new Error('the job failed');
  const fails = (): Promise<never> => Promise.reject(failure);
  await assert.rejects(withOutputFolder(join(dir, 'new', 'deep', 'frames'), fails), (error) => error === failure);
  assert.ok(!existsSync(join(dir, 'new')), 'every level it created is gone');

  const kept = join(dir, 'kept');
  mkdirSync(kept);
  await assert.rejects(withOutputFolder(kept, fails), (error) => error === failure);
  assert.ok(existsSync(kept), 'an existing empty folder stays');

  const partly = join(dir, 'partly', 'frames');
  await assert.rejects(
    withOutputFolder(partly, async (folder) => {
      writeFileSync(join(dir, 'partly', 'notes.txt'), 'written meanwhile by someone else');
      assert.equal(folder, partly);
      throw failure;
    }),
    (error) => error === failure,
  );
  assert.deepEqual(readdirSync(join(dir, 'partly')), ['notes.txt'], 'a created folder that is not empty stays');

  const made = join(dir, 'made');
  assert.equal(await withOutputFolder(made, async (folder) => (writeFileSync(join(folder, 'out.png'), 'x'), folder)), made);
  assert.ok(existsSync(join(made, 'out.png')), 'kept when the job writes into it');
  // A run that ends without writing anything (a batch whose every input failed) leaves no empty folder either.
  assert.equal(await withOutputFolder(join(dir, 'unused', 'out'), async () => 'nothing written'), 'nothing written');
  assert.ok(!existsSync(join(dir, 'unused')), 'removed when left empty');
});

test('checkFolderWritable accepts creatable folders without creating them', async () => {
  const future = join(dir, 'later', 'frames');
  assert.equal(await checkFolderWritable(future), future);
  assert.ok(!existsSync(join(dir, 'later')), 'nothing created');
  writeFileSync(join(dir, 'file-not-folder'), 'x');
  const error = await rejection(() => checkFolderWritable(join(dir, 'file-not-folder')));
  assert.equal(error.code, 'OUTPUT_NOT_WRITABLE');
  assert.match(error.message, /it is a file, not a folder/);
  const below = await rejection(() => checkFolderWritable(join(dir, 'file-not-folder', 'sub')));
  assert.match(below.message, /file-not-folder\/sub: a part of the path is not a folder/);
});

test('an output written in place removes what killed runs left for that name, and nothing else', async () => {
  const sub = join(dir, 'leftovers');
  mkdirSync(sub);
  // A process id that no longer runs: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const old = (Date.now() - STALE_PART_MS - 60_000) / 1000;
  const leftover = (name: string, age: number | undefined, folder = false): string => {
    const path = join(sub, name);
    if (folder) {
      mkdirSync(path);
      writeFileSync(join(path, 'frame.png'), 'half');
    } else writeFileSync(path, 'half a video');
    if (age !== undefined) utimesSync(path, age, age);
    return name;
  };
  const stale = [leftover(`.out.part-${dead}-0123abcd.mp4`, old), leftover(`.out.part-${dead}-89abcdef.mp4`, old)];
  const kept = [
    // Touched lately: maybe a writer on another machine sharing the folder.
    leftover(`.out.part-${dead}-00000001.mp4`, undefined),
    // Its process still runs.
    leftover(`.out.part-${process.pid}-00000002.mp4`, old),
    // Another output's, or not a temp name at all.
    leftover(`.out.part-${dead}-00000003.webm`, old),
    leftover(`.other.part-${dead}-00000004.mp4`, old),
    leftover(`.out.part-${dead}-0000005.mp4`, old),
    leftover(`out.part-${dead}-00000006.mp4`, old),
  ];
  await writeFileAtomic(join(sub, 'out.mp4'), new Uint8Array([1]));
  assert.deepEqual(readdirSync(sub).sort(), [...kept, 'out.mp4'].sort());
  for (const name of stale) assert.equal(existsSync(join(sub, name)), false);

  // The same for a folder written as a whole (a batch input's keyframes).
  leftover(`.p1.part-${dead}-0123abcd`, old, true);
  await withAtomicFolder(join(sub, 'p1'), async (temp) => writeFileSync(join(temp, 'frame.png'), 'done'));
  assert.deepEqual(readdirSync(sub).filter((f) => f.includes('p1')), ['p1']);
});
