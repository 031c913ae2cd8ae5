/**
 * Known backends by id. A small table: the classic backend is built in, and other modules (the
 * official PaintsUndo model backends) add themselves with `registerBackend`. Backends are loaded
 * lazily, so the CLI starts fast and a backend's heavy dependencies load only when it is used.
 */
import type { Backend, BackendOptions } from '../core/backend.js';
import { PaintsUndoError } from '../core/errors.js';

export interface BackendEntry {
  readonly id: string;
  readonly displayName: string;
  /** One line for `--help` and the protocol's backend list. */
  readonly description: string;
  /** Creates a fresh backend; the caller owns it and must `dispose()` it. */
  readonly create: (options: BackendOptions) => Promise<Backend>;
  /**
   * The URL of the module whose import registers this entry (its `import.meta.url`), for backends added
   * with `registerBackend` from outside this table. The engine service runs jobs in worker threads, which
   * have module graphs of their own: they import these modules, so a backend registered in the main
   * process works in the service too.
   */
  readonly module?: string;
}

export const DEFAULT_BACKEND = 'classic';

const entries = new Map<string, BackendEntry>([
  [
    'classic',
    {
      id: 'classic',
      displayName: 'Classic (CPU, no model download)',
      description: 'Plans a drawing process from the image itself: sketch, line art, flats, shading, details.',
      // Dynamic import: listing backends (and CLI start-up) does not load the planner.
      create: async (options) => (await import('./classic/index.js')).createClassicBackend(options),
    },
  ],
]);

/** Adds (or replaces) a backend. Ids follow core/job.ts BackendIdSchema: lowercase, digits, dashes. */
export function registerBackend(entry: BackendEntry): void {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(entry.id)) throw new RangeError(`invalid backend id ${JSON.stringify(entry.id)}`);
  entries.set(entry.id, entry);
}

export function listBackends(): BackendEntry[] {
  return [...entries.values()];
}

/** The modules that registered backends (see BackendEntry.module), each once. */
export function backendModules(): string[] {
  return [...new Set(listBackends().flatMap((entry) => (entry.module === undefined ? [] : [entry.module])))];
}

export function backendIds(): string[] {
  return [...entries.keys()];
}

export function getBackendEntry(id: string): BackendEntry {
  const entry = entries.get(id);
  if (entry === undefined) {
    const valid = backendIds();
    throw new PaintsUndoError('UNKNOWN_BACKEND', `Unknown backend ${JSON.stringify(id)}. Should be one of: ${valid.join(', ')}.`, {
      hint: `Pass --backend ${valid[0] ?? DEFAULT_BACKEND}, or leave it out for the default (${DEFAULT_BACKEND}).`,
      details: { backend: id, valid },
    });
  }
  return entry;
}

export async function createBackend(id: string = DEFAULT_BACKEND, options: BackendOptions = {}): Promise<Backend> {
  return getBackendEntry(id).create(options);
}
