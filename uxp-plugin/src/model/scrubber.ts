/**
 * Slider scrubbing: debounced, superseded, cached.
 *
 * - A step already in the cache is shown at once and cancels any pending request.
 * - Otherwise the request waits `debounceMs` (a drag produces dozens of input events per second); a newer
 *   step restarts the wait. When it fires, any older request in flight is aborted (the engine also
 *   supersedes it: frame jobs carry the same `slider` name).
 * - A response that is not for the latest request is cached but never shown (stale responses are ignored,
 *   so the preview never jumps back to an older step).
 */
export interface ScrubberTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ScrubberOptions<F> {
  readonly fetchFrame: (step: number, signal: AbortSignal) => Promise<F>;
  readonly onFrame: (step: number, frame: F, cached: boolean) => void;
  readonly onError: (step: number, error: unknown) => void;
  readonly onPending?: (pending: boolean) => void;
  /** A frame left the cache (e.g. to revoke its object URL). */
  readonly onEvict?: (frame: F) => void;
  readonly debounceMs?: number;
  /** Frames kept (least recently used dropped first). */
  readonly cacheSize?: number;
  readonly timers?: ScrubberTimers;
}

export interface ScrubberStats {
  requested: number;
  fetched: number;
  cacheHits: number;
  staleIgnored: number;
}

const defaultTimers: ScrubberTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as Parameters<typeof clearTimeout>[0]),
};

export class Scrubber<F> {
  private readonly options: ScrubberOptions<F>;
  private readonly cache = new Map<number, F>();
  private timer: unknown;
  private seq = 0;
  private inflight: AbortController | undefined;
  private latest: number | undefined;
  readonly stats: ScrubberStats = { requested: 0, fetched: 0, cacheHits: 0, staleIgnored: 0 };

  constructor(options: ScrubberOptions<F>) {
    this.options = options;
  }

  get latestStep(): number | undefined {
    return this.latest;
  }

  has(step: number): boolean {
    return this.cache.has(step);
  }

  request(step: number): void {
    this.stats.requested++;
    this.latest = step;
    const seq = ++this.seq;
    this.clearTimer();
    const hit = this.cache.get(step);
    if (hit !== undefined) {
      this.touch(step, hit);
      this.stats.cacheHits++;
      this.inflight?.abort();
      this.inflight = undefined;
      this.options.onPending?.(false);
      this.options.onFrame(step, hit, true);
      return;
    }
    this.options.onPending?.(true);
    this.timer = (this.options.timers ?? defaultTimers).set(() => {
      this.timer = undefined;
      void this.fetch(step, seq);
    }, this.options.debounceMs ?? 60);
  }

  /** Forgets every frame (new source image, backend or seed) and drops what is pending. */
  reset(): void {
    this.seq++;
    this.clearTimer();
    this.inflight?.abort();
    this.inflight = undefined;
    for (const f of this.cache.values()) this.options.onEvict?.(f);
    this.cache.clear();
    this.latest = undefined;
    this.options.onPending?.(false);
  }

  /**
   * Forgets every cached frame (they show a source that has changed) but lets the pending request go on:
   * the fetch that noticed the change is already making its frame from the new source.
   */
  forgetFrames(): void {
    for (const f of this.cache.values()) this.options.onEvict?.(f);
    this.cache.clear();
  }

  private async fetch(step: number, seq: number): Promise<void> {
    this.inflight?.abort();
    const controller = new AbortController();
    this.inflight = controller;
    try {
      const frame = await this.options.fetchFrame(step, controller.signal);
      this.stats.fetched++;
      this.touch(step, frame);
      if (seq !== this.seq) {
        this.stats.staleIgnored++;
        return;
      }
      this.options.onPending?.(false);
      this.options.onFrame(step, frame, false);
    } catch (error) {
      if (seq !== this.seq || controller.signal.aborted) {
        this.stats.staleIgnored++;
        return;
      }
      this.options.onPending?.(false);
      this.options.onError(step, error);
    } finally {
      if (this.inflight === controller) this.inflight = undefined;
    }
  }

  private touch(step: number, frame: F): void {
    this.cache.delete(step);
    this.cache.set(step, frame);
    const max = this.options.cacheSize ?? 64;
    while (this.cache.size > max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      const frame = this.cache.get(oldest);
      this.cache.delete(oldest);
      if (frame !== undefined) this.options.onEvict?.(frame);
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) (this.options.timers ?? defaultTimers).clear(this.timer);
    this.timer = undefined;
  }
}
