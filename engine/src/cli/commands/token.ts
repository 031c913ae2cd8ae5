import type { Command } from 'commander';

interface TokenFlags {
  readonly path?: boolean;
  readonly json?: boolean;
}

/**
 * `paints-undo token`: the pairing token on stdout, for pasting into the Photoshop panel (serve prints
 * only where the token lives, never the secret itself, since its output often ends up in logs).
 */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print the pairing token that clients (the Photoshop panel) need to use the engine; it is created on first use, readable by you only')
    .option('--path', 'print the token file path instead of the token')
    .option('--json', 'print one JSON object on stdout: {"ok":true,"token":...,"path":...}')
    .action(async (flags: TokenFlags) => {
      const { ensureToken } = await import('../../service/paths.js');
      const { token, path, created } = ensureToken();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ok: true, command: 'token', token, path, created })}\n`);
        return;
      }
      process.stdout.write(`${flags.path ? path : token}\n`);
    });
}
