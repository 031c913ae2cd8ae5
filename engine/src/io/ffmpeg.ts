/**
 * Finds a usable ffmpeg. $PAINTS_UNDO_FFMPEG, when set, is the only candidate (an explicit choice that
 * does not work is reported, never silently replaced). Otherwise: the system `ffmpeg` on PATH (usually
 * the best-maintained build), then the binary shipped by @ffmpeg-installer/ffmpeg.
 * "Usable" means it runs and has the encoders we need (libx264 for MP4, libvpx-vp9 for WebM, gif);
 * a system ffmpeg without libx264 (some distributions) is skipped in favour of the npm binary.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { PaintsUndoError } from '../core/errors.js';

export interface FfmpegInfo {
  readonly path: string;
  readonly source: 'env' | 'system' | 'npm';
  readonly version: string;
  readonly encoders: ReadonlySet<string>;
}

export const REQUIRED_ENCODERS = ['libx264', 'libvpx-vp9', 'gif'] as const;

let cached: Promise<FfmpegInfo> | undefined;

export function findFfmpeg(): Promise<FfmpegInfo> {
  cached ??= locate().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

export interface FfmpegCandidate {
  readonly path: string;
  readonly source: FfmpegInfo['source'];
}

/** Where ffmpeg is looked for, in order (see the module comment). */
export function ffmpegCandidates(env: NodeJS.ProcessEnv = process.env): FfmpegCandidate[] {
  const fromEnv = env['PAINTS_UNDO_FFMPEG'];
  if (fromEnv) return [{ path: fromEnv, source: 'env' }];
  const candidates: FfmpegCandidate[] = [{ path: process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg', source: 'system' }];
  const shipped = shippedFfmpegPath();
  if (shipped) candidates.push({ path: shipped, source: 'npm' });
  return candidates;
}

function locate(): Promise<FfmpegInfo> {
  return locateFfmpeg(ffmpegCandidates());
}

/** The first candidate that runs and has the required encoders; FFMPEG_MISSING (with what was tried) otherwise. */
export async function locateFfmpeg(candidates: readonly FfmpegCandidate[]): Promise<FfmpegInfo> {
  const tried: string[] = [];
  for (const candidate of candidates) {
    const info = await probe(candidate.path, candidate.source);
    if (typeof info === 'string') {
      tried.push(`${candidate.path} (${candidate.source}): ${info}`);
      continue;
    }
    const missing = REQUIRED_ENCODERS.filter((e) => !info.encoders.has(e));
    // An explicit choice is honoured even when incomplete; the encoder error then says what is missing.
    if (missing.length === 0 || candidate.source === 'env') return info;
    tried.push(`${candidate.path} (${candidate.source}): lacks encoders ${missing.join(', ')}`);
  }
  throw new PaintsUndoError('FFMPEG_MISSING', `No usable ffmpeg was found. Tried: ${tried.join('; ') || 'nothing'}.`, {
    hint:
      'Install ffmpeg with libx264 and libvpx (Debian/Ubuntu: sudo apt install ffmpeg; macOS: brew install ffmpeg; ' +
      'Windows: winget install ffmpeg), or set PAINTS_UNDO_FFMPEG to the path of a working ffmpeg binary.',
    details: { tried },
  });
}

function shippedFfmpegPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@ffmpeg-installer/ffmpeg') as { path?: unknown };
    return typeof mod.path === 'string' ? mod.path : undefined;
  } catch {
    // The package has no binary for this platform (it throws), or it is not installed.
    return undefined;
  }
}

/**
 * One run of `ffmpeg -encoders` (a process start costs ~0.1 s, and a job waits for it): the encoders are
 * listed on stdout, the version in the banner on stderr.
 */
async function probe(path: string, source: FfmpegInfo['source']): Promise<FfmpegInfo | string> {
  const run = await capture(path, ['-encoders']);
  if (run.error !== undefined) return run.error;
  const names = new Set<string>();
  for (const line of run.stdout.split('\n')) {
    // Lines look like " V....D libx264              libx264 H.264 / AVC ...".
    const match = /^\s*[VAS][A-Z.]{5}\s+(\S+)/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return { path, source, version: /ffmpeg version (\S+)/.exec(run.stderr)?.[1] ?? 'unknown', encoders: names };
}

/** The banner's size and more: what of stderr is kept (the version is on its first line). */
const STDERR_KEPT = 4096;

function capture(path: string, args: string[]): Promise<{ stdout: string; stderr: string; error?: string }> {
  return new Promise((resolvePromise) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (value: { stdout: string; stderr: string; error?: string }): void => {
      if (!settled) {
        settled = true;
        resolvePromise(value);
      }
    };
    let child;
    try {
      child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (error) {
      done({ stdout, stderr, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => done({ stdout, stderr, error: error.code === 'ENOENT' ? 'not found' : error.message }));
    child.on('close', (code) => done(code === 0 ? { stdout, stderr } : { stdout, stderr, error: `exited with code ${code}` }));
  });
}
