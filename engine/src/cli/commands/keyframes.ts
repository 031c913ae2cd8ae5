import type { Command } from 'commander';
import { addFrameSizeOption, commonJobFields, defined, inputStem, toNumber, toStepList } from '../options.js';
import { displayPath } from '../job-runner.js';
import { defineJobCommand, type JobCommandFlags } from '../job-command.js';

interface KeyframesFlags extends JobCommandFlags {
  readonly steps?: string;
  readonly size?: string;
}

/** PaintsUndo's own default list (core/steps.ts DEFAULT_KEYFRAME_STEPS); repeated here to keep start-up light. */
const DEFAULT_STEPS = '400,600,800,900,950,999';

/** The written file names, the first and last few when there are many (an export of all 1000 steps). */
function fileList(files: readonly string[]): string {
  const names = files.map((f) => f.slice(f.lastIndexOf('/') + 1));
  return names.length <= 12 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, ... ${names.slice(-3).join(', ')}`;
}

export function registerKeyframesCommand(program: Command): void {
  const command = program
    .command('keyframes')
    .description('render several undo steps as PNGs into a folder (step-0400.png, ...)')
    .option('--steps <list>', `undo steps 0..999: a list, ranges, or all (e.g. 400,600,800 or 0-999 or all; default ${DEFAULT_STEPS})`)
    .option('-o, --output <folder>', 'output folder, created if needed (default: <image name>-keyframes here); for a batch, one sub-folder per image in it');
  addFrameSizeOption(command);
  defineJobCommand<KeyframesFlags>(command, {
    name: 'keyframes',
    jobFields: async (flags) => ({ kind: 'keyframes', ...commonJobFields(flags), steps: toStepList(flags.steps ?? DEFAULT_STEPS), ...defined({ size: toNumber(flags.size) }) }),
    defaultOutput: (input) => `${inputStem(input)}-keyframes`,
    resultFields: (fields) => ({ steps: fields['steps'] }),
    describe: (result, output) => `Wrote ${result.files.length} keyframe${result.files.length === 1 ? '' : 's'} to ${displayPath(output)}: ${fileList(result.files)}.`,
  });
  command.addHelpText('after', '\nExamples:\n  paints-undo keyframes art.png --steps 400,600,800,900,950,999 -o keyframes/\n  paints-undo keyframes art.png --steps all --size 1024 -o all-steps/   (every step, 1024 px)\n  paints-undo keyframes "finished/*.png" -o keyframes/   (keyframes/<image name>/step-0400.png, ...)');
}
