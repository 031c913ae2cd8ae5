/**
 * The job runner shared by the CLI and the engine service. It takes a validated JobInput (core/job.ts),
 * resolves its image ids through the caller (the CLI decodes a file, the service looks up its store),
 * runs the backend with progress and cancellation, and writes the result (`runJob`). Each kind of job is
 * one module in jobs/kinds/ (listed in jobs/kinds.ts), which also exports its in-memory form
 * (`renderFrame`, `renderKeyframes`, `renderLayers`, `renderInterpolation`, `timelapseFrames`,
 * `encodeFrames`). Provenance for every output is built in jobs/environment.ts, in one place.
 */
import type { JobInput } from '../core/job.js';
import type { JobEnvironment } from './environment.js';
import { jobKindOf } from './kinds.js';
import type { JobOutput } from './output.js';

export type { JobEnvironment } from './environment.js';
export type { JobOutput } from './output.js';

/** Whether a job writes one file or a folder of files under its output path. */
export function outputKindOf(job: JobInput): 'file' | 'folder' {
  return jobKindOf(job).fileName(job) === undefined ? 'folder' : 'file';
}

export interface Preflight {
  /**
   * What is still being checked when preflight returns: that ffmpeg is there, for videos. Starting it
   * takes ~0.1 s, so the caller decodes the input meanwhile and awaits this before it says anything
   * about the input: a missing ffmpeg is still the first and only thing reported.
   */
  readonly tools: Promise<void>;
}

/**
 * Fails fast, creating nothing: the output can be written, and (see `tools`) ffmpeg is there. Call it
 * before slow work (decoding, planning); runJob checks again anyway.
 */
export async function preflight(job: JobInput, output: string): Promise<Preflight> {
  const atomic = await import('../io/atomic.js');
  if (outputKindOf(job) === 'file') await atomic.ensureWritableFile(output);
  else await atomic.checkFolderWritable(output);
  const tools = jobKindOf(job).needsFfmpeg ? (await import('../io/ffmpeg.js')).findFfmpeg().then(() => undefined) : Promise.resolve();
  // Awaited by the caller later; until then a failure is not an unhandled rejection.
  tools.catch(() => undefined);
  return { tools };
}

/**
 * Runs a job and writes its result under `output`: a PNG file (frame), a folder (keyframes,
 * interpolate, layers with format "png"), a PSD file (layers) or a video file (timelapse, encode).
 * Every file is written atomically; on cancel or error no partial output is left under the requested name,
 * and no folder the run created.
 */
export async function runJob(job: JobInput, output: string, env: JobEnvironment): Promise<JobOutput> {
  const kind = jobKindOf(job);
  if (outputKindOf(job) === 'file') return kind.write(job, output, env);
  // A folder this run creates is removed again if the job fails before anything is in it.
  const { withOutputFolder } = await import('../io/atomic.js');
  return withOutputFolder(output, () => kind.write(job, output, env));
}
