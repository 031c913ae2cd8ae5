/**
 * Provenance of every export. A generated drawing process is not a recording: PaintsUndo's users have
 * been hurt by fake "speedpaints", so every file we write says, in its own metadata, that it is a
 * generated reconstruction, by which backend and version, from which input and seed.
 */
import { constants, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Provenance {
  readonly generator: 'paints-undo';
  readonly generatorVersion: string;
  /** Always "generated-reconstruction": never present a reconstruction as a recording. */
  readonly kind: 'generated-reconstruction';
  readonly backend: string;
  readonly backendVersion: string;
  readonly seed: number;
  /** Content id (sha256) of the decoded input. */
  readonly source: string;
  /** Operation step of a still frame (0 = finished, 999 = blank). */
  readonly step?: number;
  /** Name of the layer, for layer exports. */
  readonly layer?: string;
}

export const PROVENANCE_NOTICE =
  'Generated reconstruction of a possible drawing process (not a recording of the artist at work).';

/** The paints-undo package this module belongs to: the folder of its package.json, and its version. */
export interface EnginePackage {
  readonly folder: string;
  readonly version: string;
}

let cachedPackage: EnginePackage | null | undefined;

/**
 * paints-undo's package.json above this module, wherever the module was compiled to (src/, dist/, the
 * benchmarks' build): its folder and version; null when there is none.
 */
export function enginePackage(): EnginePackage | null {
  if (cachedPackage !== undefined) return cachedPackage;
  cachedPackage = null;
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'paints-undo' && typeof pkg.version === 'string') {
        cachedPackage = { folder, version: pkg.version };
        break;
      }
    } catch {
      // No package.json at this level; keep walking up.
    }
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  return cachedPackage;
}

/** The package version (see enginePackage). */
export function engineVersion(): string {
  return enginePackage()?.version ?? '0.0.0-unknown';
}

export function makeProvenance(fields: Omit<Provenance, 'generator' | 'generatorVersion' | 'kind'>): Provenance {
  return { generator: 'paints-undo', generatorVersion: engineVersion(), kind: 'generated-reconstruction', ...fields };
}

/** One line for human-facing metadata fields (video comment, PSD caption). */
export function provenanceSummary(p: Provenance): string {
  const parts = [`${PROVENANCE_NOTICE} Made with paints-undo ${p.generatorVersion}, backend ${p.backend} ${p.backendVersion}, seed ${p.seed}`];
  if (p.step !== undefined) parts.push(`step ${p.step}`);
  if (p.layer !== undefined) parts.push(`layer "${p.layer}"`);
  return `${parts.join(', ')}.`;
}

/** How far into a file its provenance is looked for: every format paints-undo writes has it in its first KB. */
const PROVENANCE_SEARCH_BYTES = 64 * 1024;

/**
 * Whether the regular file at `path` is one paints-undo wrote: its metadata near the start says so
 * (PROVENANCE_NOTICE, verbatim in PNG text, GIF comments, video tags and PSD XMP). Reads at most 64 KB;
 * false for anything unreadable or not a regular file (never blocks on a FIFO or a device).
 */
export async function carriesProvenance(path: string): Promise<boolean> {
  let handle;
  try {
    // Non-blocking, so that opening a FIFO does not wait for a writer; anything but a file is refused below.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!(await handle.stat()).isFile()) return false;
    const buffer = Buffer.alloc(PROVENANCE_SEARCH_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).includes(PROVENANCE_NOTICE, 0, 'latin1');
  } catch {
    return false;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
