/**
 * What a model check reports, shared by the single-frame (verify.ts) and multi-frame
 * (multi-frame/manifest.ts) checks: per file present, missing or wrong with reasons, per component the
 * worst of its files. The component check's skeleton lives here so both snapshots report alike.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type FileStatus = 'present' | 'missing' | 'wrong';

export interface FileReport {
  readonly file: string;
  readonly status: FileStatus;
  readonly bytes?: number;
  readonly problems: readonly string[];
}

export interface ComponentReport {
  readonly name: string;
  readonly folder: string;
  readonly status: FileStatus;
  readonly files: readonly FileReport[];
}

/** Adds problems to a file of the report, marking it wrong (no-op without problems). */
export type MarkWrong = (file: string, problems: readonly string[]) => void;

/** A file's presence: missing, present, or wrong when empty. */
export function fileReport(folder: string, file: string): FileReport {
  const path = join(folder, file);
  if (!existsSync(path)) return { file, status: 'missing', problems: [] };
  const bytes = statSync(path).size;
  return { file, status: bytes > 0 ? 'present' : 'wrong', bytes, problems: bytes > 0 ? [] : ['the file is empty'] };
}

/** The worst status of the files: wrong, else missing, else present. */
export function worstStatus(files: readonly FileReport[]): FileStatus {
  return files.some((f) => f.status === 'wrong') ? 'wrong' : files.some((f) => f.status === 'missing') ? 'missing' : 'present';
}

/**
 * Reports the component `name` in `folder` with `files`; when every file is there, `check` looks inside
 * them (configs, tensor names and shapes, tokenizer) and marks what is wrong.
 */
export function componentReport(name: string, folder: string, files: readonly string[], check: (wrong: MarkWrong) => void): ComponentReport {
  const reports = files.map((file) => fileReport(folder, file));
  const wrong: MarkWrong = (file, problems) => {
    const i = reports.findIndex((f) => f.file === file);
    const entry = reports[i];
    if (entry === undefined || problems.length === 0) return;
    reports[i] = { ...entry, status: 'wrong', problems: [...entry.problems, ...problems] };
  };
  if (reports.every((f) => f.status === 'present')) check(wrong);
  return { name, folder, status: worstStatus(reports), files: reports };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
