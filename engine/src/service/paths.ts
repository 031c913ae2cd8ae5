/**
 * Where the engine keeps its files, per platform conventions:
 * - cache:  $PAINTS_UNDO_CACHE_DIR, else Linux $XDG_CACHE_HOME/paints-undo (~/.cache/paints-undo),
 *           macOS ~/Library/Caches/paints-undo, Windows %LOCALAPPDATA%\paints-undo\Cache
 * - config: $PAINTS_UNDO_CONFIG_DIR, else Linux $XDG_CONFIG_HOME/paints-undo (~/.config/paints-undo),
 *           macOS ~/Library/Application Support/paints-undo, Windows %APPDATA%\paints-undo
 * The pairing token lives in <config>/token, readable by the user only (0600).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PaintsUndoError } from '../core/errors.js';
import { makeFoldersSync } from '../io/make-folder.js';
import { notWritable, writeConditionOf, writeFailureReason } from '../io/write-errors.js';

type Env = Readonly<Record<string, string | undefined>>;

export function defaultCacheDir(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.PAINTS_UNDO_CACHE_DIR) return env.PAINTS_UNDO_CACHE_DIR;
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'paints-undo');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'paints-undo', 'Cache');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'paints-undo');
}

export function defaultConfigDir(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.PAINTS_UNDO_CONFIG_DIR) return env.PAINTS_UNDO_CONFIG_DIR;
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'paints-undo');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'paints-undo');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'paints-undo');
}

export function tokenFilePath(configDir: string = defaultConfigDir()): string {
  return join(configDir, 'token');
}

const TOKEN_RE = /^[0-9a-f]{64}$/;

/** A token file is 65 bytes; anything much longer is not one (and is not read whole). */
const MAX_TOKEN_FILE_BYTES = 1024;

/**
 * Reads the token file; undefined when it does not exist yet. The file must be a regular file owned by
 * this user, not a symbolic link: a link (or a file another user owns) could hand the engine a token that
 * someone else knows, and chmod through a link would change a file that is not ours. It is opened with
 * O_NOFOLLOW | O_NONBLOCK (a FIFO put in its place cannot block the start), checked on the open
 * descriptor, and its permissions are tightened on that descriptor too.
 */
export function readToken(configDir: string = defaultConfigDir()): string | undefined {
  const path = tokenFilePath(configDir);
  const fix = `Delete ${path}; the engine creates a new token on its next start (clients must pair again).`;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new PaintsUndoError('INVALID_OPTION', `The token file ${path} is a symbolic link; the engine does not follow it.`, { hint: fix });
    }
    throw new PaintsUndoError('INPUT_NOT_FOUND', `Cannot read the engine token at ${path}: ${(error as Error).message}`, {
      hint: `Check the permissions of ${path} (it must be readable by you only).`,
    });
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new PaintsUndoError('INVALID_OPTION', `The token file ${path} is not a regular file.`, { hint: fix });
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      throw new PaintsUndoError('INVALID_OPTION', `The token file ${path} belongs to user ${info.uid}, not to you (user ${uid}).`, { hint: fix });
    }
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('utf8').trim();
    if (!TOKEN_RE.test(text)) {
      throw new PaintsUndoError('INVALID_OPTION', `The token file ${path} does not hold a token (64 hex digits).`, { hint: fix });
    }
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    return text;
  } finally {
    closeSync(fd);
  }
}

function configHint(error: unknown): string {
  return writeConditionOf(error)?.space
    ? 'Free some disk space, or set PAINTS_UNDO_CONFIG_DIR to a folder on another disk, and run it again.'
    : 'Point the configuration folder somewhere writable with PAINTS_UNDO_CONFIG_DIR.';
}

/**
 * Returns the per-install token, creating it (32 random bytes, hex) on first run. The file is written
 * with mode 0600 to a temporary name and renamed, so a concurrent engine start never reads half a token;
 * if two engines race, the later rename wins and both re-read the winner.
 */
export function ensureToken(configDir: string = defaultConfigDir()): { token: string; created: boolean; path: string } {
  const path = tokenFilePath(configDir);
  const existing = readToken(configDir);
  if (existing) return { token: existing, created: false, path };
  try {
    makeFoldersSync(configDir, { mode: 0o700 });
  } catch (error) {
    throw notWritable(configDir, writeFailureReason(error), error, configHint(error));
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (error) {
    // A full disk: no half-written token stays behind to be refused on the next start.
    rmSync(tmp, { force: true });
    throw notWritable(path, writeFailureReason(error), error, configHint(error));
  }
  const token = readToken(configDir);
  if (!token) throw new PaintsUndoError('INTERNAL', `The token file ${path} vanished right after it was written.`);
  return { token, created: true, path };
}
