/**
 * The thread that makes layer contents ahead (started by contents-ahead.ts): it produces each layer asked
 * for, in the order asked, and posts its pixels on the channel it was given (the buffer transferred, not
 * copied), bumping the shared counter so that a thread blocked waiting for one wakes up.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { renderContent, type LayerContent } from '../../core/content.js';
import type { RgbImage } from '../../core/image.js';
// Registers the classic backend's producers in this thread (the core's own are registered with content.js).
import './content.js';

/** What contents-ahead.ts sends: the layers to make, in order, and their target. */
export interface ContentsWork {
  readonly layers: readonly { readonly index: number; readonly content: LayerContent }[];
  readonly art: RgbImage;
  readonly scale: number;
}

/** One layer made (its pixels, RGBA at the art's size) or failed (why; the renderer makes it itself). */
export type ContentMade = { readonly index: number; readonly data: Uint8Array } | { readonly index: number; readonly error: string };

interface ThreadData {
  readonly port: MessagePort;
  /** Int32Array(1) over it: layers posted so far. */
  readonly posted: SharedArrayBuffer;
}

const { port, posted } = workerData as ThreadData;
const count = new Int32Array(posted);

function post(made: ContentMade, transfer: ArrayBuffer[] = []): void {
  port.postMessage(made, transfer);
  Atomics.add(count, 0, 1);
  Atomics.notify(count, 0);
}

port.on('message', (work: ContentsWork) => {
  for (const { index, content } of work.layers) {
    try {
      const { data } = renderContent(content, { art: work.art, scale: work.scale });
      // A buffer of its own moves without a copy; a view into a larger one (or shared memory) is copied.
      const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
      const pixels = own ? data : data.slice();
      post({ index, data: pixels }, [pixels.buffer as ArrayBuffer]);
    } catch (error) {
      post({ index, error: error instanceof Error ? error.message : String(error) });
    }
  }
});
