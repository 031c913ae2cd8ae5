/**
 * The persistent, content-addressed result cache.
 *
 * Layout under <dir>/v1/:
 *   entries/<k[0..2]>/<key>/meta.json + result files   one committed entry per key
 *   staging/<random>/                                   results being written (never read)
 *   trash/<random>/                                     entries being deleted
 *   index.json                                          sizes and last use, a hint only
 *
 * Invariants that make it safe without locks, also with several engine processes on one folder:
 * - an entry becomes visible only by renaming a complete staging folder (meta.json written last) to its
 *   final name; rename of a folder is atomic, so readers see the whole entry or nothing. If another process
 *   committed the same key first, the rename fails and our copy is dropped (both are equal by construction);
 * - deletion renames the entry into trash/ first, so it vanishes atomically, then removes it;
 * - meta.json holds the sha256 of every file; an entry whose files do not match is removed and recomputed;
 * - the files, not index.json, are the truth: the index is rebuilt from the folders when it is missing,
 *   stale or corrupt, and entries another process added are picked up on the next start. Last use is
 *   shared between processes through the mtime of meta.json (touched on every hit).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PaintsUndoError } from '../core/errors.js';
import {
  CACHE_LAYOUT_VERSION,
  IndexSchema,
  KEY_RE,
  MetaSchema,
  sha256File,
  type CacheEntry,
  type CacheFile,
  type CacheIndex,
} from './cache-format.js';
import type { CacheStats } from '../client/protocol.js';
import { makeFolders } from '../io/make-folder.js';
import { writeConditionOf, writeFailureReason } from '../io/write-errors.js';

export const DEFAULT_CACHE_CAP_BYTES = 2 * 1024 * 1024 * 1024;
/** Staging folders older than this belong to a crashed process (live jobs finish or refresh long before). */
const STALE_STAGING_MS = 6 * 60 * 60 * 1000;
const INDEX_FLUSH_DELAY_MS = 2000;

export interface CacheOptions {
  readonly dir: string;
  readonly capBytes?: number;
  readonly log?: (message: string) => void;
}

export class ResultCache {
  readonly root: string;
  readonly capBytes: number;
  private readonly log: (message: string) => void;
  private readonly index = new Map<string, { bytes: number; lastUsed: number }>();
  /**
   * Entries whose checksums this process verified. Entries are immutable once committed (a key names its
   * content), so one full check per process is enough; sizes are still checked on every hit.
   */
  private readonly verified = new Set<string>();
  private totalBytes = 0;
  private counters = { hits: 0, misses: 0, evictions: 0, corruptRemoved: 0 };
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private dirty = false;
  private reconciling: Promise<void> | undefined;

  private constructor(options: CacheOptions) {
    this.root = join(options.dir, CACHE_LAYOUT_VERSION);
    this.capBytes = options.capBytes ?? DEFAULT_CACHE_CAP_BYTES;
    this.log = options.log ?? (() => undefined);
  }

  static async open(options: CacheOptions): Promise<ResultCache> {
    const cache = new ResultCache(options);
    await cache.init();
    return cache;
  }

  private async init(): Promise<void> {
    try {
      for (const sub of ['entries', 'staging', 'trash']) await makeFolders(join(this.root, sub));
    } catch (error) {
      throw new PaintsUndoError('OUTPUT_NOT_WRITABLE', `Cannot create the cache folder ${this.root}: ${writeFailureReason(error)}.`, {
        hint: 'Point the cache somewhere writable with --cache-dir or PAINTS_UNDO_CACHE_DIR.',
        cause: error,
      });
    }
    await this.sweep();
    await this.rebuildIndex();
  }

