/**
 * A big raw upload read with help: while the main thread copies the request body into shared memory, an
 * idle worker faults the memory in ahead of it and hashes what has arrived behind it.
 *
 * Ahead: the first write to each page of new memory makes the OS map a page in (a page fault). For the
 * 48 MB of a 4096 px RGB upload that is ~130 ms on a 2-core VM (a second pass over the same memory takes
 * ~14 ms), and without help the main thread pays it while it copies the body in, the thread every client
 * waits on. Measured on the canvas benchmark, reading a 4096 px raw upload took 265-275 ms into memory
 * faulted in beforehand, 345-415 ms into fresh memory. A touch is a compare-exchange of 0 for 0 on one word
 * per page: whatever order it and the main thread's writes land in, it changes no byte (an atomic
 * read-modify-write cannot interleave with another write to its word), so it needs no coordination.
 *
 * Behind: the image's id (io/decode.ts PixelIdHash) and the sha256 of its bytes (the cache's manifest) are
 * hashed as far as the main thread says it has written (a shared counter), so once the body is complete,
 * decoding it on this worker only hashes the last bytes: the id of a 4096 px canvas took ~60 ms to hash
 * after the upload, the time its plan waited to start. The decode goes to this worker when it is free; on
 * another, everything is hashed there as before.
 */
import { createHash, type Hash } from 'node:crypto';
import type { RawPixels } from '../client/protocol.js';
import { PixelIdHash } from '../io/decode.js';

/** Smaller uploads are not worth a message: 8 MB faults in within ~25 ms and hashes within ~10 ms. */
export const READ_AHEAD_MIN_BYTES = 8 * 1024 * 1024;
/** Touched once per this many bytes: the smallest page size of the platforms Node runs on. */
const PAGE_BYTES = 4096;
/** Touched or hashed between two turns of the event loop, so that a job or a cancel waits at most ~20 ms behind it. */
const SLICE_BYTES = 8 * 1024 * 1024;
/** The main thread wakes the worker once per this many bytes written (every 64 KB chunk would be a wake-up each). */
const NOTIFY_BYTES = 1024 * 1024;
/**
 * How long a fully hashed upload waits for its decode, and the worker for the next bytes: far more than
 * the engine's idle timeout for an upload (the main thread always says how a read ended), so only a lost
 * message would need it.
 */
const WAIT_MS = 120_000;

/** The shared words: bytes written so far, and the read's state. */
const WRITTEN = 0;
const STATE = 1;
/** The body is still being read. */
const READING = 0;
/** The body was read whole; the decode may take the hashes. */
const COMPLETE = 1;
/** Nothing more to do: the read failed, or the decode went to another worker. */
const DROPPED = 2;

/** What the worker that reads ahead gets (the 'read-ahead' message). */
export interface ReadAheadWork {
  /** Names this upload in the decode that follows. */
  readonly key: number;
  readonly buffer: SharedArrayBuffer;
  /** Int32Array(2): WRITTEN, STATE. */
  readonly progress: SharedArrayBuffer;
  /** The pixels' layout; without it (an upload the worker cannot hash as an image) the memory is only faulted in. */
  readonly pixels?: RawPixels;
}

/**
 * The main thread's side of an upload read ahead: it says how far it has written, and how the read ended.
 * `worker`: the pool slot that reads ahead (where its decode is best sent).
 */
export class UploadProgress {
  private readonly words: Int32Array;
  private notified = 0;

  constructor(
    readonly key: number,
    readonly worker: number,
    readonly progress: SharedArrayBuffer,
  ) {
    this.words = new Int32Array(progress);
  }

  /** `bytes` from the start of the buffer are written. */
  wrote(bytes: number): void {
    Atomics.store(this.words, WRITTEN, bytes);
    if (bytes - this.notified >= NOTIFY_BYTES) {
      this.notified = bytes;
      Atomics.notify(this.words, WRITTEN);
    }
  }

  /** The read ended: `complete` with every byte written, else failed. A no-op once ended. */
  end(complete: boolean): void {
    if (Atomics.compareExchange(this.words, STATE, READING, complete ? COMPLETE : DROPPED) !== READING) return;
    Atomics.notify(this.words, WRITTEN);
    Atomics.notify(this.words, STATE);
  }

  /** The worker's hashes will not be used (the decode went elsewhere): it stops and lets go of the buffer. */
  drop(): void {
    Atomics.store(this.words, STATE, DROPPED);
    Atomics.notify(this.words, WRITTEN);
    Atomics.notify(this.words, STATE);
  }
}

