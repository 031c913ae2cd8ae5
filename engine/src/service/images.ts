/**
 * Uploaded images. An image's id is the content hash of its decoded pixels (io/decode.ts imageId), so the
 * same artwork saved twice in different files gets one id. Uploads are deduplicated twice: an encoded
 * file by the sha256 of its bytes (no decode at all), and every upload by the pixel id (no second copy on
 * disk; decoding raw pixels is computing that id).
 *
 * The encoded upload is kept in the result cache (entry key = cacheKey({image: id})), so images survive an
 * engine restart and share the cache's size cap and LRU eviction; an alias entry maps the bytes' hash to the
 * pixel id. Decoded pixels are kept in memory (shared memory, handed to workers without copies), LRU-bounded.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceImage } from '../core/backend.js';
import { RawPixelsSchema, type PutImageResult, type RawPixels } from '../client/protocol.js';
import { cacheKey } from './cache-format.js';
import type { ResultCache } from './cache.js';
import { serviceError } from './errors.js';
import type { WorkerPool } from './pool.js';
import type { InputLimits } from '../io/decode.js';
import type { UploadProgress } from './upload-ahead.js';

const SOURCE_FILE = 'source.bin';

/**
 * An upload's bytes and, when whoever read them hashed them as they arrived (POST /images does, while the
 * client is still sending), their sha256 in hex: then nothing reads the whole upload again to hash it.
 * `ahead`: raw pixels a worker read ahead of (upload-ahead.ts), which hashes them there.
 */
export interface UploadBytes {
  readonly bytes: Uint8Array;
  readonly sha256?: string;
  readonly ahead?: UploadProgress;
  /** What messages about it call the upload: a file's name (image.put with a path); default "the upload". */
  readonly name?: string;
}

export interface ImageStoreOptions {
  readonly cache: ResultCache;
  readonly pool: WorkerPool;
  readonly limits: Partial<InputLimits>;
  /** Decoded pixels kept in memory (bytes). */
  readonly memoryBudget?: number;
}

export class ImageStore {
  private readonly cache: ResultCache;
  private readonly pool: WorkerPool;
  private readonly limits: Partial<InputLimits>;
  private readonly memoryBudget: number;
  /** Insertion order = least recently used first. */
  private readonly memory = new Map<string, SourceImage>();
  private memoryBytes = 0;
  /** Upload bytes' sha256 -> the image they decode to, and what decoding them said. */
  private readonly aliases = new Map<string, { readonly image: string; readonly notices: readonly string[] }>();
  private readonly loading = new Map<string, Promise<SourceImage | undefined>>();

  constructor(options: ImageStoreOptions) {
    this.cache = options.cache;
    this.pool = options.pool;
    this.limits = options.limits;
    this.memoryBudget = options.memoryBudget ?? 1024 * 1024 * 1024;
  }

  /**
   * Stores an upload. `reused` means it was already stored in the cache folder: pixels that only live in
   * memory (their write failed, or the entry was evicted) do not count, and such an upload is stored again.
   * A failed write (a full disk) is an error and the upload is not kept at all, so a client is never told
   * an image is stored when it is not. `onDecoded` gets the image as soon as it is decoded, while it is
   * still being stored (the engine starts planning it then).
   */
  async put(upload: Uint8Array | UploadBytes, pixels?: RawPixels, onDecoded?: (source: SourceImage) => void): Promise<PutImageResult> {
    const { bytes, sha256, ahead, name }: UploadBytes = upload instanceof Uint8Array ? { bytes: upload } : upload;
    let fileHash = sha256;
    const hashOfFile = (): string => (fileHash ??= createHash('sha256').update(bytes).digest('hex'));
    // An encoded file is looked up by its bytes' hash: decoding it again can take seconds. Raw pixels are
    // decoded by hashing them into their id, in a worker, which costs no more than hashing them here on
    // the thread every client waits on would: they go straight to decoding, and their plan starts sooner.
    const bytesHash = pixels ? undefined : hashOfFile();
    const known = bytesHash === undefined ? undefined : await this.knownUpload(bytesHash);
    // `hashedAhead`: the bytes' sha256, hashed by the worker that read ahead of the upload as it arrived.
    const { source, notices, sha256: hashedAhead } = known ? { ...known, sha256: undefined } : await this.pool.decode(bytes, this.limits, pixels, ahead, name);
    fileHash ??= hashedAhead;
    onDecoded?.(source);
    const reused = (await this.cache.get(imageKey(source.id), { count: false })) !== undefined;
    if (!reused) {
      await this.cache.store(
        imageKey(source.id),
        async (staging) => {
          await writeFile(join(staging, SOURCE_FILE), bytes);
          return [{ name: SOURCE_FILE, mime: 'application/octet-stream', bytes: bytes.length, sha256: hashOfFile() }];
        },
        // A raw upload is read back with its layout (load).
        { image: source.id, width: source.image.width, height: source.image.height, ...(pixels ? { pixels } : {}) },
      );
    }
    this.remember(source);
    if (bytesHash !== undefined && this.aliases.get(bytesHash)?.image !== source.id) {
      this.aliases.set(bytesHash, { image: source.id, notices });
      // Only a shortcut past decoding: an alias that cannot be stored costs a decode next time, nothing more.
      await this.cache.store(aliasKey(bytesHash), async () => [], { image: source.id, notices: [...notices] }).catch(() => undefined);
    }
    const { width, height } = source.image;
    return { image: source.id, width, height, hasAlpha: source.alpha !== undefined, reused, notices: [...notices] };
  }

