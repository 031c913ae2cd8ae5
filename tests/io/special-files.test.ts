/**
 * User paths that are not ordinary files: devices, FIFOs, sockets, symlinks and hard links to them or to
 * the input, /proc. Inputs are refused before they are opened and read with a cap; outputs never replace
 * them (issue 10, items 1-4 and the /proc pre-check).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, linkSync, openSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { decodeImageFile } from '../../engine/src/io/decode.js';
import { checkFolderWritable, ensureFolder, ensureWritableFile, writeFileAtomic } from '../../engine/src/io/atomic.js';
import { readInputFile } from '../../engine/src/io/input-file.js';
import { encodePng } from '../../engine/src/io/png.js';
import { makeFifo, makeNullDevice, rejection, tempFolder, testCard, withDeadline } from './helpers.js';

const dir = tempFolder('paints-undo-special-');
let fifo: string;
let device: string | undefined;
let socketPath: string;
let server: Server;
let art: string;

before(async () => {
  fifo = makeFifo(join(dir, 'pipe.png'));
  device = makeNullDevice(join(dir, 'null.png'));
  socketPath = join(dir, 'socket.png');
  server = createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  art = join(dir, 'art.png');
  writeFileSync(art, await encodePng(testCard(48, 32), undefined));
});

after(() => {
  server.close();
  // Should a regression leave a thread blocked opening the FIFO, opening its write end releases it.
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // ENXIO: nobody is reading it, as it should be.
  }
});

test('inputs that are not regular files are refused before they are opened, in milliseconds', async () => {
  const link = join(dir, 'zero-link.png');
  symlinkSync('/dev/zero', link);
  const cases: [string, RegExp][] = [
    [fifo, /pipe\.png is a FIFO \(named pipe\), not a regular file/],
    [socketPath, /socket\.png is a socket, not a regular file/],
    [link, /zero-link\.png is a character device/],
    ['/dev/zero', /\/dev\/zero is a character device, not a regular file/],
  ];
  for (const [path, message] of cases) {
    // A FIFO nobody writes to would block forever and /dev/zero never ends: the deadline catches both.
    const error = await withDeadline(rejection(() => decodeImageFile(path)), 5000, `decoding ${path}`);
    assert.equal(error.code, 'INPUT_NOT_IMAGE', path);
    assert.match(error.message, message);
    assert.match(error.hint ?? '', /Save the artwork as a file/);
  }
  const folder = await rejection(() => decodeImageFile(dir));
  assert.equal(folder.code, 'INPUT_NOT_FOUND');
  assert.match(folder.message, /is a folder, not an image file/);
});

test('a file read through a symlink decodes; the size limit holds for files whose stat size lies', async () => {
  const link = join(dir, 'art-link.png');
  symlinkSync(art, link);
  assert.equal((await decodeImageFile(link)).source.image.width, 48);
  const small = await rejection(() => decodeImageFile(art, { limits: { maxFileBytes: 100 } }));
  assert.equal(small.code, 'INPUT_TOO_LARGE');
  assert.match(small.message, /more than the 100 bytes limit/);
  // /proc files say 0 bytes in stat and then produce more: the read stops at the cap.
  assert.equal(statSync('/proc/self/maps').size, 0);
  const proc = await rejection(() => readInputFile('/proc/self/maps', { maxBytes: 64 }));
  assert.equal(proc.code, 'INPUT_TOO_LARGE');
  assert.match(proc.message, /larger than the 64 bytes limit; reading stopped there/);
  assert.ok((await readInputFile('/proc/self/maps', { maxBytes: 1 << 20 })).length > 64);
});

test('outputs never replace a FIFO, a device, a socket or a link to one; the node is left as it was', async () => {
  const targets: [string, RegExp][] = [
    [fifo, /is a FIFO \(named pipe\), not a regular file, and is never replaced/],
    [socketPath, /is a socket/],
  ];
  if (device !== undefined) targets.push([device, /is a character device/]);
  const link = join(dir, 'null-link.png');
  symlinkSync('/dev/null', link);
  targets.push([link, /is a character device/]);
  for (const [path, message] of targets) {
    for (const attempt of [() => ensureWritableFile(path), () => writeFileAtomic(path, new Uint8Array([1, 2, 3]))]) {
      const error = await rejection(attempt);
      assert.equal(error.code, 'OUTPUT_NOT_WRITABLE', path);
      assert.match(error.message, message);
    }
  }
  assert.ok(lstatSync(fifo).isFIFO());
  assert.ok(lstatSync(socketPath).isSocket());
  if (device !== undefined) assert.ok(lstatSync(device).isCharacterDevice());
  assert.ok(lstatSync(link).isSymbolicLink());
  const folderIsFifo = await rejection(() => ensureFolder(fifo));
  assert.match(folderIsFifo.message, /it is a FIFO \(named pipe\), not a folder/);
  assert.match((await rejection(() => checkFolderWritable(fifo))).message, /it is a FIFO/);
});

test('an input read by this process is never replaced by an output, whatever path reaches it', async () => {
  const sub = join(dir, 'guard');
  mkdirSync(sub);
  const input = join(sub, 'in.png');
  writeFileSync(input, readFileSync(art));
  const original = readFileSync(input);
  const viaSymlink = join(sub, 'link.png');
  symlinkSync('in.png', viaSymlink);
  const viaHardLink = join(sub, 'hard.png');
  linkSync(input, viaHardLink);
  await decodeImageFile(viaSymlink);
  for (const output of [input, viaSymlink, viaHardLink, join(sub, '..', 'guard', 'in.png')]) {
    const error = await rejection(() => writeFileAtomic(output, new Uint8Array([0])));
    assert.equal(error.code, 'INVALID_OPTION', output);
    assert.match(error.message, /is the input image; it would be overwritten/);
  }
  assert.deepEqual(readFileSync(input), original);
  // Another file in the same folder is written as usual.
  await writeFileAtomic(join(sub, 'out.png'), new Uint8Array([7]));
  assert.deepEqual([...readFileSync(join(sub, 'out.png'))], [7]);
});

test('outputs on a file system that takes no new files (/proc) fail up front with the real reason', async () => {
  for (const check of [() => ensureWritableFile('/proc/o.png'), () => checkFolderWritable('/proc/new-folder/x'), () => ensureFolder('/proc/new-folder')]) {
    const error = await rejection(check);
    assert.equal(error.code, 'OUTPUT_NOT_WRITABLE');
    assert.doesNotMatch(error.message, /does not exist/);
    assert.match(error.message, /does not allow/);
  }
});