  /** Removes trash and staging folders of crashed processes. */
  private async sweep(): Promise<void> {
    for (const name of await readdir(join(this.root, 'trash')).catch(() => [])) {
      await rm(join(this.root, 'trash', name), { recursive: true, force: true }).catch(() => undefined);
    }
    const now = Date.now();
    for (const name of await readdir(join(this.root, 'staging')).catch(() => [])) {
      const path = join(this.root, 'staging', name);
      const info = await stat(path).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_STAGING_MS) await rm(path, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async rebuildIndex(): Promise<void> {
    let hint: CacheIndex['entries'] = {};
    try {
      const parsed = IndexSchema.safeParse(JSON.parse(await readFile(join(this.root, 'index.json'), 'utf8')));
      if (parsed.success) hint = parsed.data.entries;
      else this.log('cache index.json is not valid; rebuilding it from the entries');
    } catch {
      // Missing or unreadable index: rebuilt from the folders below.
    }
    this.index.clear();
    this.totalBytes = 0;
    const entriesDir = join(this.root, 'entries');
    for (const shard of await readdir(entriesDir).catch(() => [])) {
      for (const key of await readdir(join(entriesDir, shard)).catch(() => [])) {
        if (!KEY_RE.test(key) || key.slice(0, 2) !== shard) continue;
        const known = hint[key];
        if (known) {
          this.index.set(key, { ...known });
          this.totalBytes += known.bytes;
          continue;
        }
        const meta = await this.readMeta(key);
        if (!meta) {
          await this.remove(key, 'unreadable meta.json');
          this.counters.corruptRemoved++;
          continue;
        }
        const mtime = (await stat(this.metaPath(key)).catch(() => undefined))?.mtimeMs ?? Date.now();
        this.index.set(key, { bytes: meta.bytes, lastUsed: mtime });
        this.totalBytes += meta.bytes;
      }
    }
    this.dirty = true;
    await this.evictIfNeeded();
  }

  entryDir(key: string): string {
    return join(this.root, 'entries', key.slice(0, 2), key);
  }

  private metaPath(key: string): string {
    return join(this.entryDir(key), 'meta.json');
  }

  filePath(key: string, name: string): string {
    return join(this.entryDir(key), name);
  }

  private async readMeta(key: string): Promise<CacheEntry | undefined> {
    let text: string;
    try {
      text = await readFile(this.metaPath(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = MetaSchema.safeParse(JSON.parse(text));
      return parsed.success && parsed.data.key === key ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The entry for `key`, checked (sizes always, checksums once per process) and marked as used;
   * undefined on a miss. A corrupt entry is removed and reported as a miss.
   */
  async get(key: string, options: { count?: boolean } = {}): Promise<CacheEntry | undefined> {
    const count = options.count ?? true;
    if (!KEY_RE.test(key)) return undefined;
    const meta = await this.readMeta(key);
    if (!meta) {
      const exists = await stat(this.entryDir(key)).catch(() => undefined);
      if (exists) {
        // A committed entry always has a valid meta.json (it is written before the rename).
        await this.remove(key, 'missing or invalid meta.json');
        this.counters.corruptRemoved++;
      } else if (this.index.has(key)) {
        this.forget(key);
      }
      if (count) this.counters.misses++;
      return undefined;
    }
    const ok = await this.check(key, meta);
    if (!ok) {
      await this.remove(key, 'checksum mismatch');
      this.counters.corruptRemoved++;
      if (count) this.counters.misses++;
      return undefined;
    }
    if (count) this.counters.hits++;
    this.touch(key, meta.bytes);
    return meta;
  }

  private async check(key: string, meta: CacheEntry): Promise<boolean> {
    for (const file of meta.files) {
      const info = await stat(this.filePath(key, file.name)).catch(() => undefined);
      if (!info || info.size !== file.bytes) return false;
    }
    if (this.verified.has(key)) return true;
    for (const file of meta.files) {
      let digest: string;
      try {
        digest = await sha256File(this.filePath(key, file.name));
      } catch {
        return false;
      }
      if (digest !== file.sha256) return false;
    }
    this.verified.add(key);
    return true;
  }

  private touch(key: string, bytes: number): void {
    const now = Date.now();
    const known = this.index.get(key);
    if (!known) {
      this.index.set(key, { bytes, lastUsed: now });
      this.totalBytes += bytes;
    } else {
      known.lastUsed = now;
    }
    this.markDirty();
    const seconds = now / 1000;
    utimes(this.metaPath(key), seconds, seconds).catch(() => undefined);
  }

  /**
   * The one way an entry is written: `write` fills a fresh private staging folder (in this process or a
   * worker) and returns its files with sizes and checksums; they are then published under `key`. On any
   * failure the staging folder is removed, so nothing partial is ever stored; a write the disk refused
   * (full, quota, read-only), wherever it was met, is OUTPUT_NOT_WRITABLE naming the cache folder.
   * Returns the committed entry (another process's, if it won the race).
   */
  async store(
    key: string,
    write: (staging: string) => Promise<readonly CacheFile[]>,
    info: Record<string, unknown> = {},
  ): Promise<CacheEntry> {
    let staging: string | undefined;
    try {
      staging = join(this.root, 'staging', `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
      await mkdir(staging, { recursive: true });
      return await this.commit(key, staging, await write(staging), info);
    } catch (error) {
      if (staging !== undefined) await this.discard(staging);
      throw this.writeError(error);
    }
  }

  private async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }

  private writeError(error: unknown): unknown {
    const failure = writeConditionOf(error);
    if (failure === undefined) return error;
    return new PaintsUndoError('OUTPUT_NOT_WRITABLE', `The engine cannot store results in its cache folder ${this.root}: ${failure.reason}.`, {
      hint: failure.space
        ? 'Free space on that disk, or clear the cache (cache.clear), or restart the engine with --cache-dir on a disk with room or a smaller --cache-size.'
        : 'Restart the engine with --cache-dir (or PAINTS_UNDO_CACHE_DIR) set to a folder you can write to.',
      details: { dir: this.root, errno: failure.errno },
      cause: error,
    });
  }

  /** Publishes the complete files in `staging` under `key` (see store()). */
  private async commit(key: string, staging: string, files: readonly CacheFile[], info: Record<string, unknown> = {}): Promise<CacheEntry> {
    const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
    const meta: CacheEntry = { version: 1, key, createdAt: Date.now(), bytes, files: [...files], info };
    await writeFile(join(staging, 'meta.json'), JSON.stringify(meta));
    await mkdir(join(this.root, 'entries', key.slice(0, 2)), { recursive: true });
    try {
      await rename(staging, this.entryDir(key));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      await this.discard(staging);
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'EPERM' && code !== 'EACCES') throw error;
      const theirs = await this.get(key, { count: false });
      if (theirs) return theirs;
      throw new PaintsUndoError('INTERNAL', `Cache entry ${key} was committed by another engine but cannot be read.`, {
        hint: 'Retry the request.',
      });
    }
    this.verified.add(key);
    this.index.set(key, { bytes, lastUsed: Date.now() });
    this.totalBytes += bytes;
    this.markDirty();
    await this.evictIfNeeded(key);
    return meta;
  }

  private async evictIfNeeded(keep?: string): Promise<void> {
    if (this.totalBytes <= this.capBytes) return;
    // Another engine on this folder may have removed entries (then nothing needs to go) or added some
    // (then they count against the one cap): the folder decides, not this process's memory.
    await this.reconcile();
    if (this.totalBytes <= this.capBytes) return;
    const order = [...this.index.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key] of order) {
      if (this.totalBytes <= this.capBytes) break;
      if (key === keep) continue;
      await this.remove(key, 'evicted (least recently used)');
      this.counters.evictions++;
    }
  }

  /**
   * Brings the index in line with the entries folder, which other engine processes on the same folder
   * change too: entries they removed (cleared, evicted) are forgotten, entries they added are counted.
   * Called before cache.stats answers and before evicting. Costs one directory listing per shard.
   */
  reconcile(): Promise<void> {
    this.reconciling ??= this.scanEntries().finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async scanEntries(): Promise<void> {
    const onDisk = new Set<string>();
    const entriesDir = join(this.root, 'entries');
    for (const shard of await readdir(entriesDir).catch(() => [])) {
      for (const key of await readdir(join(entriesDir, shard)).catch(() => [])) {
        if (KEY_RE.test(key) && key.slice(0, 2) === shard) onDisk.add(key);
      }
    }
    for (const key of [...this.index.keys()]) {
      // Committed by this process after its shard was listed: still there, keep it.
      if (!onDisk.has(key) && !(await stat(this.entryDir(key)).catch(() => undefined))) this.forget(key);
    }
    for (const key of onDisk) {
      if (this.index.has(key)) continue;
      const meta = await this.readMeta(key);
      // Half-removed or corrupt entries are left to get(), which removes them when asked.
      if (!meta || this.index.has(key)) continue;
      const mtime = (await stat(this.metaPath(key)).catch(() => undefined))?.mtimeMs ?? Date.now();
      this.index.set(key, { bytes: meta.bytes, lastUsed: mtime });
      this.totalBytes += meta.bytes;
      this.markDirty();
    }
  }

  private forget(key: string): void {
    const known = this.index.get(key);
    if (known) {
      this.totalBytes -= known.bytes;
      this.index.delete(key);
      this.markDirty();
    }
    this.verified.delete(key);
  }

  /** Removes an entry atomically (rename into trash, then delete). */
  async remove(key: string, reason: string): Promise<void> {
    this.forget(key);
    const trash = join(this.root, 'trash', `${key}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.entryDir(key), trash);
    } catch {
      return; // Already gone (another process removed it).
    }
    this.log(`cache: removed ${key.slice(0, 12)}: ${reason}`);
    await rm(trash, { recursive: true, force: true }).catch(() => undefined);
  }

  async clear(): Promise<{ removedEntries: number; freedBytes: number }> {
    const keys = [...this.index.keys()];
    const freedBytes = this.totalBytes;
    for (const key of keys) await this.remove(key, 'cache cleared');
    // Also entries another process added since we indexed.
    const entriesDir = join(this.root, 'entries');
    let removed = keys.length;
    for (const shard of await readdir(entriesDir).catch(() => [])) {
      for (const key of await readdir(join(entriesDir, shard)).catch(() => [])) {
        if (KEY_RE.test(key)) {
          await this.remove(key, 'cache cleared');
          removed++;
        }
      }
    }
    await this.flush();
    return { removedEntries: removed, freedBytes };
  }

  /** Counters and sizes as this process knows them; call reconcile() first for the folder's current state. */
  stats(): CacheStats {
    return {
      dir: this.root,
      entries: this.index.size,
      bytes: this.totalBytes,
      capBytes: this.capBytes,
      ...this.counters,
    };
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush().catch((error: unknown) => this.log(`cache: cannot write index.json: ${String(error)}`));
    }, INDEX_FLUSH_DELAY_MS);
    this.flushTimer.unref();
  }

  /** Writes index.json atomically (temp file + rename). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    const body = JSON.stringify({ version: 1, entries: Object.fromEntries(this.index) });
    const tmp = join(this.root, `index.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, body);
      await rename(tmp, join(this.root, 'index.json'));
    } catch (error) {
      // A full disk: no half-written temp file stays behind, and the next change tries again.
      await rm(tmp, { force: true }).catch(() => undefined);
      this.dirty = true;
      throw error;
    }
  }
}
