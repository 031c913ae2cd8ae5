/**
 * What the panel undoes: the active document's canvas, its active layer or its selection, read from
 * Photoshop (modal only while reading) and uploaded to the engine once per source state, at the output
 * size the user picked. The slider, imports and exports all work on that one upload, so the engine
 * plans it once and the slider shows exactly what an import brings in: the slider asks for its frames
 * at its display size (only those pixels are rendered), imports and exports at full size.
 */
import { DEFAULT_PREVIEW_SIZE, EngineError } from '../../../engine/src/client/index.js';
import { HostError, rectHeight, rectWidth, type Rect, type SourceKind } from '../host/types.js';
import type { SourceRegion } from '../model/import-plan.js';
import { encodePng } from '../model/pixels.js';
import type { PanelContext } from './context.js';

/** Long side the slider's frames are shown at when the panel cannot measure its preview area. */
export const PREVIEW_SIZE = DEFAULT_PREVIEW_SIZE;
export const OUTPUT_SIZES = [1024, 2048, 4096] as const;

export interface Upload {
  /** Document, history state, source, layer and size: the same key is the same pixels. */
  readonly key: string;
  /** The engine's image id. */
  readonly image: string;
  readonly region: SourceRegion;
}

export class SourcePart {
  private current: Upload | undefined;

  /**
   * `onChange`: the source's pixels changed (document, history state, active layer or source kind): the
   * slider's frames are stale and its current step is asked for again. `onFramesStale`: the slider, asking
   * for a frame, found them changed: its cached frames are stale, the frame it asks for is not.
   */
  constructor(
    private readonly ctx: PanelContext,
    private readonly onChange: () => void = () => undefined,
    private readonly onFramesStale: () => void = () => undefined,
  ) {}

  async refreshDocument(): Promise<void> {
    const document = await this.ctx.host.activeDocument();
    const previous = this.ctx.state.document;
    // With the active layer as the source, selecting another layer is another source.
    const layerChanged = this.ctx.state.source === 'layer' && document?.activeLayer?.id !== previous?.activeLayer?.id;
    const changed = document?.id !== previous?.id || document?.activeHistoryId !== previous?.activeHistoryId || layerChanged;
    this.ctx.store.update({ document });
    if (changed) this.invalidate();
  }

  setSource(source: SourceKind): void {
    if (source === this.ctx.state.source) return;
    this.ctx.store.update({ source });
    this.invalidate();
  }

  /** Another output size is another image for the engine: the slider's frames are made afresh from it. */
  setOutputSize(size: number): void {
    if (size === this.ctx.state.outputSize) return;
    this.ctx.store.update({ outputSize: size });
    this.invalidate();
  }

  /** Forgets the upload (e.g. after a reconnect: image ids may not survive on another engine). */
  dropUploads(): void {
    this.current = undefined;
  }

  private invalidate(): void {
    this.dropUploads();
    this.ctx.store.update({ sourceNotice: undefined });
    this.onChange();
  }

  /**
   * Reads the source from Photoshop (modal only while reading) and uploads it, once per source state.
   * An action that finds the document changed makes the slider's frames stale; the slider itself
   * (`forSlider`) is already asking for the current state.
   */
  async upload(signal: AbortSignal | undefined, forSlider = false): Promise<Upload> {
    const { ctx } = this;
    const doc = await ctx.host.activeDocument();
    if (!doc) throw new HostError('NO_DOCUMENT', 'No document is open; open an image in Photoshop first.');
    const source = ctx.state.source;
    const layer = doc.activeLayer;
    if (doc.id !== ctx.state.document?.id || doc.activeHistoryId !== ctx.state.document?.activeHistoryId || (source === 'layer' && layer?.id !== ctx.state.document?.activeLayer?.id)) {
      ctx.store.update({ document: doc });
      if (forSlider) {
        this.dropUploads();
        this.onFramesStale();
      } else {
        this.invalidate();
      }
    }
    if (source === 'layer' && !layer) throw new HostError('NO_LAYER', 'Select exactly one layer in the Layers panel to undo it alone.');
    // Never more than the engine keeps: it would downscale a bigger canvas on the way in, and Photoshop
    // reads a smaller one faster (and as raw pixels it is more likely to fit the upload limit).
    const working = ctx.client.info?.limits.workingLongSide;
    const asked = ctx.state.outputSize > 0 ? ctx.state.outputSize : undefined;
    const maxSize = asked !== undefined && working !== undefined ? Math.min(asked, working) : (asked ?? working);
    const key = [doc.id, doc.activeHistoryId, source, source === 'layer' ? layer?.id : '', maxSize ?? 'full'].join('/');
    if (this.current?.key === key) return this.current;
    const read = await ctx.host.readPixels(
      { documentId: doc.id, source, ...(source === 'layer' && layer ? { layerId: layer.id } : {}), ...(maxSize ? { maxSize } : {}) },
      signal,
    );
    if (signal?.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
    // Raw pixels when they fit the engine's upload limit: encoding a 4096 px canvas as PNG here takes seconds.
    const pixels = read.pixels;
    const limit = ctx.client.info?.limits.maxUploadBytes ?? 0;
    let put;
    try {
      put = pixels.data.length <= limit ? await ctx.client.putPixels(pixels) : await ctx.client.putImage(encodePng(pixels));
    } catch (error) {
      throw source === 'layer' && layer ? layerTooSmall(error, layer.name, read.bounds) : error;
    }
    // What the engine changed on the way in (a canvas over its working size is reduced), under the document line.
    ctx.store.update({ sourceNotice: put.notices.length > 0 ? put.notices.join(' ') : undefined });
    const region: SourceRegion = {
      documentId: doc.id,
      documentTitle: doc.title,
      source,
      ...(source === 'layer' && layer ? { layerId: layer.id, layerName: layer.name } : {}),
      bounds: read.bounds,
    };
    const upload: Upload = { key, image: put.image, region };
    this.current = upload;
    return upload;
  }
}

/**
 * A layer's pixels too small for the engine: the engine's own advice (use the full-size artwork) does
 * not fit a layer, whose content is what it is; the fix is another layer or the whole canvas.
 */
function layerTooSmall(error: unknown, layerName: string, bounds: Rect): unknown {
  if (!(error instanceof EngineError) || error.code !== 'INPUT_TOO_SMALL') return error;
  const minSide = typeof error.details?.['minSide'] === 'number' ? ` (the engine needs at least ${error.details['minSide']} px on each side)` : '';
  return new EngineError(
    'INPUT_TOO_SMALL',
    `The layer “${layerName}” has pixels in only ${rectWidth(bounds)}x${rectHeight(bounds)} px of the canvas, too small or too thin to undo alone${minSide}.`,
    { rpcCode: error.rpcCode, hint: 'Choose Canvas as the source, or select a layer with more content.' },
  );
}
