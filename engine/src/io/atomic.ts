/**
 * Atomic output: everything is written to a temporary file in the destination folder (same file
 * system, so the final rename is atomic), flushed with fsync, then renamed over the requested name.
 * A crash, an error or Ctrl+C leaves at most a hidden temp file, never a
 * half-written file under the requested name; on error or abort the temp file is removed.
 * Temp names are `.name.part-PID-XXXXXXXX.ext`: hidden, with the real extension kept, and naming the
 * process that writes them, so that the next output written to that name removes what a killed process
 * left (removeStaleParts).
 *
 * What is never replaced, checked before the work and again just before the rename: a folder, anything
 * that is not a regular file (a device node, a FIFO, a socket; through a symlink too), and a file this
 * process read as an input (by device and inode, so a symlink or hard link to the input is caught).
 */
import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { copyFile, link, lstat, open, readdir, realpath, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { PaintsUndoError, throwIfCancelled } from '../core/errors.js';
import { fileKindOf, inputReadAs } from './input-file.js';
import { makeFolders } from './make-folder.js';
import { asOutputError, errnoOf, notWritable, refusedIn, writeFailureReason } from './write-errors.js';

export { notWritable } from './write-errors.js';

/** The guard of "never replace the input": INVALID_OPTION, since the user chose the same file twice. */
export function outputIsInput(path: string, input: string): PaintsUndoError {
  const same = resolve(path) === resolve(input) ? '' : ` (it is the same file as ${input})`;
  return new PaintsUndoError('INVALID_OPTION', `The output ${path} is the input image; it would be overwritten${same}.`, {
    hint: 'Give a different output name with -o.',
    details: { output: path, input },
  });
}

/**
 * Refuses to replace what is at `target` unless it is nothing or a regular file that is not an input of
 * this process. Symlinks are followed for the check (a link to a device or to the input is refused);
 * the rename itself replaces the link, never its target.
 */
async function checkReplaceable(path: string, target: string): Promise<void> {
  let info: BigIntStats;
  try {
    info = await stat(target, { bigint: true });
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw notWritable(path, writeFailureReason(error), error);
  }
  if (info.isDirectory()) throw notWritable(path, 'it is a folder; give the name of a file to write');
  if (!info.isFile()) {
    throw notWritable(path, `it is ${fileKindOf(info)}, not a regular file, and is never replaced`, undefined, 'Choose an output file name that does not exist yet, or an ordinary file to replace.');
  }
  const input = inputReadAs(info);
  if (input !== undefined) throw outputIsInput(path, input);
}

/** Throws unless `path` may be replaced by an output (nothing there, or a regular file that is not an input). */
export async function assertReplaceable(path: string): Promise<void> {
  await checkReplaceable(path, resolve(path));
}

/**
 * Proves that files can be created in `folder` by creating and removing a hidden probe file: access()
 * says yes to root everywhere and knows nothing of /proc, read-only mounts or full inode tables.
 */
async function probeFolder(path: string, folder: string): Promise<void> {
  const probe = join(folder, `.paints-undo-probe-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx', 0o600);
    await handle.close();
  } catch (error) {
    throw notWritable(path, writeFailureReason(refusedIn(error, folder)), error);
  }
  await rm(probe, { force: true });
}

/**
 * Checks that `path` can be created or replaced as a file: its folder exists and takes new files, and
 * `path` is nothing yet or a regular file that is not an input (see checkReplaceable). With
 * `createFolder`, a missing folder is created first. Leaves nothing behind.
 */
export async function ensureWritableFile(path: string, options: { createFolder?: boolean } = {}): Promise<string> {
  const target = resolve(path);
  const folder = dirname(target);
  if (options.createFolder) await ensureFolder(folder);
  await refuseSystemFolder(path, folder);
  await checkReplaceable(path, target);
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) throw notWritable(path, `${folder} is not a folder`);
  } catch (error) {
    if (error instanceof PaintsUndoError) throw error;
    if (errnoOf(error) === 'ENOENT') {
      const mkdir = process.platform === 'win32' ? `mkdir "${folder}"` : `mkdir -p "${folder}"`;
      throw notWritable(path, `the folder ${folder} does not exist`, error, `Create the folder (${mkdir}), or choose an output in a folder that exists.`);
    }
    throw notWritable(path, writeFailureReason(error), error);
  }
  await probeFolder(path, folder);
  return target;
}

/**
 * The folder of device files: an output there would replace a system entry, however writable /dev is to
 * root (renaming over /dev/stdout replaced that link with an MP4 for the whole container). /dev/shm is
 * ordinary shared memory scratch space and stays allowed. (/proc and /sys take no new files: the folder
 * probe refuses them with that reason.)
 */
const SYSTEM_FOLDER = /^\/dev(?!\/shm(?:\/|$))(?:\/|$)/;

async function refuseSystemFolder(path: string, folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  const real = await realpath(folder).catch(() => folder);
  if (!SYSTEM_FOLDER.test(real)) return;
  throw notWritable(
    path,
    'it is in /dev, which holds device files, not outputs',
    undefined,
    'Give an output file in an ordinary folder. Output to standard output (-o /dev/stdout) is not supported: write a file, then pass it on.',
  );
}

/**
 * Checks, leaving nothing behind, that `folder` exists as a folder that takes new files, or could be
 * created: its nearest existing ancestor is such a folder. Used to fail fast before long jobs.
 */
export async function checkFolderWritable(folder: string): Promise<string> {
  const target = resolve(folder);
  await refuseSystemFolder(folder, target);
  let current = target;
  for (;;) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) throw notWritable(folder, current === target ? `it is ${fileKindOf(info)}, not a folder` : `${current} is not a folder`);
      await probeFolder(folder, current);
      return target;
    } catch (error) {
      if (error instanceof PaintsUndoError) throw error;
      if (errnoOf(error) !== 'ENOENT') throw notWritable(folder, writeFailureReason(error), error);
    }
    const parent = dirname(current);
    if (parent === current) throw notWritable(folder, 'no part of the path exists');
    current = parent;
  }
}

/** Creates `folder` (and parents) if needed and checks it takes new files. */
export async function ensureFolder(folder: string): Promise<string> {
  return (await makeOutputFolder(folder)).target;
}

/** ensureFolder, also saying which folders it created (outermost first). */
async function makeOutputFolder(folder: string): Promise<{ target: string; created: string[] }> {
  const target = resolve(folder);
  await refuseSystemFolder(folder, target);
  let created: string[] = [];
  try {
    const info = await stat(target);
    if (!info.isDirectory()) throw notWritable(folder, `it is ${fileKindOf(info)}, not a folder`);
  } catch (error) {
    if (error instanceof PaintsUndoError) throw error;
    if (errnoOf(error) !== 'ENOENT') throw notWritable(folder, writeFailureReason(error), error);
    try {
      created = await makeFolders(target);
    } catch (mkdirError) {
      throw notWritable(folder, writeFailureReason(mkdirError), mkdirError);
    }
  }
  try {
    await probeFolder(folder, target);
  } catch (error) {
    await removeIfEmpty(created);
    throw error;
  }
  return { target, created };
}

/** Removes `folders` (outermost first) innermost first, stopping at the first that is not empty. */
async function removeIfEmpty(folders: readonly string[]): Promise<void> {
  for (const folder of [...folders].reverse()) {
    try {
      await rmdir(folder);
    } catch {
      return;
    }
  }
}

/**
 * Runs `write(folder)` for an output folder that the job shares with whatever is already in it (each of
 * its files written atomically): `folder` is created with its parents if needed, and the folders this
 * call created are removed again if `write` left them empty (it failed, was cancelled, or was a batch
 * whose every input failed), so such a run leaves not even an empty folder behind. A folder that existed
 * before is never removed.
 */
export async function withOutputFolder<T>(folder: string, write: (target: string) => Promise<T>): Promise<T> {
  const { target, created } = await makeOutputFolder(folder);
  try {
    return await write(target);
  } finally {
    await removeIfEmpty(created);
  }
}

/** A temp path next to `target` that keeps its extension (ffmpeg and others pick formats from it) and names this process. */
export function tempPathFor(target: string): string {
  const ext = extname(target);
  const base = basename(target, ext);
  return join(dirname(target), `.${base}.part-${process.pid}-${randomBytes(4).toString('hex')}${ext}`);
}

/**
 * How long a temp file must have been left untouched to count as left over: a writer on another machine
 * that shares the folder (whose process id means nothing here) writes far more often than that.
 */
export const STALE_PART_MS = 15 * 60 * 1000;

/**
 * Removes what killed runs (SIGKILL, the out-of-memory killer, a power cut) left next to `target`: temp
 * files and folders named for `target` by tempPathFor, whose process no longer runs on this machine and
 * which nobody touched for STALE_PART_MS. Called once a new output is in place at `target`, which
 * supersedes them. Best effort: what cannot be read or removed stays.
 */
export async function removeStaleParts(target: string): Promise<void> {
  const ext = extname(target);
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(target, ext))}\\.part-(\\d+)-[0-9a-f]{8}${escapeRegExp(ext)}$`);
  const folder = dirname(target);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = pattern.exec(name)?.[1];
    if (pid === undefined || processRuns(Number(pid))) continue;
    const path = join(folder, name);
    try {
      const info = await stat(path);
      if (Date.now() - info.mtimeMs < STALE_PART_MS) continue;
      await rm(path, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not ours to remove: left as it is.
    }
  }
}

/** Whether a process with this id runs on this machine (one we may not signal runs too). */
function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) !== 'ESRCH';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
    // Again just before the rename: the output may have become a device, a FIFO or an input meanwhile.
    await checkReplaceable(path, target);
    await rename(temp, target);
    await fsyncFolder(dirname(target));
    await removeStaleParts(target);
    return result;
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw asOutputError(path, error);
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

