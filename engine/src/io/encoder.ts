/**
 * ffmpeg processes fed from the encoder thread (encoder-thread.ts), so frames are written to ffmpeg while
 * the next one renders. Frames go through a small ring of slots in shared memory (pages reused from frame
 * to frame, no allocation per frame): rendered straight into a slot the ring lends, or copied into one;
 * the thread writes a slot to ffmpeg's stdin and hands it back.
 * One thread serves every encode of the process; it starts on first use and never keeps the process alive
 * while no encode runs.
 */
import type { Worker } from 'node:worker_threads';
import type { FrameBuffers } from '../core/backend.js';
import { startModuleWorker } from './threads.js';

/** Messages to the encoder thread. */
export type ToEncoder =
  | { readonly type: 'start'; readonly id: number; readonly ffmpeg: string; readonly args: readonly string[]; readonly ring: SharedArrayBuffer; readonly slotBytes: number }
  /** A whole frame is in `slot` (frames are exactly `slotBytes`). */
  | { readonly type: 'frame'; readonly id: number; readonly slot: number }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'kill'; readonly id: number };

/** Messages from the encoder thread. */
export type FromEncoder =
  | { readonly type: 'written'; readonly id: number; readonly slot: number }
  | ({ readonly type: 'exit'; readonly id: number } & EncoderExit);

/** How an ffmpeg process ended: its exit code (null when killed or never started) and the tail of stderr. */
export interface EncoderExit {
  readonly code: number | null;
  readonly stderr: string;
  /** Why the process could not run at all (spawn error, or the encoder thread failed). */
  readonly spawnError?: string;
}

/**
 * The ring holds up to this many bytes of frames, and at least two frames (one in the pipe while the next
 * is copied in): 4 slots of a 1080p frame, 2 of a 4096 px one.
 */
const RING_BYTES = 32 * 1024 * 1024;
const MIN_SLOTS = 2;
const MAX_SLOTS = 4;

/**
 * One ffmpeg process and its frame ring. It lends its free slots to whoever renders the frames
 * (FrameBuffers): a frame rendered into a lent slot is queued without being copied.
 */
export class EncoderProcess implements FrameBuffers {
  readonly exited: Promise<EncoderExit>;
  private exit: EncoderExit | undefined;
  private readonly ring: SharedArrayBuffer;
  private readonly free: number[];
  /** The slot `take` lent and that has not been sent yet. */
  private lent: number | undefined;
  /** Senders waiting for a free slot (or for the end). */
  private waiting: (() => void)[] = [];
  private settle!: (exit: EncoderExit) => void;

  constructor(
    private readonly thread: EncoderThread,
    readonly id: number,
    ffmpeg: string,
    args: readonly string[],
    private readonly frameBytes: number,
  ) {
    const slots = Math.max(MIN_SLOTS, Math.min(MAX_SLOTS, Math.floor(RING_BYTES / frameBytes)));
    this.ring = new SharedArrayBuffer(slots * frameBytes);
    this.free = Array.from({ length: slots }, (_, slot) => slot);
    this.exited = new Promise((resolve) => (this.settle = resolve));
    thread.post({ type: 'start', id, ffmpeg, args, ring: this.ring, slotBytes: frameBytes });
  }

  /** Whether ffmpeg has ended (by itself, or killed). */
  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** The size of a frame (FrameBuffers). */
  get bytes(): number {
    return this.frameBytes;
  }

  /**
   * Lends a free slot for the next frame, once one is free (FrameBuffers). A lent slot that was not sent
   * by the next `take` was given up, and is taken back. Once ffmpeg has ended, a buffer of its own: `send`
   * then says that ffmpeg ended.
   */
  async take(): Promise<Uint8Array> {
    if (this.lent !== undefined) this.free.push(this.lent);
    this.lent = await this.freeSlot();
    return this.lent === undefined ? new Uint8Array(this.frameBytes) : this.slot(this.lent);
  }

  /**
   * Queues `frame` (exactly the frame size given at start) for ffmpeg: the slot `take` lent as it is, any
   * other frame copied into a slot once one is free. Resolves false, without sending, when ffmpeg has
   * already ended: its exit tells why.
   */
  async send(frame: Uint8Array): Promise<boolean> {
    if (frame.length !== this.frameBytes) throw new RangeError(`a frame of ${frame.length} bytes, expected ${this.frameBytes}`);
    let slot: number | undefined;
    if (this.lent !== undefined && frame.buffer === this.ring && frame.byteOffset === this.lent * this.frameBytes) {
      slot = this.lent;
      this.lent = undefined;
      if (this.exit) this.free.push(slot);
    } else {
      slot = await this.freeSlot();
      if (slot !== undefined) this.slot(slot).set(frame);
    }
    if (slot === undefined || this.exit) return false;
    this.thread.post({ type: 'frame', id: this.id, slot });
    return true;
  }

  /** A free slot, once there is one; undefined once ffmpeg has ended. */
  private async freeSlot(): Promise<number | undefined> {
    while (this.free.length === 0 && !this.exit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.exit ? undefined : this.free.pop();
  }

  private slot(slot: number): Uint8Array {
    return new Uint8Array(this.ring, slot * this.frameBytes, this.frameBytes);
  }

  /** No more frames: ffmpeg finishes the file once it has read what was sent. */
  end(): void {
    if (!this.exit) this.thread.post({ type: 'end', id: this.id });
  }

  kill(): void {
    if (!this.exit) this.thread.post({ type: 'kill', id: this.id });
  }

  /** @internal the thread wrote `slot` into ffmpeg's stdin. */
  written(slot: number): void {
    this.free.push(slot);
    this.wake();
  }

  /** @internal ffmpeg ended (or the thread did). */
  ended(exit: EncoderExit): void {
    if (this.exit) return;
    this.exit = exit;
    this.settle(exit);
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

class EncoderThread {
  private readonly worker: Worker;
  private readonly sessions = new Map<number, EncoderProcess>();
  private nextId = 1;
  private stopped = false;

  constructor(onStopped: () => void) {
    this.worker = startModuleWorker(import.meta.url, 'encoder-thread');
    this.worker.unref();
    this.worker.on('message', (message: FromEncoder) => {
      const session = this.sessions.get(message.id);
      if (!session) return;
      if (message.type === 'written') {
        session.written(message.slot);
        return;
      }
      this.sessions.delete(message.id);
      session.ended(message);
      if (this.sessions.size === 0) this.worker.unref();
    });
    const stop = (reason: string): void => {
      if (this.stopped) return;
      this.stopped = true;
      onStopped();
      for (const session of this.sessions.values()) session.ended({ code: null, stderr: '', spawnError: `the encoder thread stopped: ${reason}` });
      this.sessions.clear();
    };
    this.worker.on('error', (error) => stop(error.message));
    this.worker.on('exit', (code) => stop(`exit code ${code}`));
  }

  open(ffmpeg: string, args: readonly string[], frameBytes: number): EncoderProcess {
    const session = new EncoderProcess(this, this.nextId++, ffmpeg, args, frameBytes);
    this.sessions.set(session.id, session);
    this.worker.ref();
    return session;
  }

  post(message: ToEncoder): void {
    this.worker.postMessage(message);
  }
}

let shared: EncoderThread | undefined;

/** Starts ffmpeg with `args`, reading raw frames of `frameBytes` bytes from stdin. */
export function startEncoder(ffmpeg: string, args: readonly string[], frameBytes: number): EncoderProcess {
  const thread = (shared ??= new EncoderThread(() => (shared = undefined)));
  return thread.open(ffmpeg, args, frameBytes);
}
