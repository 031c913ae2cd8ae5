/**
 * Every error a user can meet, with a stable code. The CLI maps the category to an exit code,
 * the protocol maps the code to a JSON-RPC error; README.md ("Errors") and engine/CLI.md list them all,
 * and tests/core/errors.test.ts checks that each code is documented.
 */
export const ERROR_CODES = {
  // Bad input or options: the user can fix it.
  INVALID_OPTION: { category: 'usage', summary: 'An option or parameter has a wrong type or is out of range.' },
  INPUT_NOT_FOUND: { category: 'input', summary: 'The input file does not exist or cannot be read.' },
  INPUT_NOT_IMAGE: { category: 'input', summary: 'The input is not an image format the engine reads (PNG, JPEG, WebP, GIF, TIFF, AVIF, PSD).' },
  INPUT_CORRUPT: { category: 'input', summary: 'The image is truncated or corrupt.' },
  INPUT_TOO_SMALL: { category: 'input', summary: 'The image is smaller than the minimum size.' },
  INPUT_TOO_LARGE: { category: 'input', summary: 'The image (file bytes or decoded pixels) exceeds the limits; refused before decoding.' },
  OUTPUT_NOT_WRITABLE: { category: 'output', summary: 'The output path cannot be written.' },
  UNKNOWN_BACKEND: { category: 'usage', summary: 'No backend has that name.' },
  UNSUPPORTED: { category: 'usage', summary: 'The backend does not offer that operation.' },
  MODEL_MISSING: { category: 'environment', summary: 'Model files needed by the backend are missing or wrong.' },
  FFMPEG_MISSING: { category: 'environment', summary: 'No usable ffmpeg binary was found.' },
  // Runtime.
  CANCELLED: { category: 'cancelled', summary: 'The job was cancelled.' },
  ENCODER_FAILED: { category: 'internal', summary: 'ffmpeg failed while encoding the video.' },
  INTERNAL: { category: 'internal', summary: 'An unexpected internal error; please report it with the log.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorCategory = (typeof ERROR_CODES)[ErrorCode]['category'];

export class PaintsUndoError extends Error {
  readonly code: ErrorCode;
  /** What the user can do about it, in one sentence. */
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PaintsUndoError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get category(): ErrorCategory {
    return ERROR_CODES[this.code].category;
  }
}

export function isPaintsUndoError(error: unknown): error is PaintsUndoError {
  return error instanceof PaintsUndoError;
}

/** The error thrown when an AbortSignal fires; every long loop calls `throwIfCancelled`. */
export function cancelledError(): PaintsUndoError {
  return new PaintsUndoError('CANCELLED', 'Cancelled.');
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError();
}

/** "Expected positive integer for frames but received -3 (number)" — sharp-style parameter errors. */
export function invalidOption(name: string, expected: string, actual: unknown): PaintsUndoError {
  const shown = typeof actual === 'string' ? JSON.stringify(actual) : String(actual);
  return new PaintsUndoError('INVALID_OPTION', `Expected ${expected} for ${name} but received ${shown} (${typeof actual}).`, {
    details: { option: name, expected },
  });
}
