/**
 * Writing a job's result: the summary every kind returns and the all-or-nothing writing of a folder of
 * files. Each file is written atomically (io/atomic.ts), so no partial file appears under its name.
 */
import { rm } from 'node:fs/promises';
import { throwIfCancelled } from '../core/errors.js';
import type { JobInput } from '../core/job.js';
import type { Provenance } from '../io/provenance.js';

export interface JobOutput {
  readonly kind: JobInput['kind'];
  /** Absolute paths of the files written, in a stable order. */
  readonly files: readonly string[];
  readonly backend: string;
  readonly backendVersion: string;
  readonly seed: number;
  /** Video jobs only. */
  readonly frames?: number;
  readonly width?: number;
  readonly height?: number;
}

export function optionalSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

/** The output summary of a job whose files carry provenance `p`; `image` gives the size when there is one. */
export function outputSummary(job: JobInput, files: readonly string[], p: Provenance, image?: { width: number; height: number }): JobOutput {
  return {
    kind: job.kind,
    files,
    backend: p.backend,
    backendVersion: p.backendVersion,
    seed: p.seed,
    ...(image ? { width: image.width, height: image.height } : {}),
  };
}

/** Writes files one by one (each atomic); on error or abort removes the ones this call wrote. */
export async function writeAll(items: readonly { path: string; data: () => Promise<Uint8Array> }[], signal: AbortSignal | undefined): Promise<string[]> {
  const { writeFileAtomic } = await import('../io/atomic.js');
  const written: string[] = [];
  try {
    for (const item of items) {
      throwIfCancelled(signal);
      await writeFileAtomic(item.path, await item.data(), optionalSignal(signal));
      written.push(item.path);
    }
    return written;
  } catch (error) {
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw error;
  }
}
