/**
 * Backpressure on what one client sends. Messages are handled concurrently, so a client that sends large
 * ones (base64 `image.put`) faster than they are handled would make the engine hold all of them at once:
 * a tool that pipelines a folder of canvases holds each message, its parsed text and its decoded bytes
 * (about four times the message) while the uploads wait their turn. Once more than `limitBytes` of one
 * client's messages are being handled, its carrier stops reading (the WebSocket or stdin stays unread,
 * so the sender waits) until they fall back under the limit. Small messages never reach it; a large one
 * is always read, then holds back what follows it.
 */
export const CLIENT_READ_LIMIT_BYTES = 8 * 1024 * 1024;

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