/** An upload this worker reads ahead of: its hashes as far as they go. */
interface Ahead {
  readonly work: ReadAheadWork;
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  /** The image id and the bytes' sha256, hashed together; none when the body cannot be the pixels it says (faulting in only). */
  readonly hashes: { readonly id: PixelIdHash; readonly sha256: Hash } | undefined;
  /** Bytes hashed so far. */
  hashed: number;
}

/** Uploads being read ahead of, or hashed and waiting for their decode. */
const uploads = new Map<number, Ahead>();

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Starts reading ahead of an upload (faulting its memory in, then hashing behind the writer). */
export function readAhead(work: ReadAheadWork): void {
  const words = new Int32Array(work.progress);
  const bytes = new Uint8Array(work.buffer);
  const { pixels } = work;
  const hashable = pixels !== undefined && pixels.width * pixels.height * pixels.channels === bytes.length;
  const ahead: Ahead = {
    work,
    words,
    bytes,
    hashes: hashable ? { id: new PixelIdHash(pixels.width, pixels.height, pixels.channels), sha256: createHash('sha256') } : undefined,
    hashed: 0,
  };
  uploads.set(work.key, ahead);
  // It ends once its hashes are taken, dropped or not needed (faulting in only), or its wait timed out.
  void run(ahead).finally(() => {
    if (uploads.get(work.key) === ahead) uploads.delete(work.key);
  });
}

/**
 * The hashes of an upload read ahead here, finished over whatever had not been hashed yet (its body is
 * complete: the main thread decodes only a read that ended well), or undefined when this worker did not
 * read ahead of it (or the body's size does not match the pixels). The upload is forgotten here.
 */
export function takeHashedAhead(key: number): { readonly id: PixelIdHash; readonly sha256: string } | undefined {
  const ahead = uploads.get(key);
  if (!ahead) return undefined;
  uploads.delete(key);
  // Its reader, waiting for this, stops (and lets go of the buffer) now.
  Atomics.notify(ahead.words, STATE);
  Atomics.notify(ahead.words, WRITTEN);
  if (!ahead.hashes || Atomics.load(ahead.words, STATE) !== COMPLETE) return undefined;
  hashUpTo(ahead, ahead.bytes.length);
  return { id: ahead.hashes.id, sha256: ahead.hashes.sha256.digest('hex') };
}

/** Faults the memory in (first to last, the order it is filled in), then hashes behind the writer, a slice per turn of the event loop. */
async function run(ahead: Ahead): Promise<void> {
  const { words, bytes } = ahead;
  const pages = new Int32Array(ahead.work.buffer, 0, bytes.length >> 2);
  const stride = PAGE_BYTES >> 2;
  const slice = SLICE_BYTES >> 2;
  for (let start = 0; start < pages.length; start += slice) {
    if (uploads.get(ahead.work.key) !== ahead || Atomics.load(words, STATE) === DROPPED) return;
    const end = Math.min(pages.length, start + slice);
    for (let i = start; i < end; i += stride) Atomics.compareExchange(pages, i, 0, 0);
    await yieldToLoop();
  }
  if (!ahead.hashes) return;
  for (;;) {
    // Taken by its decode, or dropped: done.
    if (uploads.get(ahead.work.key) !== ahead) return;
    const state = Atomics.load(words, STATE);
    if (state === DROPPED) return;
    const written = Atomics.load(words, WRITTEN);
    if (ahead.hashed < written) {
      hashUpTo(ahead, Math.min(written, ahead.hashed + SLICE_BYTES));
      await yieldToLoop();
      continue;
    }
    // Hashed as far as written: wait for more bytes, or (the body complete) for the decode.
    const waited = state === COMPLETE ? Atomics.waitAsync(words, STATE, COMPLETE, WAIT_MS) : Atomics.waitAsync(words, WRITTEN, written, WAIT_MS);
    // Timed out: forgotten (readAhead's finally).
    if ((waited.async ? await waited.value : waited.value) === 'timed-out') return;
  }
}

/** Hashes the upload's bytes up to `end` (the id stops at whole pixels; the rest waits for the next call). */
function hashUpTo(ahead: Ahead, end: number): void {
  const { hashes, bytes } = ahead;
  if (!hashes || end <= ahead.hashed) return;
  hashes.sha256.update(bytes.subarray(ahead.hashed, end));
  ahead.hashed = end;
  hashes.id.update(bytes, Math.floor(end / hashes.id.channels));
}
