/**
 * The `paints-undo` command line. `bin/paints-undo` calls `main(argv)` and exits with its result.
 * Start-up stays fast: only commander and the command definitions load here; every command imports
 * its heavy modules (sharp, ag-psd, ffmpeg, backends) inside its action.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { debugDetails, debugEnabled, describeError, formatError, type ErrorReport } from './errors.js';
import { registerTimelapseCommand } from './commands/timelapse.js';
import { registerFrameCommand } from './commands/frame.js';
import { registerKeyframesCommand } from './commands/keyframes.js';
import { registerLayersCommand } from './commands/layers.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerBackendsCommand } from './commands/backends.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTokenCommand } from './commands/token.js';
import { registerModelsCommand } from './commands/models.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { engineVersion } from '../io/provenance.js';
import { PaintsUndoError } from '../core/errors.js';

export function buildProgram(): Command {
  const program = new Command('paints-undo');
  program
    .description(
      'Shows how a finished digital painting could have been drawn: undo frames, keyframes, layers and drawing-process timelapses.\n' +
        'Every output is a generated reconstruction, not a recording, and says so in its metadata.',
    )
    .version(engineVersion(), '-V, --version')
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\nEnvironment:\n  PAINTS_UNDO_FFMPEG   path of the ffmpeg binary to use\n  PAINTS_UNDO_DEBUG=1  print stack traces`);
  registerTimelapseCommand(program);
  registerFrameCommand(program);
  registerKeyframesCommand(program);
  registerLayersCommand(program);
  registerDemoCommand(program);
  registerEvalCommand(program);
  registerServeCommand(program);
  registerTokenCommand(program);
  registerBackendsCommand(program);
  registerModelsCommand(program);
  registerDoctorCommand(program);
  // The official-model backends join the registry before any command runs (not for --help: it pulls in zod).
  program.hook('preAction', async (_program, command) => {
    refuseStandardOutput(command.opts<{ output?: unknown }>().output);
    await import('../../../models/src/backends/register.js');
  });
  for (const command of allCommands(program)) {
    command.exitOverride();
    // Commander's own usage errors (an unknown option, a missing argument) are reported below, in the
    // format of every other error: a code and a hint.
    command.configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: () => undefined,
    });
    if (command !== program) command.addHelpText('after', `\n${EXIT_CODES_HELP}`);
  }
  return program;
}

/**
 * "-o -" asks for standard output, which no command writes to: outputs are files (or folders), written
 * atomically and named in the result; standard output carries the messages and --json. Without this,
 * "-" would be taken as a file name and a file named "-" appear.
 */
function refuseStandardOutput(output: unknown): void {
  if (output !== '-') return;
  throw new PaintsUndoError('INVALID_OPTION', 'The output "-" (standard output) is not supported: paints-undo writes its results to files.', {
    hint: 'Give a file or folder name with -o (for example -o art.png); --json prints the paths written.',
    details: { option: 'output' },
  });
}

/** The program and every command below it (subcommands such as `models verify` included). */
function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap((c) => allCommands(c))];
}

/** Whether the user asked for JSON output; read from argv so even option errors come out as JSON. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * A reader that goes away (`paints-undo backends | head -1`, a closed terminal, a parent that stopped
 * reading) makes the next write fail with EPIPE, an 'error' event that would end the process with a
 * stack trace, in the middle of a job and leaving its temp files behind. The command goes on (its files
 * are what matters) and what was meant for that reader is dropped.
 */
function outliveClosedReader(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

export async function main(argv: string[]): Promise<number> {
  outliveClosedReader(process.stdout);
  outliveClosedReader(process.stderr);
  const json = wantsJson(argv);
  const program = buildProgram();
  if (json) {
    // Nothing but the JSON object on stdout.
    for (const command of allCommands(program)) command.configureOutput({ writeErr: () => undefined });
  }
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    // A command that completed but has a verdict to report (eval: a threshold failed) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    // --help and --version end here with exit code 0.
    if (error instanceof CommanderError && error.exitCode === 0) return EXIT.ok;
    const report = error instanceof CommanderError ? usageError(error, program, argv) : describeError(error);
    if (json) {
      printJsonError(report);
    } else {
      process.stderr.write(formatError(report));
    }
    if (debugEnabled()) process.stderr.write(debugDetails(error));
    return report.exitCode;
  }
}

/** A usage error commander found, as an INVALID_OPTION report whose hint points at the command's --help. */
function usageError(error: CommanderError, program: Command, argv: readonly string[]): ErrorReport {
  const name = argv.find((arg) => program.commands.some((c) => c.name() === arg));
  // Commander puts its suggestion on a line of its own ("Unknown option '--szie'\n(Did you mean --size?)"):
  // one line reads better after "error INVALID_OPTION:" and in JSON.
  const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
  const sentence = /[.!?)]$/.test(message) ? message : `${message}.`;
  return {
    code: 'INVALID_OPTION',
    message: sentence.charAt(0).toUpperCase() + sentence.slice(1),
    hint: name ? `Run paints-undo ${name} --help for its arguments and options.` : 'Run paints-undo --help for the commands.',
    exitCode: EXIT.usage,
  };
}

function printJsonError(report: { code: string; message: string; hint?: string; exitCode: number }): void {
  process.stdout.write(`${JSON.stringify({ ok: false, error: report })}\n`);
}
