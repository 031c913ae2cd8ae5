/**
 * How the CLI shows errors: one line with the code and message, one line with what to do.
 * Never a stack trace for user errors; PAINTS_UNDO_DEBUG=1 adds stacks and causes for everything.
 */
import { PaintsUndoError, type ErrorCategory } from '../core/errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

/** Said when an error carries no hint of its own. */
const FALLBACK_HINTS: Partial<Record<ErrorCategory, string>> = {
  usage: 'Run the command with --help to see every option and its allowed values.',
  input: 'Check the input file; the engine reads PNG, JPEG, WebP, GIF, TIFF, AVIF and PSD.',
  output: 'Choose an output path in a folder you can write to.',
  internal: 'Run again with PAINTS_UNDO_DEBUG=1 to see the stack trace, and report it with that output.',
};

export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly exitCode: number;
}

export function describeError(error: unknown): ErrorReport {
  if (error instanceof PaintsUndoError) {
    const hint = error.hint ?? FALLBACK_HINTS[error.category];
    return { code: error.code, message: error.message, ...(hint ? { hint } : {}), exitCode: exitCodeFor(error.category) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'INTERNAL',
    message: `Unexpected internal error: ${message}`,
    hint: 'Run again with PAINTS_UNDO_DEBUG=1 to see the stack trace, and report it with that output.',
    exitCode: EXIT.internal,
  };
}

export function debugEnabled(): boolean {
  const v = process.env['PAINTS_UNDO_DEBUG'];
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

export function formatError(report: ErrorReport): string {
  return `paints-undo: error ${report.code}: ${report.message}\n${report.hint ? `  hint: ${report.hint}\n` : ''}`;
}

export function debugDetails(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\nCaused by: ') + '\n';
}
