import { extname } from 'node:path';
import type { Command } from 'commander';
import { Reporter } from '../reporter.js';
import { addCommonOptions, commonJobFields, inputStem, type CommonFlags } from '../options.js';
import { displayPath, runCliJob } from '../job-runner.js';

interface LayersFlags extends CommonFlags {
  readonly output?: string;
}

export function registerLayersCommand(program: Command): void {
  const command = program
    .command('layers')
    .description('export the layer decomposition (sketch, line art, flats, shading, details) as a layered PSD or PNGs')
    .argument('<image>', 'the finished artwork (PNG, JPEG, WebP, GIF, TIFF, AVIF or PSD)')
    .option('-o, --output <path>', 'a .psd file, or a folder for one PNG per layer (default: <image name>-layers.psd here)');
  addCommonOptions(command);
  command.addHelpText('after', '\nExamples:\n  paints-undo layers art.png -o art-layers.psd\n  paints-undo layers art.png -o art-layers/   (one PNG per layer)');
  command.action(async (image: string, flags: LayersFlags) => {
    const reporter = new Reporter({ json: flags.json === true });
    const output = flags.output ?? `${inputStem(image)}-layers.psd`;
    const format = extname(output).toLowerCase() === '.psd' ? 'psd' : 'png';
    const result = await runCliJob({ job: { kind: 'layers', ...commonJobFields(flags), format }, input: image, output, reporter, label: 'layers' });
    reporter.done({ command: 'layers', format, ...result }, [
      format === 'psd'
        ? `Wrote ${displayPath(result.files[0] ?? output)} (layered PSD).`
        : `Wrote ${result.files.length} layer PNGs to ${displayPath(output)}.`,
    ]);
  });
}