  /** The image these exact bytes were uploaded as before, and what decoding them said, without decoding them again; undefined when unknown. */
  private async knownUpload(bytesHash: string): Promise<{ source: SourceImage; notices: readonly string[] } | undefined> {
    let alias = this.aliases.get(bytesHash);
    if (!alias) {
      const info = (await this.cache.get(aliasKey(bytesHash), { count: false }))?.info;
      const notices = Array.isArray(info?.['notices']) ? info['notices'].filter((n): n is string => typeof n === 'string') : [];
      if (typeof info?.['image'] === 'string') alias = { image: info['image'], notices };
    }
    if (!alias) return undefined;
    const source = await this.find(alias.image);
    return source ? { source, notices: alias.notices } : undefined;
  }

  /** The decoded image, from memory or re-decoded from the cache; NOT_FOUND when unknown or evicted. */
  async get(id: string): Promise<SourceImage> {
    const source = await this.find(id);
    if (!source) {
      throw serviceError(
        'NOT_FOUND',
        `No image has the id ${id}: it was never uploaded to this engine, or it was evicted from the cache.`,
        'Upload the image again (image.put or POST /images); the id stays the same.',
      );
    }
    return source;
  }

  /** Whether the image's pixels are in memory now (not only in the cache folder). */
  inMemory(id: string): boolean {
    return this.memory.has(id);
  }

  /** Width and height of a stored image without decoding it; undefined when unknown or evicted. */
  async size(id: string): Promise<{ width: number; height: number } | undefined> {
    const inMemory = this.memory.get(id);
    if (inMemory) return { width: inMemory.image.width, height: inMemory.image.height };
    const info = (await this.cache.get(imageKey(id), { count: false }))?.info;
    return typeof info?.width === 'number' && typeof info.height === 'number' ? { width: info.width, height: info.height } : undefined;
  }

  async has(id: string): Promise<boolean> {
    if (this.memory.has(id)) return true;
    return (await this.cache.get(imageKey(id), { count: false })) !== undefined;
  }

  private async find(id: string): Promise<SourceImage | undefined> {
    const inMemory = this.memory.get(id);
    if (inMemory) {
      this.memory.delete(id);
      this.memory.set(id, inMemory);
      return inMemory;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async load(id: string): Promise<SourceImage | undefined> {
    const key = imageKey(id);
    const entry = await this.cache.get(key, { count: false });
    if (!entry) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(this.cache.filePath(key, SOURCE_FILE));
    } catch {
      return undefined;
    }
    const layout = RawPixelsSchema.safeParse(entry.info?.['pixels']);
    const { source } = await this.pool.decode(bytes, this.limits, layout.success ? layout.data : undefined);
    if (source.id !== id) {
      // Decoding changed (e.g. a libvips update): the stored bytes no longer give these pixels.
      await this.cache.remove(key, 'stored image decodes to different pixels');
      return undefined;
    }
    this.remember(source);
    return source;
  }

  private remember(source: SourceImage): void {
    if (this.memory.has(source.id)) return;
    const bytes = source.image.data.byteLength + (source.alpha?.byteLength ?? 0);
    this.memory.set(source.id, source);
    this.memoryBytes += bytes;
    for (const [id, s] of this.memory) {
      if (this.memoryBytes <= this.memoryBudget || id === source.id) break;
      this.memory.delete(id);
      this.memoryBytes -= s.image.data.byteLength + (s.alpha?.byteLength ?? 0);
      // Its plans hold its pixels: kept, they would keep them in memory outside this budget.
      this.pool.forgetImage(id);
    }
  }
}

function imageKey(id: string): string {
  return cacheKey({ image: id });
}

function aliasKey(bytesHash: string): string {
  return cacheKey({ upload: bytesHash });
}
