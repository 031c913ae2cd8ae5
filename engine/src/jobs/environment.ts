/**
 * What a job runs in: the caller's environment (image ids, warm backends, cancellation, progress) and,
 * per job, a backend checked for the capability the job needs. Shared by every job kind.
 */
import type { Backend, BackendCapabilities, Progress, SourceImage } from '../core/backend.js';
import { PaintsUndoError, throwIfCancelled } from '../core/errors.js';
import { createBackend } from '../backends/registry.js';
import { makeProvenance, type Provenance } from '../io/provenance.js';
import { monotonicProgress, type ProgressSink } from './progress.js';

export interface JobEnvironment {
  /** Returns the decoded image of an id; throw INPUT_NOT_FOUND for unknown ids. */
  readonly resolveImage: (id: string) => SourceImage | Promise<SourceImage>;
  /**
   * Returns a ready backend for an id. The runner never disposes it: the caller owns backends (the
   * service keeps them warm between jobs). Default: `createBackend` from the registry, one per call.
   */
  readonly backend?: (id: string) => Promise<Backend>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
}

/** A backend operation a job kind needs (the non-operation capabilities, preview and device, excluded). */
export type JobCapability = keyof Omit<BackendCapabilities, 'preview' | 'device'>;

export interface PreparedBackend {
  readonly backend: Backend;
  readonly signal: AbortSignal;
  /** Monotonic progress to the caller. */
  readonly report: ProgressSink;
  /** Disposes the backend when the runner created it; safe to call more than once. */
  readonly release: () => Promise<void>;
}

/** The caller's signal, or one that never fires; throws CANCELLED at once when it already fired. */
export function jobSignal(env: JobEnvironment): AbortSignal {
  const signal = env.signal ?? new AbortController().signal;
  throwIfCancelled(signal);
  return signal;
}

/**
 * Gets the backend `backendId` from the caller (or creates one) and checks it can do `capability`;
 * `operation` words the UNSUPPORTED error ("The x backend cannot <operation>.").
 */
export async function prepareBackend(env: JobEnvironment, backendId: string, capability: JobCapability, operation: string): Promise<PreparedBackend> {
  const signal = jobSignal(env);
  const owned = env.backend === undefined;
  const backend = env.backend === undefined ? await createBackend(backendId) : await env.backend(backendId);
  if (backend.capabilities[capability] !== true) {
    if (owned) await backend.dispose();
    throw new PaintsUndoError('UNSUPPORTED', `The ${backend.id} backend cannot ${operation}.`, {
      hint: 'Choose another backend with --backend (see `paints-undo --help`).',
      details: { backend: backend.id, operation: capability },
    });
  }
  let released = false;
  const release = async (): Promise<void> => {
    // Idempotent: a video plan releases from its generator and from its caller, whichever comes first.
    if (released || !owned) return;
    released = true;
    await backend.dispose();
  };
  return { backend, signal, report: monotonicProgress(env.onProgress), release };
}

/** Provenance of an output made by `backend` from the image `source`. */
export function provenanceFor(backend: Backend, seed: number, source: string, extra: { step?: number } = {}): Provenance {
  return makeProvenance({ backend: backend.id, backendVersion: backend.version, seed, source, ...extra });
}

/**
 * Runs `call` on a prepared backend (see prepareBackend), reports the job done when it returns, and
 * releases the backend either way: the shape of every job that returns its result in one piece.
 */
export async function withBackend<T>(
  env: JobEnvironment,
  backendId: string,
  capability: JobCapability,
  operation: string,
  call: (run: PreparedBackend) => Promise<T>,
): Promise<T> {
  const run = await prepareBackend(env, backendId, capability, operation);
  try {
    const result = await call(run);
    run.report({ fraction: 1, stage: 'done' });
    return result;
  } finally {
    await run.release();
  }
}
