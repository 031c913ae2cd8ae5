import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { Reporter } from '../reporter.js';
import { addCommonOptions, addFrameSizeOption, commonJobFields, defined, inputStem, toNumber, type CommonFlags } from '../options.js';
import { displayPath, runCliJob, singleOutputPath } from '../job-runner.js';

interface FrameFlags extends CommonFlags {
  readonly step?: string;
  readonly output?: string;
  readonly size?: string;
}

export function registerFrameCommand(program: Command): void {
  const command = program
    .command('frame')
    .description('render the canvas at one undo step as a PNG (step 0 = finished, 999 = blank)')
    .argument('<image>', 'the finished artwork (PNG, JPEG, WebP, GIF, TIFF, AVIF or PSD)')
    .requiredOption('--step <n>', 'undo step, 0..999: how many times undo was pressed')
    .option('-o, --output <file>', 'output PNG, or a folder to write it into (default: <image name>-step-NNNN.png here)');
  addFrameSizeOption(command);
  addCommonOptions(command);
  command.addHelpText('after', '\nExamples:\n  paints-undo frame art.png --step 600 -o art-600.png\n  paints-undo frame art.png --step 600 --size 800 -o art-600-small.png');
  command.action(async (image: string, flags: FrameFlags) => {
    const reporter = new Reporter({ json: flags.json === true });
    const step = toNumber(flags.step);
    const output = await singleOutputPath(flags.output, `${inputStem(image)}-step-${String(flags.step).padStart(4, '0')}.png`);
    // A name that says another format (art.jpg) would be a PNG under a false name; no extension is taken as it is.
    if (extname(output) !== '' && extname(output).toLowerCase() !== '.png') {
      const { PaintsUndoError } = await import('../../core/errors.js');
      throw new PaintsUndoError('INVALID_OPTION', `The output ${output} ends in ${extname(output)}, but frame writes a PNG image.`, {
        hint: `Name the output ${basename(output, extname(output))}.png.`,
      });
    }
    const result = await runCliJob({ job: { kind: 'frame', ...commonJobFields(flags), step, ...defined({ size: toNumber(flags.size) }) }, input: image, output, reporter, label: 'frame' });
    reporter.done({ command: 'frame', step, ...result }, [`Wrote ${displayPath(result.files[0] ?? output)} (step ${String(step)}).`]);
  });
}
