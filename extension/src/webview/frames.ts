/**
 * Undo frames for the timeline editor: asked of the host through WebviewRpc at the preview's display
 * size (only those pixels are rendered), only the newest answer shown (older slider requests are
 * superseded in the engine and come back CANCELLED), and every frame seen kept as a blob: URL (the
 * oldest revoked past a limit) so it shows at once next time.
 */
import { previewFrameSize } from '../../../engine/src/client/display.js';
import { RequestError, type WebviewRpc } from '../core/rpc.js';

const CACHE_LIMIT = 160;

/** What a frame depends on besides its step. */
export interface FrameSettings {
  readonly backend: string;
  readonly seed: number;
}

export class Frames {
  private readonly urls = new Map<string, string>();
  private latestRequest = 0;

  /**
   * `setBusy` shows or hides the "rendering…" badge; `displaySize` measures the preview's long side in
   * device pixels (0 when unknown).
   */
  constructor(
    private readonly rpc: WebviewRpc,
    private readonly setBusy: (busy: boolean) => void,
    private readonly displaySize: () => number = () => 0,
    private readonly limit = CACHE_LIMIT,
  ) {}

  /** The frame's URL when it was seen before (at the current display size). */
  cached(step: number, s: FrameSettings): string | undefined {
    return this.urls.get(key(step, s, this.size()));
  }

  private size(): number {
    return previewFrameSize(this.displaySize());
  }

  /** The frame's URL, or undefined when a newer request superseded this one (nothing to show then). */
  async fetch(step: number, s: FrameSettings): Promise<string | undefined> {
    const hit = this.cached(step, s);
    if (hit) return hit;
    const size = this.size();
    const request = this.rpc.request({ type: 'frame', step, seed: s.seed, backend: s.backend, size });
    this.latestRequest = request.requestId;
    this.setBusy(true);
    try {
      const frame = await request.result;
      const url = this.remember(key(frame.step, s, size), frame.png);
      return request.requestId === this.latestRequest ? url : undefined;
    } catch (error) {
      // A superseded slider request: a newer one is on its way, nothing to show or report.
      if (error instanceof RequestError && error.code === 'CANCELLED') return undefined;
      if (request.requestId === this.latestRequest) {
        this.setBusy(false);
        throw error;
      }
      return undefined;
    }
  }

  /** Forgets every frame (the image changed): the next ones are asked for again. */
  clear(): void {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }

  private remember(k: string, png: Uint8Array<ArrayBuffer>): string {
    const url = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
    this.urls.set(k, url);
    if (this.urls.size > this.limit) {
      const oldest = this.urls.keys().next().value;
      if (oldest !== undefined) {
        URL.revokeObjectURL(this.urls.get(oldest) ?? '');
        this.urls.delete(oldest);
      }
    }
    return url;
  }
}

function key(step: number, s: FrameSettings, size: number): string {
  return `${s.backend}:${s.seed}:${size}:${step}`;
}
