/**
 * Backpressure on what clients send: on the messages one client has in hand (ReadGate), and on the large
 * messages being received from all clients at once (MessageSlots).
 */

/**
 * An upload (an HTTP body, or a large WebSocket message) that averages less than this, once
 * UPLOAD_RATE_GRACE_MS (or the idle timeout, if shorter) have passed since its turn came, is cut off: it
 * would keep the uploads behind it waiting. A 64 MB canvas at this rate takes 17 minutes; over loopback
 * it takes a second.
 */
export const MIN_UPLOAD_BYTES_PER_SECOND = 64 * 1024;
const UPLOAD_RATE_GRACE_MS = 10_000;
/** An upload body that sends nothing for this long is dropped (ListenOptions.uploadIdleTimeoutMs). */
export const DEFAULT_UPLOAD_IDLE_TIMEOUT_MS = 30_000;

/**
 * Whether an upload that has sent `bytes` in `seconds` since its turn came is under the upload pace: only
 * once UPLOAD_RATE_GRACE_MS, or the idle timeout `idleMs` if shorter, have passed. HTTP bodies and large
 * WebSocket messages are held to it alike.
 */
export function belowUploadPace(bytes: number, seconds: number, idleMs: number): boolean {
  return seconds * 1000 >= Math.min(idleMs, UPLOAD_RATE_GRACE_MS) && bytes / seconds < MIN_UPLOAD_BYTES_PER_SECOND;
}

/** Bytes of one client's messages in hand from which its carrier stops reading (ReadGate). */
export const CLIENT_READ_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Messages are handled concurrently, so a client that sends large ones (base64 `image.put`) faster than
 * they are handled would make the engine hold all of them at once: a tool that pipelines a folder of
 * canvases holds each message, its parsed text and its decoded bytes (about four times the message) while
 * the uploads wait their turn. Once more than `limitBytes` of one client's messages are being handled, its
 * carrier stops reading (the WebSocket or stdin stays unread, so the sender waits) until they fall back
 * under the limit. Small messages never reach it; a large one is always read, then holds back what follows it.
 */
export class ReadGate {
  private inHand = 0;
  private paused = false;

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
    private readonly limitBytes = CLIENT_READ_LIMIT_BYTES,
  ) {}

  /** Bytes of messages being handled. */
  get bytesInHand(): number {
    return this.inHand;
  }

  /** Counts a message of `bytes` until `handling` settles; reading pauses while too much is in hand. */
  track<T>(bytes: number, handling: Promise<T>): Promise<T> {
    this.inHand += bytes;
    if (!this.paused && this.inHand > this.limitBytes) {
      this.paused = true;
      this.pause();
    }
    const settle = (): void => {
      this.inHand -= bytes;
      if (this.paused && this.inHand <= this.limitBytes) {
        this.paused = false;
        this.resume();
      }
    };
    return handling.finally(settle);
  }
}

/**
 * A message becomes "large" once this much of it has arrived: a request or a small image is never held
 * back, a base64 canvas (tens of MB) is.
 */
export const LARGE_MESSAGE_BYTES = 1024 * 1024;

/**
 * Large messages in the engine at once, across every client: being received, or received and waiting for
 * their turn to be stored (uploads are stored a few at a time). ws holds a message whole until its last
 * frame arrives, and a received message holds its text, parse and decoded bytes (about four times its
 * size) while it waits: eight clients each sending a 40 MB base64 `image.put` at the same time took the
 * engine to 1.7-1.9 GB. A message that grows past LARGE_MESSAGE_BYTES needs one of `slots` to be read on,
 * and keeps it until it is handled; without one its socket stays unread (the sender waits, as behind any
 * slow reader) until a slot is free, in the order they asked.
 */
export class MessageSlots<Message> {
  private readonly holders = new Set<Message>();
  private readonly waiting = new Map<Message, () => void>();

  constructor(private readonly slots: number) {}

  /** Large messages holding a slot now. */
  get held(): number {
    return this.holders.size;
  }

  /** Takes a slot for `message` when one is free (true); else queues it (false), and `granted` is called when a slot becomes its. */
  acquire(message: Message, granted: () => void): boolean {
    if (this.holders.has(message)) return true;
    if (this.holders.size < this.slots && this.waiting.size === 0) {
      this.holders.add(message);
      return true;
    }
    this.waiting.set(message, granted);
    return false;
  }

  /** `message` was handled (or its sender left): its slot, or its place in the queue, goes to the next in line. */
  release(message: Message): void {
    this.waiting.delete(message);
    if (!this.holders.delete(message)) return;
    while (this.holders.size < this.slots && this.waiting.size > 0) {
      const [next, granted] = this.waiting.entries().next().value as [Message, () => void];
      this.waiting.delete(next);
      this.holders.add(next);
      granted();
    }
  }
}
