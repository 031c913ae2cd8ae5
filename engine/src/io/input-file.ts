/**
 * The one way a user-given path is read (CLI inputs, eval inputs, `image.put {path}`).
 *
 * - Only regular files are read, after following symlinks: a FIFO, a device (/dev/zero, /dev/stdin),
 *   a socket or a folder is refused before it is opened, because a device never ends and a FIFO blocks
 *   a thread forever (and with it Ctrl+C, see cli/interrupt.ts).
 * - The file is opened with O_NONBLOCK (a FIFO swapped in after the check cannot block the open) and the
 *   opened descriptor is checked again (same file, still regular), so a swap between check and open is
 *   caught.
 * - At most `maxBytes` are read, streamed with a cap: the stat size is only a hint (/proc files say 0,
 *   files grow while read).
 * - Every file read here is remembered by device and inode: the atomic writer (atomic.ts) refuses to
 *   replace it, whatever path (symlink, hard link, `..`) an output takes to reach it.
 */
import { constants, type BigIntStats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { PaintsUndoError, throwIfCancelled } from '../core/errors.js';

export interface ReadInputOptions {
  /** Bytes refused before reading (stat size) or as soon as the stream passes them. */
  readonly maxBytes: number;
  /** What to do about a too-large file, one sentence. */
  readonly tooLargeHint?: string;
  readonly signal?: AbortSignal;
  /**
   * False for a file read for reference, not as an input (an earlier export's manifest): outputs may
   * replace it. Default true: outputs never overwrite a file this process read as an input.
   */
  readonly input?: boolean;
}

/** Regular files are read as they are; others are refused by what they are, in the user's words. */
export function fileKindOf(info: Pick<BigIntStats, 'isFile' | 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket' | 'isSymbolicLink'>): string {
  if (info.isFile()) return 'a file';
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** Device and inode, the identity of a file whatever path reaches it. */
export function fileIdentity(info: Pick<BigIntStats, 'dev' | 'ino'>): string {
  return `${info.dev}:${info.ino}`;
}

/** Identities of the files this process read as inputs, with the path each was read from. */
const inputsRead = new Map<string, string>();

/** The path an input was read from, when `info` is a file this process read as an input. */
export function inputReadAs(info: Pick<BigIntStats, 'dev' | 'ino'>): string | undefined {
  return inputsRead.get(fileIdentity(info));
}

/**
 * Protects existing files from this process's outputs without reading them (e.g. every image of an
 * eval folder before the first sheet is written). Paths that do not exist are skipped.
 */
export async function protectInputs(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    try {
      const info = await stat(path, { bigint: true });
      if (info.isFile()) inputsRead.set(fileIdentity(info), path);
    } catch {
      // Missing or unreadable: there is nothing to overwrite, and reading it will say why.
    }
  }
}

/** The identity (device:inode) of the regular file at `path`, symlinks followed; undefined when there is none. */
export async function fileIdentityAt(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path, { bigint: true });
    return info.isFile() ? fileIdentity(info) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether real path `inner` lies inside (or is) real path `folder`. */
function isInside(inner: string, folder: string): boolean {
  return inner === folder || inner.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * Which of `files` lie inside `folder`, symlinks resolved on both sides (a folder replaced as a whole
 * must not take an input with it). Files that no longer exist are skipped.
 */
export async function filesInside(folder: string, files: Iterable<string>): Promise<string[]> {
  let root: string;
  try {
    root = await realpath(folder);
  } catch {
    return [];
  }
  const inside: string[] = [];
  for (const file of files) {
    const real = await realpath(file).catch(() => undefined);
    if (real !== undefined && isInside(real, root)) inside.push(file);
  }
  return inside;
}

/** The inputs this process read that lie inside `folder` (see filesInside). */
export async function inputsInside(folder: string): Promise<string[]> {
  return filesInside(folder, inputsRead.values());
}

/** The error for an input path that cannot be opened or stat'ed. */
export function inputNotFound(path: string, error: unknown): PaintsUndoError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'cannot be read (permission denied)'
        : code === 'ELOOP'
          ? 'is a loop of symbolic links'
          : code === 'ENOTDIR'
            ? 'does not exist (a part of the path is not a folder)'
            : `cannot be read (${code ?? String(error)})`;
  return new PaintsUndoError('INPUT_NOT_FOUND', `The input ${path} ${reason}.`, {
    hint: code === 'ENOENT' || code === 'ENOTDIR' ? 'Check the path and the current folder.' : 'Check the path and the file permissions.',
    details: { path, errno: code },
    cause: error,
  });
}

function notRegular(path: string, kind: string): PaintsUndoError {
  if (kind === 'a folder') {
    return new PaintsUndoError('INPUT_NOT_FOUND', `The input ${path} is a folder, not an image file.`, {
      hint: 'Pass the path of one image file (PNG, JPEG, WebP, PSD...).',
      details: { path, kind },
    });
  }
  return new PaintsUndoError('INPUT_NOT_IMAGE', `The input ${path} is ${kind}, not a regular file; only image files saved on disk are read.`, {
    hint: 'Save the artwork as a file (PNG, JPEG, WebP, PSD...) and pass that file; to use data from a pipe or a device, write it to a file first.',
    details: { path, kind },
  });
}

function tooLarge(path: string, bytes: number | undefined, options: ReadInputOptions): PaintsUndoError {
  const limit = formatBytes(options.maxBytes);
  const message = bytes === undefined ? `The input ${path} is larger than the ${limit} limit; reading stopped there.` : `The input ${path} is ${formatBytes(bytes)}, more than the ${limit} limit.`;
  return new PaintsUndoError('INPUT_TOO_LARGE', message, {
    hint: options.tooLargeHint ?? 'Export the artwork at a smaller size (up to 4096 px on the long side is plenty).',
    details: { path, maxBytes: options.maxBytes, ...(bytes === undefined ? {} : { bytes }) },
  });
}

/** O_NONBLOCK makes opening a FIFO return at once; regular files ignore it. Windows has neither. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** Reads a user-given file: a regular file only, at most `maxBytes`; every failure is an INPUT_* error. */
export async function readInputFile(path: string, options: ReadInputOptions): Promise<Buffer> {
  let before: BigIntStats;
  try {
    before = await stat(path, { bigint: true });
  } catch (error) {
    throw inputNotFound(path, error);
  }
  if (!before.isFile()) throw notRegular(path, fileKindOf(before));
  if (before.size > BigInt(options.maxBytes)) throw tooLarge(path, Number(before.size), options);
  throwIfCancelled(options.signal);

  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    throw inputNotFound(path, error);
  }
  try {
    const opened = await handle.stat({ bigint: true });
    if (!opened.isFile()) throw notRegular(path, fileKindOf(opened));
    if (fileIdentity(opened) !== fileIdentity(before)) {
      throw new PaintsUndoError('INPUT_NOT_FOUND', `The input ${path} was replaced by another file while it was being opened.`, {
        hint: 'Run the command again once nothing else is writing that file.',
        details: { path },
      });
    }
    const bytes = await readCapped(handle, path, Number(opened.size), options);
    if (options.input !== false) inputsRead.set(fileIdentity(opened), path);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Reads to the end, refusing as soon as more than `maxBytes` arrived. */
async function readCapped(handle: FileHandle, path: string, expected: number, options: ReadInputOptions): Promise<Buffer> {
  const cap = options.maxBytes + 1;
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    throwIfCancelled(options.signal);
    // The first read asks for one byte more than stat said, so a file of the expected size needs two reads.
    const want = Math.min(cap - total, chunks.length === 0 ? Math.max(expected + 1, 64 * 1024) : 1024 * 1024);
    const chunk = Buffer.allocUnsafe(want);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(chunk, 0, want, null));
    } catch (error) {
      throw inputNotFound(path, error);
    }
    if (bytesRead === 0) break;
    chunks.push(bytesRead === want ? chunk : chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > options.maxBytes) throw tooLarge(path, undefined, options);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}
