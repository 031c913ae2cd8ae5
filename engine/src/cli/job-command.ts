/**
 * The commands that run one job per input image (timelapse, keyframes, layers). Each command is one
 * JobCommandSpec (its flags -> job fields, its default output, how it words a result); one action runs a
 * spec on a single image, or on several images, a folder or a pattern as a batch (cli/batch/).
 */
import type { Command } from 'commander';
import type { JobOutput } from '../jobs/run.js';
import type { JobCommandFlags, JobCommandSpec } from './command-spec.js';
import { displayPath, runCliJob, singleOutputPath } from './job-runner.js';
import { addBatchOptions, addCommonOptions } from './options.js';
import { Reporter } from './reporter.js';

export type { JobCommandFlags, JobCommandSpec, JobFields } from './command-spec.js';

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
  if (flags.jobs !== undefined) (await import('./batch/batch.js')).requestedJobs(flags);
  const reporter = new Reporter({ json: flags.json === true });
  const fields = await spec.jobFields(flags, flags.output);
  const output = await singleOutputPath(flags.output, spec.defaultOutput(input, fields));
  const result = await runCliJob({ job: fields, input, output, reporter, label: spec.name });
  const sentence = spec.describe(result, output, fields);
  reporter.done({ command: spec.name, ...spec.resultFields(fields), ...result }, [spec.singleNote ? `${sentence} ${spec.singleNote}` : sentence]);
}

/** The first file of a result (a video or a PSD), as the user would read it. */
export function firstFile(result: JobOutput, output: string): string {
  return displayPath(result.files[0] ?? output);
}
