/**
 * The undo slider: the step the user looks at and the frame the engine renders for it, through a
 * Scrubber (debounced, superseded, cached), from the same upload imports use, at the display size of the
 * preview: on a 4096 px canvas only the pixels shown are rendered. Backend and seed decide what every
 * frame looks like, so changing either starts the frames afresh.
 */
import { EngineError, previewFrameSize } from '../../../engine/src/client/index.js';
import { MAX_STEP } from '../../../engine/src/core/steps.js';
import { bytesToBase64 } from '../model/pixels.js';
import { Scrubber } from '../model/scrubber.js';
import type { PanelContext } from './context.js';
import type { PanelState } from './state.js';
import { PREVIEW_SIZE, type SourcePart } from './source.js';

export interface ScrubOptions {
  readonly debounceMs?: number;
  /**
   * Turns encoded image bytes into an <img> src. Default: a data URL. UXP passes ImageBlob +
   * URL.createObjectURL (its image elements do not take every data URL); `revokeImageUrl` frees them.
   */
  readonly imageUrl?: (bytes: Uint8Array, mime: string) => string;
  readonly revokeImageUrl?: (url: string) => void;
  /** Long side in device pixels the preview shows frames at (measured by the view); default PREVIEW_SIZE. */
  readonly displaySize?: () => number;
}

export class ScrubPart {
  private readonly scrubber: Scrubber<string>;
  private readonly imageUrl: (bytes: Uint8Array, mime: string) => string;
  private readonly displaySize: () => number;
  /** The message a failed slider frame showed, cleared by the next frame unless something else replaced it. */
  private sliderError: PanelState['message'];

  constructor(
    private readonly ctx: PanelContext,
    private readonly source: SourcePart,
    options: ScrubOptions = {},
  ) {
    this.imageUrl = options.imageUrl ?? ((bytes, mime) => `data:${mime};base64,${bytesToBase64(bytes)}`);
    this.displaySize = options.displaySize ?? (() => PREVIEW_SIZE);
    const store = ctx.store;
    this.scrubber = new Scrubber<string>({
      debounceMs: options.debounceMs ?? 60,
      cacheSize: 96,
      fetchFrame: (step, signal) => this.fetchPreview(step, signal),
      // A frame clears what a failed frame said (the engine was restarting, say): the slider works again.
      onFrame: (step, url, cached) => store.update({ preview: { step, url, cached }, ...(this.sliderError !== undefined && store.state.message === this.sliderError ? { message: undefined } : {}) }),
      onError: (_step, error) => {
        store.fail(error);
        this.sliderError = store.state.message;
      },
      onPending: (pending) => store.update({ previewPending: pending }),
      onEvict: (url) => options.revokeImageUrl?.(url),
    });
  }

  get stats(): Scrubber<string>['stats'] {
    return this.scrubber.stats;
  }

  /** Slider, numeric field and arrow keys all end here. */
  setStep(step: number): void {
    // An emptied or garbled field keeps the step shown (the field shows it again once it loses focus).
    if (!Number.isFinite(step)) return;
    const s = Math.max(0, Math.min(MAX_STEP, Math.round(step)));
    this.ctx.store.update({ step: s });
    if (this.ctx.state.connection !== 'connected' || !this.ctx.state.document) return;
    this.scrubber.request(s);
  }

  nudge(delta: number): void {
    this.setStep(this.ctx.state.step + delta);
  }

  setBackend(id: string): void {
    if (!this.ctx.state.backends.some((b) => b.id === id) || id === this.ctx.state.backend) return;
    this.ctx.store.update({ backend: id });
    this.resetFrames();
  }

  setSeed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff || seed === this.ctx.state.seed) return;
    this.ctx.store.update({ seed });
    this.resetFrames();
  }

  /** A different but equally plausible drawing order. */
  newVariation(): void {
    this.setSeed((this.ctx.state.seed * 1103515245 + 12345) % 0x7fffffff);
  }

  /** Asks for the current step's frame when a document is open (e.g. once the engine answers). */
  requestCurrent(): void {
    if (this.ctx.state.document) this.scrubber.request(this.ctx.state.step);
  }

  /** Drops every frame (the source, backend or seed changed) and asks for the current one again. */
  resetFrames(): void {
    this.scrubber.reset();
    this.ctx.store.update({ preview: undefined });
    if (this.ctx.state.connection === 'connected' && this.ctx.state.document) this.scrubber.request(this.ctx.state.step);
  }

  /** Forgets the cached frames (the source changed under them); the frame being fetched is of the new source. */
  forgetFrames(): void {
    this.scrubber.forgetFrames();
  }

  dispose(): void {
    this.scrubber.reset();
  }

  private async fetchPreview(step: number, signal: AbortSignal): Promise<string> {
    const { client, state } = this.ctx;
    const upload = await this.source.upload(signal, true);
    const size = previewFrameSize(this.displaySize());
    const handle = await client.submit('frame', { image: upload.image, step, backend: state.backend, seed: state.seed, size, slider: 'main' });
    const onAbort = (): void => void handle.cancel().catch(() => undefined);
    signal.addEventListener('abort', onAbort);
    try {
      const job = await handle.done;
      const file = job.result?.files[0];
      if (!file) throw new EngineError('INTERNAL', 'The engine finished without a frame file.');
      const bytes = await client.download(file);
      return this.imageUrl(bytes, file.mime);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
