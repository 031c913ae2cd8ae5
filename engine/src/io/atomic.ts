/**
 * Atomic output: everything is written to a temporary file in the destination folder (same file
 * system, so the final rename is atomic), flushed with fsync, then renamed over the requested name.
 * A crash, an error or Ctrl+C leaves at most a hidden temp file, never a
 * half-written file under the requested name; on error or abort the temp file is removed.
 * Temp names are `.name.part-XXXXXXXX.ext`: hidden, and with the real extension kept.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { PaintsUndoError, throwIfCancelled } from '../core/errors.js';

export function notWritable(path: string, reason: string, cause?: unknown): PaintsUndoError {
  return new PaintsUndoError('OUTPUT_NOT_WRITABLE', `Cannot write ${path}: ${reason}.`, {
    hint: 'Choose an output path in a folder you can write to (for example your home folder), or fix the folder permissions.',
    details: { path, reason },
    cause,
  });
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'the folder does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'the disk is full';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/**
 * Checks that `path` can be created or replaced as a file: its folder exists and is writable, and
 * `path` is not a folder. With `createFolder`, a missing folder is created first.
 */
export async function ensureWritableFile(path: string, options: { createFolder?: boolean } = {}): Promise<string> {
  const target = resolve(path);
  const folder = dirname(target);
  if (options.createFolder) await ensureFolder(folder);
  try {
    const info = await stat(target);
    if (info.isDirectory()) throw notWritable(path, 'it is a folder; give a file name such as out.mp4');
  } catch (error) {
    if (error instanceof PaintsUndoError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw notWritable(path, reasonOf(error), error);
  }
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) throw notWritable(path, `${folder} is not a folder`);
    await access(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof PaintsUndoError) throw error;
    throw notWritable(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? `the folder ${folder} does not exist` : reasonOf(error), error);
  }
  return target;
}

/**
 * Checks, without creating anything, that `folder` exists as a writable folder or could be created:
 * its nearest existing ancestor is a writable folder. Used to fail fast before long jobs.
 */
export async function checkFolderWritable(folder: string): Promise<string> {
  const target = resolve(folder);
  let current = target;
  for (;;) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) throw notWritable(folder, current === target ? 'it is a file, not a folder' : `${current} is not a folder`);
      await access(current, constants.W_OK);
      return target;
    } catch (error) {
      if (error instanceof PaintsUndoError) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw notWritable(folder, reasonOf(error), error);
    }
    const parent = dirname(current);
    if (parent === current) throw notWritable(folder, 'no part of the path exists');
    current = parent;
  }
}

/** Creates `folder` (and parents) if needed and checks it is writable. */
export async function ensureFolder(folder: string): Promise<string> {
  const target = resolve(folder);
  try {
    await mkdir(target, { recursive: true });
    await access(target, constants.W_OK);
  } catch (error) {
    throw notWritable(folder, reasonOf(error), error);
  }
  return target;
}

/** A temp path next to `target` that keeps its extension (ffmpeg and others pick formats from it). */
export function tempPathFor(target: string): string {
  const ext = extname(target);
  const base = basename(target, ext);
  return join(dirname(target), `.${base}.part-${randomBytes(4).toString('hex')}${ext}`);
}

/**
 * Runs `write(tempPath)` and, when it resolves, fsyncs the temp file and renames it to `path`.
 * On error or abort the temp file is removed and the error is rethrown.
 */
export async function withAtomicFile<T>(
  path: string,
  write: (tempPath: string) => Promise<T>,
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  const target = await ensureWritableFile(path);
  const temp = tempPathFor(target);
  try {
    const result = await write(temp);
    throwIfCancelled(options.signal);
    await fsyncFile(temp);
    await rename(temp, target);
    await fsyncFolder(dirname(target));
    return result;
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    if (error instanceof PaintsUndoError) throw error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw notWritable(path, reasonOf(error), error);
    throw error;
  }
}

/** Writes `data` to `path` atomically. */
export async function writeFileAtomic(path: string, data: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<void> {
  await withAtomicFile(
    path,
    async (temp) => {
      const handle = await open(temp, 'wx', 0o644);
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
    },
    options,
  );
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the rename itself durable; not every platform can open a folder, so failures are ignored. */
export async function fsyncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot fsync folders; the rename is still atomic there.
  }
}
