/**
 * `paints-undo models verify [dir]`: which official model files are present, missing or wrong, and the
 * commands that download them on a connected machine. Nothing is ever downloaded by the engine.
 */
import type { Command } from 'commander';
import { Reporter } from '../reporter.js';

interface VerifyFlags {
  readonly json?: boolean;
}

export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('check the official PaintsUndo model files (downloaded separately)');
  models
    .command('verify')
    .description('report which model files are present, missing or wrong, and how to download them')
    .argument('[dir]', 'models folder (default: $PAINTS_UNDO_MODELS, else the per-user data folder)')
    .option('--json', 'print one JSON object on stdout')
    .addHelpText('after', '\nExample:\n  paints-undo models verify ~/paints-undo-models')
    .action(async (dir: string | undefined, flags: VerifyFlags) => {
      const { resolveModelsDir } = await import('../../../../models/src/manifest.js');
      const { formatVerifyReport, verify } = await import('../../../../models/src/verify.js');
      const { PaintsUndoError } = await import('../../core/errors.js');
      const choice = resolveModelsDir(dir);
      const report = verify(choice.dir);
      const reporter = new Reporter({ json: flags.json === true });
      if (report.ok) {
        reporter.done({ command: 'models verify', source: choice.source, report }, formatVerifyReport(report));
        return;
      }
      if (!reporter.json) for (const line of formatVerifyReport(report)) process.stdout.write(`${line}\n`);
      throw new PaintsUndoError('MODEL_MISSING', `The PaintsUndo single-frame model in ${choice.dir} is incomplete.`, {
        hint: `On a machine with internet access run: ${report.downloadCommands.slice(1).join(' && ')}`,
        details: { report },
      });
    });
}
