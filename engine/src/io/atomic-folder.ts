/**
 * A folder of outputs that appears complete or not at all, for a job that owns the whole folder (each
 * input's sub-folder in a CLI batch): the files are written into a hidden temp folder next to it
 * (`.name.part-PID-XXXXXXXX`, each file itself atomic, io/atomic.ts), which is then renamed to its name.
 * So an interrupted batch never leaves a half-filled folder that a rerun would take for done.
 *
 * A single `keyframes -o folder` does not use this: the user's folder may hold other files, which a
 * folder swap would remove; there each file is atomic and a failed job removes the files it wrote.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PaintsUndoError, throwIfCancelled } from '../core/errors.js';
import { fsyncFolder, notWritable, removeStaleParts, tempPathFor, withOutputFolder } from './atomic.js';
import { fileKindOf, inputsInside } from './input-file.js';
import { asOutputError, errnoOf } from './write-errors.js';

/** A folder replaced as a whole is deleted with everything in it: never one that holds an input. */
async function refuseIfHoldsInput(path: string, target: string): Promise<void> {
  const inputs = await inputsInside(target);
  if (inputs.length === 0) return;
  throw new PaintsUndoError('INVALID_OPTION', `The output folder ${path} holds the input ${inputs[0]}; replacing the folder would delete it.`, {
    hint: 'Choose an output folder that holds none of the input images.',
    details: { output: path, inputs },
  });
}

/**
 * Runs `write(tempFolder)` and, when it resolves, renames the temp folder to `path`. An existing folder
 * at `path` is replaced as a whole (moved aside, then removed once the new one is in place); a file
 * there is refused. On error or abort the temp folder is removed and the error rethrown.
 */
export async function withAtomicFolder<T>(path: string, write: (tempFolder: string) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
  const target = resolve(path);
  // Parent folders it creates (a batch's mirrored sub-folders) go again if it fails.
  return withOutputFolder(dirname(target), () => writeAtomicFolder(path, target, write, options));
}

async function writeAtomicFolder<T>(path: string, target: string, write: (tempFolder: string) => Promise<T>, options: { signal?: AbortSignal }): Promise<T> {
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw notWritable(path, `it is ${fileKindOf(existing)}, not a folder; remove it or choose another output folder`);
  if (existing) await refuseIfHoldsInput(path, target);
  const temp = tempPathFor(target);
  try {
    await mkdir(temp);
    const result = await write(temp);
    throwIfCancelled(options.signal);
    await refuseIfHoldsInput(path, target);
    await replaceFolder(temp, target);
    await fsyncFolder(dirname(target));
    await removeStaleParts(target);
    return result;
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw asOutputError(path, error);
  }
}

/** Puts `temp` at `target`; a non-empty folder there is moved aside first and removed after. */
async function replaceFolder(temp: string, target: string): Promise<void> {
  try {
    // Also replaces an empty folder at `target` (POSIX rename).
    await rename(temp, target);
    return;
  } catch (error) {
    const code = errnoOf(error);
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
  }
  const old = tempPathFor(target);
  await rename(target, old);
  try {
    await rename(temp, target);
  } catch (error) {
    await rename(old, target).catch(() => undefined);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
