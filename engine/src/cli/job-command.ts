/**
 * The commands that run one job per input image (timelapse, keyframes, layers). Each command is one
 * JobCommandSpec (its flags -> job fields, its default output, how it words a result); one action runs a
 * spec on a single image, or on several images, a folder or a pattern as a batch (cli/batch/).
 */
import type { Command } from 'commander';
import type { JobOutput } from '../jobs/run.js';
import { displayPath, runCliJob } from './job-runner.js';
import { addBatchOptions, addCommonOptions, type BatchFlags, type CommonFlags } from './options.js';
import { Reporter } from './reporter.js';

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

export const INPUTS_DESCRIPTION =
  'the finished artwork (PNG, JPEG, WebP, GIF, TIFF, AVIF or PSD); several images, a folder or a quoted pattern ("art/*.png") run as a batch into the -o folder';

/** Declares the inputs argument, the common and the batch options, and the shared action of `spec`. */
export function defineJobCommand<F extends JobCommandFlags>(command: Command, spec: JobCommandSpec<F>): Command {
  command.argument('<images...>', INPUTS_DESCRIPTION);
  addCommonOptions(command);
  addBatchOptions(command);
  command.action(async (inputs: string[], flags: F) => {
    const { isBatch } = await import('./batch/inputs.js');
    if (await isBatch(inputs)) {
      const { runBatch } = await import('./batch/batch.js');
      await runBatch(spec, inputs, flags);
      return;
    }
    await runSingle(spec, inputs[0] ?? '', flags);
  });
  return command;
}

async function runSingle<F extends JobCommandFlags>(spec: JobCommandSpec<F>, input: string, flags: F): Promise<void> {
  const reporter = new Reporter({ json: flags.json === true });
  const fields = await spec.jobFields(flags, flags.output);
  const output = flags.output ?? spec.defaultOutput(input, fields);
  const result = await runCliJob({ job: fields, input, output, reporter, label: spec.name });
  const sentence = spec.describe(result, output, fields);
  reporter.done({ command: spec.name, ...spec.resultFields(fields), ...result }, [spec.singleNote ? `${sentence} ${spec.singleNote}` : sentence]);
}

/** The first file of a result (a video or a PSD), as the user would read it. */
export function firstFile(result: JobOutput, output: string): string {
  return displayPath(result.files[0] ?? output);
}
