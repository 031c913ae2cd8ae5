import type { Command } from 'commander';
import { Reporter } from '../reporter.js';
import type { CommonFlags } from '../options.js';
import { displayPath } from '../job-runner.js';

interface DemoFlags extends CommonFlags {
  readonly output?: string;
  readonly frames?: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('make a sample illustration (drawn by this project), its timelapse MP4 and a contact sheet')
    .option('-o, --output <folder>', 'where to write them (default: ./paints-undo-demo)')
    .option('--frames <n>', 'process frames of the timelapse (default 100)')
    .option('--seed <n>', 'random seed (default 12345)')
    .option('--backend <name>', 'backend (default classic)')
    .option('--json', 'print one JSON object on stdout instead of text, and no progress bar')
    .addHelpText('after', '\nExample:\n  paints-undo demo            (or: npm run demo)')
    .action(async (flags: DemoFlags) => {
      const reporter = new Reporter({ json: flags.json === true });
      const { runDemo } = await import('../demo/run-demo.js');
      const result = await runDemo({ folder: flags.output ?? 'paints-undo-demo', frames: flags.frames, seed: flags.seed, backend: flags.backend, reporter });
      reporter.done({ command: 'demo', ...result }, [
        `Demo written to ${displayPath(result.folder)}:`,
        `  illustration   ${displayPath(result.illustration)}`,
        `  timelapse      ${displayPath(result.timelapse)}`,
        `  contact sheet  ${displayPath(result.contactSheet)}`,
      ]);
    });
}
