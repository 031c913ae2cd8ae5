/**
 * How the CLI shows errors: one line with the code and message, one line with what to do.
 * Never a stack trace for user errors; PAINTS_UNDO_DEBUG=1 adds stacks and causes for everything.
 */
import { PaintsUndoError } from '../core/errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

export interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly exitCode: number;
}

export function describeError(error: unknown): ErrorReport {
  if (error instanceof PaintsUndoError) {
    return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), exitCode: exitCodeFor(error.category) };
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
