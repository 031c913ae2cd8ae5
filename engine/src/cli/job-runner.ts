/**
 * Runs one job for a command: validates the options through the job schema, decodes the input, runs
 * the shared job runner (jobs/run.ts) with a progress reporter, and cancels cleanly on Ctrl+C.
 * Heavy modules (sharp, ag-psd, backends) load here, inside the action, never at start-up.
 */
import { stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import type { Progress } from '../core/backend.js';
import type { JobInput } from '../core/job.js';
import type { JobOutput } from '../jobs/run.js';
import type { Reporter } from './reporter.js';

/** Any valid image id works as a placeholder while options are checked; the real id comes from decoding. */
const PLACEHOLDER_ID = '0'.repeat(64);

/**
 * Signals that cancel the running job (which then removes its partial output) instead of killing the
 * process: Ctrl+C, SIGTERM, and SIGHUP (the terminal closed, an SSH session dropped).
 */
const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Creates an AbortSignal that fires on the first of INTERRUPTS; a second one ends the process at once
 * (the shell shows 130 for Ctrl+C). Call the returned `dispose` when the job ends.
 */
export function interruptSignal(reporter: Pick<Reporter, 'json' | 'stopBar'>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count++;
    if (count > 1) dieBy(signal);
    if (signal === 'SIGHUP') {
      // The terminal is gone (closed, or the SSH session dropped): nothing can be shown any more, and
      // writing to it fails; the job is still cancelled so that it removes its partial output.
      process.stderr.on('error', () => undefined);
      process.stdout.on('error', () => undefined);
      reporter.stopBar();
    } else if (!reporter.json) {
      reporter.stopBar();
      process.stderr.write('\npaints-undo: cancelling (press Ctrl+C again to quit at once)...\n');
    }
    controller.abort();
  };
  for (const name of INTERRUPTS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of INTERRUPTS) process.off(name, onSignal);
    },
  };
}

/**
 * Ends the process by `signal` with its default action, now. Not process.exit(): Node's exit joins the
 * libuv thread pool, and a thread stuck in a blocking call (opening a FIFO, a hung network file system)
 * never returns, so the process would hang. SIGKILL follows where the default action is "ignore"
 * (a shell started us with the signal ignored).
 */
function dieBy(signal: NodeJS.Signals): never {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  process.kill(process.pid, 'SIGKILL');
  // Unreachable: SIGKILL cannot be caught; this only satisfies `never`.
  throw new Error(`still alive after ${signal}`);
}

export interface CliJobRequest {
  /** Raw job fields from the flags (without `image`); validated here. */
  readonly job: Record<string, unknown> & { kind: string };
  readonly input: string;
  readonly output: string;
  readonly reporter: Reporter;
  /** Progress bar label, e.g. "timelapse". */
  readonly label: string;
}

/**
 * Validates the job fields from the flags (with a placeholder image id) and checks the backend exists:
 * option mistakes fail in milliseconds, before any file is read. Shared by single jobs and batches.
 */
export async function validateCliJob(fields: Record<string, unknown> & { kind: string }): Promise<JobInput> {
  const { parseOrThrow, JobInputSchema } = await import('../core/job.js');
  const { getBackendEntry } = await import('../backends/registry.js');
  const { flagName } = await import('./options.js');
  const job = parseOrThrow(JobInputSchema, { ...fields, image: PLACEHOLDER_ID }, 'options', flagName);
  getBackendEntry(job.backend);
  return job;
}

export async function runCliJob(request: CliJobRequest): Promise<JobOutput> {
  // Options, output path and ffmpeg first: mistakes fail in milliseconds, before anything is said of the
  // input (ffmpeg is looked for while it decodes).
  const job = await validateCliJob(request.job);
  // The input is protected before the output checks, so an output that reaches it by any path (a
  // symlink, a hard link, "..") is refused here, in milliseconds, and again by every atomic write.
  const { protectInputs } = await import('../io/input-file.js');
  await protectInputs([request.input]);
  const { preflight } = await import('../jobs/run.js');
  const { tools } = await preflight(job, request.output);

  const reporter = request.reporter;
  const interrupt = interruptSignal(reporter);
  try {
    return await executeCliJob(job, request.input, request.output, {
      signal: interrupt.signal,
      tools,
      onNotice: (text) => reporter.notice(text),
      onStart: () => reporter.start(request.label),
      onProgress: (p) => reporter.progress(p),
    });
  } finally {
    reporter.stopBar();
    interrupt.dispose();
  }
}

export interface CliJobHooks {
  readonly signal: AbortSignal;
  /** Checks still running (preflight's `tools`): awaited once the input is decoded, before anything about it is reported. */
  readonly tools?: Promise<void>;
  readonly onProgress: (progress: Progress) => void;
  /** A note about the input (downscaled, converted), one sentence. */
  readonly onNotice: (text: string) => void;
  /** Called once the input is decoded, before the backend starts. */
  readonly onStart?: () => Promise<void>;
}

/**
 * Decodes `input` and runs the validated `job` on it, writing under `output`: the one path of a single
 * job and of each input of a batch (batch/worker.ts).
 */
export async function executeCliJob(job: JobInput, input: string, output: string, hooks: CliJobHooks): Promise<JobOutput> {
  const { decodeImageFile } = await import('../io/decode.js');
  const { PaintsUndoError, throwIfCancelled } = await import('../core/errors.js');
  const { runJob } = await import('../jobs/run.js');
  throwIfCancelled(hooks.signal);
  const decoded = await decodeImageFile(input);
  await hooks.tools;
  for (const notice of decoded.notices) hooks.onNotice(notice);
  const source = decoded.source;
  await hooks.onStart?.();
  // Single-image jobs only (the commands that reach here); the schema checked the rest of the fields.
  return runJob({ ...job, image: source.id } as JobInput, output, {
    resolveImage: (id) => {
      if (id === source.id) return source;
      throw new PaintsUndoError('INPUT_NOT_FOUND', `Unknown image id ${id}.`);
    },
    signal: hooks.signal,
    onProgress: hooks.onProgress,
  });
}

/** A path as the user would like to read it: relative to the current folder when that is shorter. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel !== '' && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}

/** Whether `path` is written as a folder: it ends in a path separator ("out/"). */
export function namesFolder(path: string): boolean {
  return path.endsWith('/') || path.endsWith(sep);
}

/**
 * Where a single job writes, given -o (`output`, if any) and the command's default output name: -o as
 * given, except that -o naming a folder (an existing one, or a name ending in a slash) gets the default
 * file name inside it, as `cp art.png folder/` does, when the command writes one file (its default name
 * has an extension). Commands that write a folder (keyframes, layer PNGs) take -o as that folder.
 */
export async function singleOutputPath(output: string | undefined, defaultName: string): Promise<string> {
  if (output === undefined) return defaultName;
  if (extname(defaultName) === '') return output;
  return (await isFolderOutput(output)) ? join(output, basename(defaultName)) : output;
}

/** Whether -o names a folder: an existing one, or a name ending in a slash. */
export async function isFolderOutput(output: string): Promise<boolean> {
  if (namesFolder(output)) return true;
  return stat(output).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
