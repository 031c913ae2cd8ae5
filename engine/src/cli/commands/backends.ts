import type { Command } from 'commander';
import type { CommonFlags } from '../options.js';

export function registerBackendsCommand(program: Command): void {
  program
    .command('backends')
    .description('list the backends that can reconstruct a drawing process')
    .option('--json', 'print one JSON object on stdout')
    .action(async (flags: Pick<CommonFlags, 'json'>) => {
      const { listBackends, DEFAULT_BACKEND } = await import('../../backends/registry.js');
      const backends = listBackends().map((b) => ({ id: b.id, name: b.displayName, description: b.description, default: b.id === DEFAULT_BACKEND }));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ok: true, command: 'backends', backends })}\n`);
        return;
      }
      for (const b of backends) process.stdout.write(`${b.id}${b.default ? ' (default)' : ''}  ${b.name}\n    ${b.description}\n`);
    });
}
