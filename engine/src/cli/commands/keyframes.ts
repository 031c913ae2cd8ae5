import type { Command } from 'commander';
import { commonJobFields, inputStem, toNumberList } from '../options.js';
import { displayPath } from '../job-runner.js';
import { defineJobCommand, type JobCommandFlags } from '../job-command.js';

interface KeyframesFlags extends JobCommandFlags {
  readonly steps?: string;
}

/** PaintsUndo's own default list (core/steps.ts DEFAULT_KEYFRAME_STEPS); repeated here to keep start-up light. */
const DEFAULT_STEPS = '400,600,800,900,950,999';

export function registerKeyframesCommand(program: Command): void {
  const command = program
    .command('keyframes')
    .description('render several undo steps as PNGs into a folder (step-0400.png, ...)')
    .option('--steps <list>', `comma-separated undo steps, 0..999 (default ${DEFAULT_STEPS})`)
    .option('-o, --output <folder>', 'output folder, created if needed (default: <image name>-keyframes here); for a batch, one sub-folder per image in it');
  defineJobCommand<KeyframesFlags>(command, {
    name: 'keyframes',
    jobFields: async (flags) => ({ kind: 'keyframes', ...commonJobFields(flags), steps: toNumberList(flags.steps ?? DEFAULT_STEPS) }),
    defaultOutput: (input) => `${inputStem(input)}-keyframes`,
    resultFields: (fields) => ({ steps: fields['steps'] }),
    describe: (result, output) =>
      `Wrote ${result.files.length} keyframes to ${displayPath(output)}: ${result.files.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(', ')}.`,
  });
  command.addHelpText('after', '\nExamples:\n  paints-undo keyframes art.png --steps 400,600,800,900,950,999 -o keyframes/\n  paints-undo keyframes "finished/*.png" -o keyframes/   (keyframes/<image name>/step-0400.png, ...)');
}
