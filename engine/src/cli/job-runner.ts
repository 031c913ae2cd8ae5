/**
 * Runs one job for a command: validates the options through the job schema, decodes the input, runs
 * the shared job runner (jobs/run.ts) with a progress reporter, and cancels cleanly on Ctrl+C.
 * Heavy modules (sharp, ag-psd, backends) load here, inside the action, never at start-up.
 */
import { relative, resolve } from 'node:path';
import type { JobOutput } from '../jobs/run.js';
import type { Reporter } from './reporter.js';

/** Any valid image id works as a placeholder while options are checked; the real id comes from decoding. */
const PLACEHOLDER_ID = '0'.repeat(64);

/**
 * Creates an AbortSignal that fires on the first Ctrl+C (or SIGTERM); a second Ctrl+C exits at once
 * with 130. Call the returned `dispose` when the job ends.
 */
export function interruptSignal(reporter: Reporter): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (): void => {
    count++;
    if (count > 1) process.exit(130);
    if (!reporter.json) {
      reporter.stopBar();
      process.stderr.write('\npaints-undo: cancelling (press Ctrl+C again to quit at once)...\n');
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
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

export async function runCliJob(request: CliJobRequest): Promise<JobOutput> {
  const { parseOrThrow, JobInputSchema } = await import('../core/job.js');
  const { getBackendEntry } = await import('../backends/registry.js');
  // Options, output path and ffmpeg first: mistakes fail in milliseconds, before any decoding.
  const job = parseOrThrow(JobInputSchema, { ...request.job, image: PLACEHOLDER_ID });
  getBackendEntry(job.backend);
  if (resolve(request.output) === resolve(request.input)) {
    const { PaintsUndoError } = await import('../core/errors.js');
    throw new PaintsUndoError('INVALID_OPTION', `The output ${request.output} is the input image; it would be overwritten.`, {
      hint: 'Give a different output name with -o.',
    });
  }
  const { preflight, runJob } = await import('../jobs/run.js');
  await preflight(job, request.output);

  const reporter = request.reporter;
  const interrupt = interruptSignal(reporter);
  try {
    const { decodeImageFile } = await import('../io/decode.js');
    const decoded = await decodeImageFile(request.input);
    for (const notice of decoded.notices) reporter.notice(notice);
    const source = decoded.source;
    await reporter.start(request.label);
    const { PaintsUndoError } = await import('../core/errors.js');
    return await runJob({ ...job, image: source.id } as typeof job, request.output, {
      resolveImage: (id) => {
        if (id === source.id) return source;
        throw new PaintsUndoError('INPUT_NOT_FOUND', `Unknown image id ${id}.`);
      },
      signal: interrupt.signal,
      onProgress: (p) => reporter.progress(p),
    });
  } finally {
    reporter.stopBar();
    interrupt.dispose();
  }
}

/** A path as the user would like to read it: relative to the current folder when that is shorter. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel !== '' && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}
