/**
 * What the result cache keeps on disk: the entry metadata (meta.json) and index (index.json) formats,
 * keys (sha256 of canonical JSON) and file checksums. The store that reads and writes them: cache.ts.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { z } from 'zod';

/** The folder under the cache directory for this layout; a new layout gets a new folder. */
export const CACHE_LAYOUT_VERSION = 'v1';

export const CacheFileSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
  mime: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  step: z.number().int().optional(),
});
export type CacheFile = z.infer<typeof CacheFileSchema>;

export const MetaSchema = z.object({
  version: z.literal(1),
  key: z.string(),
  createdAt: z.number(),
  bytes: z.number().int().nonnegative(),
  files: z.array(CacheFileSchema),
  /** Free-form description (job kind, backend...), for humans and for aliases. */
  info: z.record(z.string(), z.unknown()).default({}),
});
export type CacheEntry = z.infer<typeof MetaSchema>;

export const IndexSchema = z.object({
  version: z.literal(1),
  entries: z.record(z.string(), z.object({ bytes: z.number(), lastUsed: z.number() })),
});

export type CacheIndex = z.infer<typeof IndexSchema>;

export const KEY_RE = /^[0-9a-f]{64}$/;

/** A cache key: sha256 of the canonical JSON of `parts` (object keys sorted, so order never matters). */
export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
