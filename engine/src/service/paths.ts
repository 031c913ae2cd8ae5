/**
 * Where the engine keeps its files, per platform conventions:
 * - cache:  $PAINTS_UNDO_CACHE_DIR, else Linux $XDG_CACHE_HOME/paints-undo (~/.cache/paints-undo),
 *           macOS ~/Library/Caches/paints-undo, Windows %LOCALAPPDATA%\paints-undo\Cache
 * - config: $PAINTS_UNDO_CONFIG_DIR, else Linux $XDG_CONFIG_HOME/paints-undo (~/.config/paints-undo),
 *           macOS ~/Library/Application Support/paints-undo, Windows %APPDATA%\paints-undo
 * The pairing token lives in <config>/token, readable by the user only (0600).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, renameSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PaintsUndoError } from '../core/errors.js';

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

/** Reads the token file; undefined when it does not exist yet. */
export function readToken(configDir: string = defaultConfigDir()): string | undefined {
  const path = tokenFilePath(configDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PaintsUndoError('INPUT_NOT_FOUND', `Cannot read the engine token at ${path}: ${(error as Error).message}`, {
      hint: `Check the permissions of ${path} (it must be readable by you only).`,
    });
  }
  if (!TOKEN_RE.test(text)) {
    throw new PaintsUndoError('INVALID_OPTION', `The token file ${path} does not hold a token (64 hex digits).`, {
      hint: `Delete ${path}; the engine creates a new one on its next start (clients must pair again).`,
    });
  }
  return text;
}

/**
 * Returns the per-install token, creating it (32 random bytes, hex) on first run. The file is written
 * with mode 0600 to a temporary name and renamed, so a concurrent engine start never reads half a token;
 * if two engines race, the later rename wins and both re-read the winner.
 */
export function ensureToken(configDir: string = defaultConfigDir()): { token: string; created: boolean; path: string } {
  const path = tokenFilePath(configDir);
  const existing = readToken(configDir);
  if (existing) {
    tightenPermissions(path);
    return { token: existing, created: false, path };
  }
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
  const token = readToken(configDir);
  if (!token) throw new PaintsUndoError('INTERNAL', `The token file ${path} vanished right after it was written.`);
  return { token, created: true, path };
}

function tightenPermissions(path: string): void {
  if (process.platform === 'win32') return;
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch {
    // Not ours to fix (e.g. owned by another user); reading it already worked.
  }
}
