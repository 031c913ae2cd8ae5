/**
 * Creates a folder and its missing parents, one level at a time. Not `mkdir(path, {recursive: true})`:
 * Node's recursive mkdir loops forever, at full CPU, when a parent exists but refuses new entries with
 * ENOENT (`/proc/x/y`, some FUSE and network file systems): the sync form freezes the process and the
 * async form a thread-pool thread. Here every failure is the plain errno of the level that failed.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { refusedIn } from './write-errors.js';

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function notAFolder(path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${path} is not a folder`);
  error.code = 'ENOTDIR';
  error.path = path;
  return error;
}

/** The missing folders of `target`, outermost first; throws ENOTDIR when an existing part is not a folder. */
async function missingFolders(target: string): Promise<string[]> {
  const missing: string[] = [];
  for (let current = target; ; current = dirname(current)) {
    try {
      if (!(await stat(current)).isDirectory()) throw notAFolder(current);
      return missing.reverse();
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
    }
  }
}

/**
 * Creates `path` and its missing parents (with `mode`); EEXIST from a concurrent creator is fine.
 * Returns the folders this call created, outermost first.
 */
export async function makeFolders(path: string, options: { mode?: number } = {}): Promise<string[]> {
  const created: string[] = [];
  for (const folder of await missingFolders(resolve(path))) {
    try {
      await mkdir(folder, options.mode === undefined ? {} : { mode: options.mode });
      created.push(folder);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw refusedIn(error, dirname(folder));
    }
  }
  return created;
}

/** makeFolders for start-up code that is synchronous. */
export function makeFoldersSync(path: string, options: { mode?: number } = {}): void {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      if (!statSync(current).isDirectory()) throw notAFolder(current);
      break;
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
    }
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder, options.mode === undefined ? {} : { mode: options.mode });
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw refusedIn(error, dirname(folder));
    }
  }
}
