/**
 * Layer contents made ahead on a thread of their own, for a timelapse rendered on this one.
 *
 * A timelapse renders its frames in order on one thread; each layer's pixels at the output size are made
 * when the layer first shows (core/content.ts), and on a 1024x1280 timelapse that is ~480 ms of the frames'
 * time (the line art at frame 9, the shading ~220 ms at frame 62, ...) on the thread every frame waits for.
 * Layer contents are recipes of plain data, so another thread can make them: it is started when the
 * timelapse starts (its modules load while the plan is made), gets the layers in the order they first show
 * once the plan is there, and posts each one's pixels while this thread renders the frames before them.
 * On 2 cores the gain is smaller than the work moved (ffmpeg encodes on the second core meanwhile): render
 * time per frame at 1024x1280 fell from 16.3 to 14.9 ms (benchmark medians).
 *
 * The renderer asks for a layer synchronously, in the middle of a frame (see TimelineRenderer.useContents):
 * `take` reads what has arrived with receiveMessageOnPort, and while the layer is still being made, waits
 * on a shared counter the thread bumps after each one. A layer that failed there, or was never asked for,
 * is made by the renderer itself, as it would be without this.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import type { RgbaImage } from '../../core/image.js';
import type { TimelineRenderer } from '../../core/renderer.js';
import { startModuleWorker } from '../../io/threads.js';
import type { ContentMade, ContentsWork } from './contents-thread.js';

/**
 * Below this many output pixels the layers take ~100-200 ms together, about what starting the thread and
 * loading its modules costs (measured on 2 cores: a 512x640 timelapse was no faster with it).
 */
export const CONTENTS_AHEAD_MIN_PIXELS = 1024 * 1024;
/** How long `take` waits for a layer the thread is making before making it here: far more than any layer takes. */
const TAKE_TIMEOUT_MS = 30_000;

export class ContentsAhead {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly posted: Int32Array;
  /** Layers asked of the thread and not arrived yet. */
  private readonly waiting = new Set<number>();
  /** Layers arrived: their pixels, or undefined where the thread failed. */
  private readonly arrived = new Map<number, Uint8Array | undefined>();
  private width = 0;
  private height = 0;
  private closed = false;

  /** Starts the thread now: it loads its modules meanwhile (the plan is being made). */
  constructor() {
    const { port1, port2 } = new MessageChannel();
    const posted = new SharedArrayBuffer(4);
    this.port = port1;
    this.posted = new Int32Array(posted);
    this.worker = startModuleWorker(import.meta.url, 'contents-thread', { workerData: { port: port2, posted }, transferList: [port2] });
    // A thread that failed to start or died: what it did not make, the renderer makes.
    this.worker.on('error', () => this.close());
    this.worker.unref();
  }

  /**
   * Asks the thread for the layers `renderer` has not made yet, in the order the timeline first changes
   * them (a timelapse drawn from blank needs them in that order), and has the renderer take them from here.
   */
  feed(renderer: TimelineRenderer): void {
    if (this.closed) return;
    const { layers, operations } = renderer.timeline;
    const first = layers.map(() => Number.POSITIVE_INFINITY);
    operations.forEach((op, i) => {
      if ('layer' in op && i < first[op.layer]!) first[op.layer] = i;
    });
    const order = layers.map((_, index) => index).filter((index) => !renderer.hasContent(index)).sort((p, q) => first[p]! - first[q]!);
    if (order.length === 0) return;
    this.width = renderer.width;
    this.height = renderer.height;
    for (const index of order) this.waiting.add(index);
    const work: ContentsWork = { layers: order.map((index) => ({ index, content: layers[index]!.content })), art: renderer.artwork, scale: renderer.outPerPlan };
    this.port.postMessage(work);
    renderer.useContents((index) => this.take(index));
  }

  /** Layer `index`'s pixels from the thread, waiting while it makes them; undefined when it was not asked for or failed. */
  take(index: number): RgbaImage | undefined {
    const deadline = performance.now() + TAKE_TIMEOUT_MS;
    for (;;) {
      const seen = Atomics.load(this.posted, 0);
      this.receive();
      if (this.arrived.has(index)) {
        const data = this.arrived.get(index);
        this.arrived.delete(index);
        return data ? { width: this.width, height: this.height, channels: 4, data } : undefined;
      }
      const left = deadline - performance.now();
      if (this.closed || !this.waiting.has(index) || left <= 0) return undefined;
      Atomics.wait(this.posted, 0, seen, left);
    }
  }

  /** Stops the thread; layers not arrived are made by the renderer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting.clear();
    this.port.close();
    void this.worker.terminate();
  }

  private receive(): void {
    for (let message = receiveMessageOnPort(this.port); message; message = receiveMessageOnPort(this.port)) {
      const made = message.message as ContentMade;
      this.waiting.delete(made.index);
      this.arrived.set(made.index, 'data' in made ? made.data : undefined);
    }
  }
}
