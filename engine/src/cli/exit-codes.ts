/**
 * Exit codes of the CLI, one per error category (core/errors.ts), documented in `--help` and README.
 * Kept free of heavy imports: main.ts loads it at start-up.
 */
import type { ErrorCategory } from '../core/errors.js';

export const EXIT = {
  ok: 0,
  /** The command ran but not everything passed: a batch input failed (each is reported). */
  someFailed: 1,
  usage: 2,
  input: 3,
  output: 4,
  environment: 5,
  internal: 70,
  cancelled: 130,
} as const;

export function exitCodeFor(category: ErrorCategory): number {
  return EXIT[category];
}

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    a batch ran, but some inputs failed (each is reported; the others were written or skipped)
  2    usage error: unknown command or option, bad option value, unknown backend
  3    bad input file: missing, not an image, corrupt, too small or too large
  4    the output path cannot be written
  5    environment: ffmpeg or model files missing
  70   internal error (please report it; PAINTS_UNDO_DEBUG=1 shows the stack trace)
  130  cancelled (Ctrl+C); no partial output is left behind`;
