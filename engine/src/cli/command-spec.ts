/**
 * What a command that runs one job per input image (timelapse, keyframes, layers) tells the shared
 * action (job-command.ts) and the batch runner (batch/batch.ts) about itself.
 */
import type { JobOutput } from '../jobs/run.js';
import type { BatchFlags, CommonFlags } from './options.js';

/** Raw job fields from the flags, validated by the job schema (core/job.ts) before anything runs. */
export type JobFields = Record<string, unknown> & { kind: string };

export interface JobCommandFlags extends CommonFlags, BatchFlags {
  readonly output?: string;
}

export interface JobCommandSpec<F extends JobCommandFlags> {
  /** The command name, also its job kind's label on the progress bar and in JSON (`command`). */
  readonly name: string;
  /**
   * Job fields from the flags. `output` is a single job's -o, which may pick the format (art.gif); it is
   * undefined in a batch, where -o is a folder and the format comes from --format or the default.
   */
  readonly jobFields: (flags: F, output: string | undefined) => Promise<JobFields>;
  /** Where a single job writes when there is no -o: in the current folder, named after the input. */
  readonly defaultOutput: (input: string, fields: JobFields) => string;
  /** Settings echoed in the JSON result next to the job output (e.g. the format). */
  readonly resultFields: (fields: JobFields) => Record<string, unknown>;
  /** One sentence about a written result, e.g. "Wrote art.mp4 (MP4, 512x640, 100 frames)." */
  readonly describe: (result: JobOutput, output: string, fields: JobFields) => string;
  /** Added after the sentence of a single job. */
  readonly singleNote?: string;
}
