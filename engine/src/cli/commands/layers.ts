import { basename, extname } from 'node:path';
import { LAYERS_COMPOSITE_FILE, LAYERS_MANIFEST_FILE } from '../../client/layers-manifest.js';
import type { Command } from 'commander';
import { commonJobFields, inputStem } from '../options.js';
import { displayPath, isFolderOutput, namesFolder } from '../job-runner.js';
import { defineJobCommand, firstFile, type JobCommandFlags } from '../job-command.js';

interface LayersFlags extends JobCommandFlags {
  readonly format?: string;
}

/** Extensions of files, not folders: `-o art.png` for layer PNGs is a slip, not a folder name. */
const FILE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.bmp', '.avif', '.psb', '.kra', '.clip', '.mp4', '.webm']);

/**
 * psd or png: from --format, else from the output name (a .psd file, or a folder for PNGs), else psd.
 * A --format that contradicts the output name is a usage error; a folder (existing, or a name ending in
 * a slash) takes a PSD under its default name, as for every command that writes one file.
 */
export async function resolveLayersFormat(output: string | undefined, format: string | undefined): Promise<string> {
  // A name ending in a slash is a folder, whatever it ends in before it.
  const psdName = output !== undefined && !namesFolder(output) && extname(output).toLowerCase() === '.psd';
  const folder = output !== undefined && (await isFolderOutput(output));
  const wanted = (format ?? (output === undefined || psdName ? 'psd' : 'png')).toLowerCase();
  const { PaintsUndoError } = await import('../../core/errors.js');
  if (output !== undefined && format !== undefined && (wanted === 'psd' || wanted === 'png') && (wanted === 'psd') !== psdName && !(wanted === 'psd' && folder)) {
    throw new PaintsUndoError('INVALID_OPTION', `The output ${output} ${psdName ? 'ends in .psd' : 'is a folder name'} but --format is ${format}.`, {
      hint: wanted === 'psd' ? 'Use an output name ending in .psd (or an existing folder, to write it there), or leave out --format.' : 'Give a folder name (no .psd) for the layer PNGs, or leave out --format.',
    });
  }
  const ext = output === undefined ? '' : extname(output).toLowerCase();
  if (wanted === 'png' && output !== undefined && !folder && FILE_EXTENSIONS.has(ext)) {
    const stem = output.slice(0, output.length - ext.length);
    throw new PaintsUndoError('INVALID_OPTION', `The output ${output} is a file name, but layer PNGs are written into a folder, one file per layer.`, {
      hint: `Give a folder name (${stem}-layers/), or ${stem}.psd for one layered file.`,
    });
  }
  return wanted;
}

/** The layer PNGs among the files of a PNG export (not the composite, not the manifest). */
function layerCount(files: readonly string[]): number {
  return files.filter((f) => extname(f) === '.png' && basename(f) !== LAYERS_COMPOSITE_FILE).length;
}

export function registerLayersCommand(program: Command): void {
  const command = program
    .command('layers')
    .description('export the layer decomposition (sketch, line art, flats, shading, details) as a layered PSD or PNGs')
    .option('-o, --output <path>', 'a .psd file, or a folder for one PNG per layer (default: <image name>-layers.psd, or <image name>-layers/ with --format png, here); for a batch, the output folder')
    .option('--format <format>', 'psd (one layered file) or png (a folder of layer PNGs); default: from the output name, else psd');
  defineJobCommand<LayersFlags>(command, {
    name: 'layers',
    jobFields: async (flags, output) => ({ kind: 'layers', ...commonJobFields(flags), format: await resolveLayersFormat(output, flags.format) }),
    defaultOutput: (input, fields) => (fields['format'] === 'png' ? `${inputStem(input)}-layers` : `${inputStem(input)}-layers.psd`),
    resultFields: (fields) => ({ format: fields['format'] }),
    describe: (result, output, fields) =>
      fields['format'] === 'psd' ? `Wrote ${firstFile(result, output)} (layered PSD).` : `Wrote ${layerCount(result.files)} layer PNGs, ${LAYERS_COMPOSITE_FILE} and ${LAYERS_MANIFEST_FILE} (how they stack) to ${displayPath(output)}.`,
  });
  command.addHelpText(
    'after',
    '\nExamples:\n  paints-undo layers art.png -o art-layers.psd\n  paints-undo layers art.png -o art-layers/   (one PNG per layer, and layers.json: their order, blend modes and visibility)\n  paints-undo layers finished/ -o layers/ --format png   (layers/<image name>/*.png)',
  );
}
