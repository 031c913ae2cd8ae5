/**
 * What the panel undoes: the active document's canvas, its active layer or its selection, read from
 * Photoshop (modal only while reading) and uploaded to the engine once per source state. The slider works
 * on a preview-sized upload; imports and exports on one at the output size the user picked.
 */
import { HostError, type SourceKind } from '../host/types.js';
import type { SourceRegion } from '../model/import-plan.js';
import { encodePng } from '../model/pixels.js';
import type { PanelContext } from './context.js';

/** Long side of the image the slider works on: big enough to judge, small enough to stay instant. */
export const PREVIEW_SIZE = 768;
export const OUTPUT_SIZES = [1024, 2048, 4096] as const;

export interface Upload {
  /** Document, history state, source, layer and size: the same key is the same pixels. */
  readonly key: string;
  /** The engine's image id. */
  readonly image: string;
  readonly region: SourceRegion;
}

export class SourcePart {
  private previewUpload: Upload | undefined;
  private outputUpload: Upload | undefined;

  /** `onChange`: the source's pixels changed (document, history state or source kind): frames are stale. */
  constructor(
    private readonly ctx: PanelContext,
    private readonly onChange: () => void = () => undefined,
  ) {}

  async refreshDocument(): Promise<void> {
    const document = await this.ctx.host.activeDocument();
    const previous = this.ctx.state.document;
    const changed = document?.id !== previous?.id || document?.activeHistoryId !== previous?.activeHistoryId;
    this.ctx.store.update({ document });
    if (changed) this.invalidate();
  }

  setSource(source: SourceKind): void {
    if (source === this.ctx.state.source) return;
    this.ctx.store.update({ source });
    this.invalidate();
  }

  setOutputSize(size: number): void {
    this.ctx.store.update({ outputSize: size });
    this.outputUpload = undefined;
  }

  /** Forgets the uploads (e.g. after a reconnect: image ids may not survive on another engine). */
  dropUploads(): void {
    this.previewUpload = undefined;
    this.outputUpload = undefined;
  }

  private invalidate(): void {
    this.dropUploads();
    this.onChange();
  }

  /** Reads the source from Photoshop (modal only while reading) and uploads it, once per source state. */
  async upload(kind: 'preview' | 'output', signal: AbortSignal | undefined): Promise<Upload> {
    const { ctx } = this;
    const doc = await ctx.host.activeDocument();
    if (!doc) throw new HostError('NO_DOCUMENT', 'No document is open; open an image in Photoshop first.');
    if (doc.id !== ctx.state.document?.id || doc.activeHistoryId !== ctx.state.document?.activeHistoryId) {
      ctx.store.update({ document: doc });
      if (kind === 'output') this.invalidate();
    }
    const source = ctx.state.source;
    const layer = doc.activeLayer;
    if (source === 'layer' && !layer) throw new HostError('NO_LAYER', 'Select exactly one layer in the Layers panel to undo it alone.');
    const maxSize = kind === 'preview' ? PREVIEW_SIZE : ctx.state.outputSize > 0 ? ctx.state.outputSize : undefined;
    const key = [doc.id, doc.activeHistoryId, source, source === 'layer' ? layer?.id : '', maxSize ?? 'full'].join('/');
    const cached = kind === 'preview' ? this.previewUpload : this.outputUpload;
    if (cached?.key === key) return cached;
    if (kind === 'output' && this.previewUpload?.key === key) return this.previewUpload;
    const read = await ctx.host.readPixels(
      { documentId: doc.id, source, ...(source === 'layer' && layer ? { layerId: layer.id } : {}), ...(maxSize ? { maxSize } : {}) },
      signal,
    );
    if (signal?.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
    const put = await ctx.client.putImage(encodePng(read.pixels));
    const region: SourceRegion = {
      documentId: doc.id,
      documentTitle: doc.title,
      source,
      ...(source === 'layer' && layer ? { layerId: layer.id, layerName: layer.name } : {}),
      bounds: read.bounds,
    };
    const upload: Upload = { key, image: put.image, region };
    if (kind === 'preview') this.previewUpload = upload;
    else this.outputUpload = upload;
    return upload;
  }
}
