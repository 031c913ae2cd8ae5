import { extname } from 'node:path';
import type { Command } from 'commander';
import { addTimelapseOptions, commonJobFields, defined, inputStem, toNumber, type TimelapseFlags } from '../options.js';
import { defineJobCommand, firstFile, type JobCommandFlags } from '../job-command.js';

const FORMATS = ['mp4', 'webm', 'gif'] as const;

/** Format from --format, else from the output's extension, else mp4; a contradiction is a usage error. */
export async function resolveVideoFormat(output: string | undefined, format: string | undefined): Promise<string> {
  const ext = output === undefined ? '' : extname(output).slice(1).toLowerCase();
  const fromExt = (FORMATS as readonly string[]).includes(ext) ? ext : undefined;
  if (format !== undefined) {
    // An unknown --format is the schema's to refuse, naming the formats there are.
    const known = (FORMATS as readonly string[]).includes(format.toLowerCase());
    if (known && fromExt !== undefined && fromExt !== format.toLowerCase()) {
      const { PaintsUndoError } = await import('../../core/errors.js');
      throw new PaintsUndoError('INVALID_OPTION', `The output ${output} ends in .${ext} but --format is ${format}.`, {
        hint: `Use an output name ending in .${format}, or leave out --format.`,
      });
    }
    return format.toLowerCase();
  }
  if (output !== undefined && ext !== '' && fromExt === undefined) {
    const { PaintsUndoError } = await import('../../core/errors.js');
    throw new PaintsUndoError('INVALID_OPTION', `Cannot tell the video format from the output name ${output}. Should be one of: .mp4, .webm, .gif.`, {
      hint: 'End the output name in .mp4, .webm or .gif, or pass --format.',
    });
  }
  return fromExt ?? 'mp4';
}

export function registerTimelapseCommand(program: Command): void {
  const command = program
    .command('timelapse')
    .description('make a drawing-process timelapse video (MP4, WebM or GIF) of a finished artwork')
    .option('-o, --output <path>', 'output video; the extension picks the format (default: <image name>-timelapse.mp4 here); for a batch, the output folder');
  addTimelapseOptions(command);
  defineJobCommand<TimelapseFlags & JobCommandFlags>(command, {
    name: 'timelapse',
    async jobFields(flags, output) {
      const format = await resolveVideoFormat(output, flags.format);
      return {
        kind: 'timelapse',
        ...commonJobFields(flags),
        ...defined({
          format,
          frames: toNumber(flags.frames),
          duration: toNumber(flags.duration),
          fps: toNumber(flags.fps),
          size: toNumber(flags.size),
          intro: toNumber(flags.intro),
          hold: toNumber(flags.hold),
          direction: flags.direction,
          label: flags.label,
        }),
      };
    },
    defaultOutput: (input, fields) => `${inputStem(input)}-timelapse.${String(fields['format'])}`,
    resultFields: (fields) => ({ format: fields['format'] }),
    describe: (result, output, fields) =>
      `Wrote ${firstFile(result, output)} (${String(fields['format']).toUpperCase()}, ${result.width}x${result.height}, ${result.frames} frames).`,
    singleNote: 'It is a generated reconstruction, and says so in its metadata.',
  });
  command.addHelpText(
    'after',
    '\nExamples:\n  paints-undo timelapse art.png -o art.mp4\n  paints-undo timelapse art.png -o art.gif --duration 15 --size 480 --hold 3 --label\n  paints-undo timelapse finished/ -o timelapses/ --format webm   (one video per image; reruns skip what is done)',
  );
}
