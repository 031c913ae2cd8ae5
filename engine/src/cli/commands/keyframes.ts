import type { Command } from 'commander';
import { Reporter } from '../reporter.js';
import { addCommonOptions, commonJobFields, inputStem, toNumberList, type CommonFlags } from '../options.js';
import { displayPath, runCliJob } from '../job-runner.js';

interface KeyframesFlags extends CommonFlags {
  readonly steps?: string;
  readonly output?: string;
}

/** PaintsUndo's own default list (core/steps.ts DEFAULT_KEYFRAME_STEPS); repeated here to keep start-up light. */
const DEFAULT_STEPS = '400,600,800,900,950,999';

export function registerKeyframesCommand(program: Command): void {
  const command = program
    .command('keyframes')
    .description('render several undo steps as PNGs into a folder (step-0400.png, ...)')
    .argument('<image>', 'the finished artwork (PNG, JPEG, WebP, GIF, TIFF, AVIF or PSD)')
    .option('--steps <list>', `comma-separated undo steps, 0..999 (default ${DEFAULT_STEPS})`)
    .option('-o, --output <folder>', 'output folder, created if needed (default: <image name>-keyframes here)');
  addCommonOptions(command);
  command.addHelpText('after', '\nExample:\n  paints-undo keyframes art.png --steps 400,600,800,900,950,999 -o keyframes/');
  command.action(async (image: string, flags: KeyframesFlags) => {
    const reporter = new Reporter({ json: flags.json === true });
    const steps = toNumberList(flags.steps ?? DEFAULT_STEPS);
    const output = flags.output ?? `${inputStem(image)}-keyframes`;
    const result = await runCliJob({ job: { kind: 'keyframes', ...commonJobFields(flags), steps }, input: image, output, reporter, label: 'keyframes' });
    reporter.done({ command: 'keyframes', steps, ...result }, [
      `Wrote ${result.files.length} keyframes to ${displayPath(output)}: ${result.files.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(', ')}.`,
    ]);
  });
}