/**
 * The files of one output written as a whole (keyframes, layer PNGs): each file atomically, and the set
 * all or nothing. A file the output replaces is kept under a hidden temp name (a hard link: no copy)
 * until `commit`; `rollback` (an error, Ctrl+C) puts every replaced file back and removes the files the
 * output added. So a cancelled export into the folder of an earlier one leaves that folder as it was.
 * A process killed in between leaves the kept files under temp names, which the next output to those
 * names removes (removeStaleParts).
 */
export class FileSet {
  /** Files this set wrote where there was none. */
  private readonly added: string[] = [];
  /** Files this set replaced or removed, with where their earlier content is kept; `displaced` once it is no longer at `path`. */
  private readonly replaced: { path: string; kept: string; displaced: boolean }[] = [];

  /**
   * Writes `data` to `path` atomically, keeping what was there until the set is committed. The folder
   * checks are writeFileAtomic's; only what is at `path` is looked at first, before it is kept.
   */
  async write(path: string, data: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<void> {
    const target = resolve(path);
    await checkReplaceable(path, target);
    const kept = await keepExisting(path, target);
    const entry = kept === undefined ? undefined : { path: target, kept, displaced: false };
    if (entry) this.replaced.push(entry);
    await writeFileAtomic(path, data, options);
    if (entry) entry.displaced = true;
    else this.added.push(target);
  }

  /**
   * Removes the file at `path` (one an earlier output wrote that this one does not), keeping it until the
   * set is committed. Only a regular file that is not an input of this process is removed: anything
   * else there is left alone (false).
   */
  async remove(path: string): Promise<boolean> {
    const target = resolve(path);
    let info: BigIntStats;
    try {
      info = await lstat(target, { bigint: true });
    } catch {
      return false;
    }
    if (!info.isFile() || inputReadAs(info) !== undefined) return false;
    const kept = await keepExisting(path, target);
    if (kept === undefined) return false;
    const entry = { path: target, kept, displaced: false };
    this.replaced.push(entry);
    try {
      await unlink(target);
    } catch (error) {
      throw notWritable(path, writeFailureReason(error), error);
    }
    entry.displaced = true;
    return true;
  }

  /** The output is complete: what it replaced is let go. */
  async commit(): Promise<void> {
    await Promise.all(this.replaced.map((r) => rm(r.kept, { force: true }).catch(() => undefined)));
    this.replaced.length = 0;
    this.added.length = 0;
  }

  /** The output failed or was cancelled: replaced files are put back, added ones removed. Best effort. */
  async rollback(): Promise<void> {
    await Promise.all([
      ...this.added.map((path) => rm(path, { force: true }).catch(() => undefined)),
      ...this.replaced.map((r) => (r.displaced ? rename(r.kept, r.path) : rm(r.kept, { force: true })).catch(() => undefined)),
    ]);
    this.replaced.length = 0;
    this.added.length = 0;
  }
}

/** A hidden second name for the regular file at `target` (undefined when there is none), so that replacing `target` does not lose it. */
async function keepExisting(path: string, target: string): Promise<string | undefined> {
  const kept = tempPathFor(target);
  try {
    await link(target, kept);
    return kept;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    // File systems without hard links (some network and FAT volumes): a copy does the same.
    try {
      await copyFile(target, kept);
      return kept;
    } catch (copyError) {
      if (errnoOf(copyError) === 'ENOENT') return undefined;
      throw asOutputError(path, copyError);
    }
  }
}
