/**
 * What a failed write means, in one place: errno codes from Node and the same conditions as ffmpeg
 * prints them (strerror text), so a full disk is "the disk is full" (OUTPUT_NOT_WRITABLE, exit 4)
 * whether Node, ffmpeg or the cache hit it, and never "the encoder failed".
 */
import { PaintsUndoError } from '../core/errors.js';

interface WriteCondition {
  /** Said after "Cannot write <path>: ". */
  readonly reason: string;
  /** The C library's strerror text, as ffmpeg prints it. */
  readonly strerror: string;
  /** Space conditions: the user frees space rather than changes permissions. */
  readonly space: boolean;
}

const CONDITIONS: Readonly<Record<string, WriteCondition>> = {
  ENOSPC: { reason: 'the disk is full', strerror: 'No space left on device', space: true },
  EDQUOT: { reason: 'the disk quota is exceeded', strerror: 'Disk quota exceeded', space: true },
  EFBIG: { reason: 'the file is too large for this file system', strerror: 'File too large', space: true },
  EROFS: { reason: 'the file system is read-only', strerror: 'Read-only file system', space: false },
  EACCES: { reason: 'permission denied', strerror: 'Permission denied', space: false },
  EPERM: { reason: 'permission denied', strerror: 'Operation not permitted', space: false },
  EIO: { reason: 'the disk reported an input/output error', strerror: 'Input/output error', space: false },
};

export function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export interface WriteFailure {
  readonly errno: string;
  readonly reason: string;
  readonly space: boolean;
}

/**
 * The write condition behind `error`, wherever it was met: a Node errno error, or an OUTPUT_NOT_WRITABLE
 * that carries its errno (also after crossing from a worker thread). Undefined for anything else.
 */
export function writeConditionOf(error: unknown): WriteFailure | undefined {
  const errno =
    error instanceof PaintsUndoError
      ? error.code === 'OUTPUT_NOT_WRITABLE' && typeof error.details?.['errno'] === 'string' ? error.details['errno'] : undefined
      : errnoOf(error);
  const known = errno === undefined ? undefined : CONDITIONS[errno];
  return errno !== undefined && known ? { errno, reason: known.reason, space: known.space } : undefined;
}

/**
 * Marks an ENOENT from creating an entry inside `folder`, a folder that exists: the file system refuses
 * new entries there (/proc, some FUSE mounts), which is not "the folder does not exist".
 */
export function refusedIn(error: unknown, folder: string): unknown {
  if (errnoOf(error) === 'ENOENT' && error instanceof Error) Object.assign(error, { refusedIn: folder });
  return error;
}

/** The reason of a failed write, in words ("the disk is full"). */
export function writeFailureReason(error: unknown): string {
  const refused = (error as { refusedIn?: unknown } | undefined)?.refusedIn;
  if (typeof refused === 'string') return `the file system of ${refused} does not allow new files or folders`;
  const code = errnoOf(error);
  const known = code === undefined ? undefined : CONDITIONS[code];
  if (known) return known.reason;
  switch (code) {
    case 'ENOENT':
      return 'the folder does not exist';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'EEXIST':
      return 'something else already has that name';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** The errno a tool (ffmpeg) reported in its error text, e.g. "No space left on device" -> ENOSPC. */
export function errnoInText(text: string): string | undefined {
  for (const [code, condition] of Object.entries(CONDITIONS)) {
    if (text.includes(condition.strerror)) return code;
  }
  return undefined;
}

const SPACE_HINT = 'Free some disk space (or choose an output on another disk) and run it again.';
const PERMISSION_HINT = 'Choose an output path in a folder you can write to (for example your home folder), or fix the folder permissions.';

/** OUTPUT_NOT_WRITABLE for `path`; the hint follows the condition (space or permissions) unless given. */
export function notWritable(path: string, reason: string, cause?: unknown, hint?: string): PaintsUndoError {
  const code = errnoOf(cause);
  return new PaintsUndoError('OUTPUT_NOT_WRITABLE', `Cannot write ${path}: ${reason}.`, {
    hint: hint ?? (code !== undefined && CONDITIONS[code]?.space === true ? SPACE_HINT : PERMISSION_HINT),
    details: { path, reason, ...(code === undefined ? {} : { errno: code }) },
    cause,
  });
}

/**
 * What a failed output write throws: our own errors as they are, a system error (errno) as
 * OUTPUT_NOT_WRITABLE for `path` with its reason, anything else unchanged.
 */
export function asOutputError(path: string, error: unknown): unknown {
  if (error instanceof PaintsUndoError) return error;
  const code = errnoOf(error);
  return code !== undefined && /^E[A-Z]+$/.test(code) ? notWritable(path, writeFailureReason(error), error) : error;
}

/** An errno-like error for a code found in a tool's text, so it maps like a Node error. */
export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = code;
  return error;
}
