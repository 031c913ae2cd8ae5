/**
 * `paints-undo eval <folder>`: quality metrics of the classic backend's process on every image of a
 * folder (engine/src/eval/METRICS.md). Exits 1 when a threshold fails, so CI can gate on it.
 */
import type { Command } from 'commander';
import { Reporter } from '../reporter.js';
import { DEFAULT_SEED_TEXT, defined, toNumber } from '../options.js';
import { displayPath, interruptSignal } from '../job-runner.js';

/** Exit code of a completed evaluation in which some image missed a threshold (not an error). */
export const EVAL_FAILED_EXIT = 1;
export const DEFAULT_SHEET_DIR = 'paints-undo-sheets';

interface EvalFlags {
  readonly seed?: string;
  readonly size?: string;
  readonly sheet?: string | boolean;
  readonly sheetFrames?: string;
  readonly metricSize?: string;
  readonly json?: boolean;
}

export function registerEvalCommand(program: Command): void {
  const command = program
    .command('eval')
    .description('measure the reconstructed drawing process of every image in a folder against the quality thresholds')
    .argument('<folder>', 'a folder of images (PNG, JPEG, WebP, GIF, TIFF, AVIF, PSD), or one image')
    .option('--seed <n>', `random seed, 0..4294967295 (default ${DEFAULT_SEED_TEXT})`)
    .option('--size <px>', 'downscale each image to this long side before planning, 64..4096 (default: as decoded)')
    .option('--sheet [dir]', `also write a contact sheet PNG per image into dir (default ./${DEFAULT_SHEET_DIR})`)
    .option('--sheet-frames <n>', 'steps shown on each contact sheet, 2..64 (default 16)')
    .option('--metric-size <px>', 'long side of the canvas the per-operation metrics use, 32..1024 (default: the plan size, at most 512)')
    .option('--json', 'print one JSON object with every metric on stdout instead of the tables');
  command.addHelpText(
    'after',
    '\nEvery metric and threshold is described in engine/src/eval/METRICS.md.\n' +
      `Exit code ${EVAL_FAILED_EXIT}: the evaluation ran and some image missed a threshold.\n\n` +
      'Example:\n  paints-undo eval ../shared/samples --size 512 --sheet sheets/',
  );
  command.action(async (folder: string, flags: EvalFlags) => {
    const reporter = new Reporter({ json: flags.json === true });
    const { evaluateFolder, formatReport } = await import('../../eval/run.js');
    const options = defined({
      seed: toNumber(flags.seed),
      size: toNumber(flags.size),
      sheetDir: flags.sheet === true ? DEFAULT_SHEET_DIR : flags.sheet === false ? undefined : flags.sheet,
      sheetFrames: toNumber(flags.sheetFrames),
      metricSize: toNumber(flags.metricSize),
    });
    const interrupt = interruptSignal(reporter);
    try {
      const report = await evaluateFolder(folder, options, {
        signal: interrupt.signal,
        onImage: (index, count, file) => {
          if (reporter.interactive) process.stderr.write(`evaluating ${index + 1}/${count}: ${displayPath(file)}\n`);
        },
      });
      if (reporter.json) {
        reporter.done({ command: 'eval', ...report }, []);
      } else {
        process.stdout.write(formatReport(report));
      }
      if (!report.pass) process.exitCode = EVAL_FAILED_EXIT;
    } finally {
      interrupt.dispose();
    }
  });
}
