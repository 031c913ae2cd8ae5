/**
 * A batch: one command (timelapse, keyframes, layers) over many images, one output per image in the -o
 * folder. Shared by the three commands through their JobCommandSpec (command-spec.ts): the options are
 * parsed and validated once, exactly as for a single image, then
 *   inputs.ts  expands the arguments (files, folders, patterns),
 *   plan.ts    names every output and refuses clashes, and marks inputs whose output is already there,
 *   runner.ts  runs the rest on `--jobs` worker processes,
 *   reporter.ts prints a line per input, a progress bar and a summary (or JSON Lines).
 * Exit code: 0 when every input was written or skipped, 1 (EXIT.someFailed) when any failed, 130 when
 * cancelled. Errors found before any work (options, -o, ffmpeg, clashes, no input at all) end the
 * command as for a single image: one error, its own exit code.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { PaintsUndoError } from '../../core/errors.js';
import type { JobInput } from '../../core/job.js';
import { parseOrThrow } from '../../core/job.js';
import { jobKindOf } from '../../jobs/kinds.js';
import { describeError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import type { JobCommandFlags, JobCommandSpec } from '../command-spec.js';
import { interruptSignal, namesFolder, validateCliJob } from '../job-runner.js';
import { flagName, toNumber } from '../options.js';
import { expandInputs } from './inputs.js';
import { planOutputs, type OutputShape, type PlannedInput } from './plan.js';
import { BatchReporter } from './reporter.js';
import { defaultJobs, runTasks, type BatchTask } from './runner.js';

const JobsSchema = z.object({ jobs: z.number().int().min(1).max(64).optional() });

/** --jobs, checked (1..64) also where one image leaves nothing to run at once: a wrong value is a mistake either way. */
export function requestedJobs(flags: JobCommandFlags): number | undefined {
  return parseOrThrow(JobsSchema, { jobs: toNumber(flags.jobs) }, 'options', flagName).jobs;
}

/** Extensions that make -o look like one output file rather than the folder a batch writes into. */
const FILE_OUTPUT_EXTENSIONS = new Set(['.mp4', '.webm', '.gif', '.psd', '.png']);

function outputShapeOf(job: JobInput): OutputShape {
  const fileName = jobKindOf(job).fileName(job);
  return fileName === undefined ? { kind: 'folder' } : { kind: 'file', extension: extname(fileName) };
}

/** The -o folder of a batch: given, not a file, not named like a file, and writable (checked, not created). */
async function outputFolder(output: string | undefined): Promise<string> {
  const what = 'a batch writes one output per image into a folder';
  if (output === undefined) {
    throw new PaintsUndoError('INVALID_OPTION', `No output folder: ${what}.`, { hint: 'Give the folder with -o, e.g. -o out/ (it is created if needed).' });
  }
  const { stat } = await import('node:fs/promises');
  const info = await stat(output).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) {
    throw new PaintsUndoError('INVALID_OPTION', `The output ${output} is an existing file, but ${what}.`, {
      hint: 'Give a folder with -o (it is created if needed); to process one image into one file, name only that image.',
    });
  }
  if (info === undefined && !namesFolder(output) && FILE_OUTPUT_EXTENSIONS.has(extname(output).toLowerCase())) {
    throw new PaintsUndoError('INVALID_OPTION', `The output ${output} looks like a file name, but ${what}.`, {
      hint: 'Give a folder name with -o, e.g. -o out/; pick the format with --format.',
    });
  }
  const { checkFolderWritable } = await import('../../io/atomic.js');
  return checkFolderWritable(output);
}

export async function runBatch<F extends JobCommandFlags>(spec: JobCommandSpec<F>, args: readonly string[], flags: F): Promise<void> {
  // Everything that can be wrong with the command itself fails here, before any image is read.
  const fields = await spec.jobFields(flags, undefined);
  const job = await validateCliJob(fields);
  const jobs = requestedJobs(flags);
  const folder = await outputFolder(flags.output);
  if (jobKindOf(job).needsFfmpeg) await (await import('../../io/ffmpeg.js')).findFfmpeg();

  const expanded = await expandInputs(args, { recursive: flags.recursive === true });
  if (expanded.inputs.length === 0) {
    const first = expanded.unmatched[0]?.error;
    if (first && expanded.unmatched.length === 1) throw first;
    throw new PaintsUndoError('INPUT_NOT_FOUND', `None of the inputs is an image: ${expanded.unmatched.map((u) => u.argument).join(', ')}.`, {
      hint: 'Name image files, folders that hold images, or quoted patterns such as "art/*.png".',
    });
  }
  const shape = outputShapeOf(job);
  const plan = await planOutputs(expanded.inputs, folder, shape);
  const force = flags.force === true;
  const toRun = plan.planned.filter((p) => force || !p.done);

  const json = flags.json === true;
  const reporter = new BatchReporter({ json, command: spec.name, entries: expanded.unmatched.length + plan.planned.length });
  for (const left of plan.leftOut) reporter.leftOut(left.display);
  for (const u of expanded.unmatched) reporter.failed(undefined, u.argument, undefined, describeError(u.error));
  for (const p of plan.planned) if (!force && p.done) reporter.skipped(p.display, p.output, p.outputDisplay);

  const counts = { written: 0, failed: expanded.unmatched.length };
  const interrupt = interruptSignal({ json, stopBar: () => reporter.closeBar() });
  // A batch that writes nothing (cancelled at once, every input failed) leaves no folder it made.
  const { withOutputFolder } = await import('../../io/atomic.js');
  try {
    await withOutputFolder(folder, async () => {
      await reporter.begin(toRun.length);
      const byId = new Map<number, PlannedInput>(toRun.map((p, id) => [id, p]));
      const notices = new Map<number, string[]>();
      const tasks: BatchTask[] = toRun.map((p, id) => ({ id, input: p.path, output: p.output }));
      await runTasks(tasks, {
        job,
        outputKind: shape.kind,
        jobs: jobs ?? defaultJobs(tasks.length),
        signal: interrupt.signal,
        onStart: (task) => reporter.started(task.id, byId.get(task.id)!.display),
        onProgress: (task, progress) => reporter.progress(task.id, progress),
        onNotice: (task, text) => {
          notices.set(task.id, [...(notices.get(task.id) ?? []), text]);
          reporter.notice(byId.get(task.id)!.display, text);
        },
        onOutcome: (task, outcome) => {
          const p = byId.get(task.id)!;
          if (outcome.status === 'written') {
            counts.written++;
            const sentence = spec.describe(outcome.result, p.output, fields);
            reporter.written(task.id, p.display, p.output, outcome.result, { command: spec.name, ...spec.resultFields(fields) }, sentence, notices.get(task.id) ?? []);
          } else if (outcome.status === 'failed') {
            counts.failed++;
            reporter.failed(task.id, p.display, p.output, outcome.error);
          } else {
            reporter.cancelled(task.id, p.display, p.output);
          }
        },
      });
    });
  } finally {
    interrupt.dispose();
    reporter.closeBar();
  }
  const cancelled = interrupt.signal.aborted;
  const skipped = plan.planned.length - toRun.length;
  const finishedRuns = counts.written + counts.failed - expanded.unmatched.length;
  const exitCode = cancelled ? EXIT.cancelled : counts.failed > 0 ? EXIT.someFailed : EXIT.ok;
  reporter.summary({ inputs: plan.planned.length + expanded.unmatched.length, written: counts.written, skipped, failed: counts.failed, left: toRun.length - finishedRuns }, cancelled, exitCode);
  process.exitCode = exitCode;
}
