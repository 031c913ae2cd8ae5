/**
 * PhotoshopHost on the real UXP modules (passed in, so the same code runs against the typed fake in tests).
 *
 * Traps this file exists to get right (from other Photoshop AI plugins' bug trackers):
 * - the modal state is held only while pixels are read or written, never while the engine computes, and a
 *   busy modal state (another plugin, an open dialog) is waited for politely, then reported;
 * - getPixels returns 3 or 4 components depending on alpha and trims `sourceBounds` to content: the
 *   returned bounds are used, and when Photoshop answers from a pyramid level they are scaled back up;
 * - pixels are always requested as 8-bit sRGB so CMYK, Lab, greyscale and 16/32-bit documents read right;
 * - 16-bit targets get values scaled to Photoshop's 0..32768 range on putPixels;
 * - frames are written with putPixels at exact target bounds, never placed as files (placeEvent rescales
 *   by PPI and a user preference);
 * - every import is one suspended history state, committed on success and dropped on error or cancel;
 * - every PhotoshopImageData is disposed.
 * The modal wait is in ps-modal.ts, pixel conversions in ps-pixels.ts, reading the document model in
 * ps-document.ts.
 */
import type { PhotoshopModules, PsDocument, PsExecutionContext, PsLayer, UxpFileEntry, UxpModules } from './ps-api.js';
import { BITS, MODES, boundsOfLayer, findLayer, isEmpty, layerInfo, toRect } from './ps-document.js';
import { checkCancel, executeAsModalPolitely, throwIfAborted, type ModalWaitOptions } from './ps-modal.js';
import { SRGB, checkPixels, readImageData, to16 } from './ps-pixels.js';
import { resize } from '../model/pixels.js';
import { importRefusal } from '../model/import-plan.js';
import {
  HostError,
  rectHeight,
  rectWidth,
  type DocumentInfo,
  type HistoryFrame,
  type ImportPlan,
  type ImportResult,
  type PhotoshopHost,
  type Pixels,
  type ProgressReport,
  type ReadRequest,
  type ReadResult,
  type Rect,
  type SaveTarget,
} from './types.js';

export type PhotoshopHostOptions = ModalWaitOptions;

export class UxpPhotoshopHost implements PhotoshopHost {
  private readonly ps: PhotoshopModules;
  private readonly uxp: UxpModules;
  private readonly options: PhotoshopHostOptions;

  constructor(ps: PhotoshopModules, uxp: UxpModules, options: PhotoshopHostOptions = {}) {
    this.ps = ps;
    this.uxp = uxp;
    this.options = options;
  }

  async activeDocument(): Promise<DocumentInfo | undefined> {
    const doc = this.ps.app.activeDocument;
    if (!doc) return undefined;
    const active = doc.activeLayers.length === 1 ? doc.activeLayers[0] : undefined;
    const history = Array.from({ length: doc.historyStates.length }, (_, i) => doc.historyStates[i]).filter(
      (s): s is NonNullable<typeof s> => s !== undefined,
    );
    return {
      id: doc.id,
      title: doc.title,
      width: doc.width,
      height: doc.height,
      mode: MODES[String(doc.mode)] ?? 'multichannel',
      bitsPerChannel: BITS[String(doc.bitsPerChannel)] ?? 8,
      activeLayer: active ? layerInfo(active) : undefined,
      history: history.map((s) => ({ id: s.id, name: s.name, snapshot: s.snapshot })),
      activeHistoryId: doc.activeHistoryState?.id,
    };
  }

  async selectionBounds(documentId: number): Promise<Rect | undefined> {
    this.documentById(documentId);
    return this.modal('Read selection', async () => this.readSelectionBounds(documentId));
  }

  async readPixels(request: ReadRequest, signal?: AbortSignal): Promise<ReadResult> {
    const doc = this.documentById(request.documentId);
    throwIfAborted(signal);
    let layerId: number | undefined;
    let area: Rect | undefined;
    if (request.source === 'layer') {
      if (request.layerId === undefined) throw new HostError('NO_LAYER', 'Choose a layer (make one layer active) to undo it alone.');
      const layer = findLayer(doc, request.layerId);
      if (!layer) throw new HostError('NO_LAYER', `Layer ${request.layerId} no longer exists; select a layer and try again.`);
      if (layer.kind === 'group') throw new HostError('EMPTY_SOURCE', `"${layer.name}" is a group; select a pixel layer inside it, or use the whole document.`);
      if (isEmpty(layer.boundsNoEffects)) throw new HostError('EMPTY_SOURCE', `Layer "${layer.name}" is empty; paint on it or pick another layer.`);
      layerId = layer.id;
    }
    return this.modal('Read pixels for PaintsUndo', async (context) => {
      if (request.source === 'selection') {
        area = await this.readSelectionBounds(doc.id);
        if (!area) throw new HostError('NO_SELECTION', 'Nothing is selected; make a selection or choose the whole document as the source.');
      }
      checkCancel(context, signal);
      return this.getPixels(doc, { layerId, area, maxSize: request.maxSize });
    });
  }

  async importLayers(plan: ImportPlan, signal?: AbortSignal, onProgress?: (p: ProgressReport) => void): Promise<ImportResult> {
    const doc = this.documentById(plan.documentId);
    const bits = BITS[String(doc.bitsPerChannel)] ?? 8;
    const refusal = importRefusal(MODES[String(doc.mode)] ?? String(doc.mode), bits);
    if (refusal) throw new HostError('UNSUPPORTED_MODE', refusal);
    if (plan.placement.kind === 'above' && !findLayer(doc, plan.placement.layerId)) {
      throw new HostError('NO_LAYER', `Layer ${plan.placement.layerId} no longer exists; select the source layer again.`);
    }
    throwIfAborted(signal);

    return this.modal(plan.historyName, async (context) => {
      const suspension = await context.hostControl.suspendHistory({ documentID: doc.id, name: plan.historyName });
      try {
        const created: PsLayer[] = [];
        // createPixelLayer puts each new layer above the active one (the previous new layer), so creating
        // bottom-up leaves the stack in plan order.
        const bottomUp = [...plan.layers].reverse();
        for (let i = 0; i < bottomUp.length; i++) {
          checkCancel(context, signal);
          const spec = bottomUp[i];
          if (!spec) continue;
          const layer = await doc.createPixelLayer({ name: spec.name });
          if (!layer) throw new HostError('HOST_FAILED', `Photoshop did not create layer "${spec.name}"; check that the document is not locked.`);
          created.unshift(layer);
          const pixels = spec.pixels();
          checkPixels(pixels, `layer "${spec.name}"`);
          await this.putPixels(doc, layer, pixels, spec.bounds, bits);
          layer.visible = spec.visible;
          if (spec.blendMode !== undefined) layer.blendMode = spec.blendMode;
          const like = spec.styleOf === undefined ? undefined : findLayer(doc, spec.styleOf);
          if (like && like.kind !== 'group') {
            layer.opacity = like.opacity;
            layer.blendMode = like.blendMode;
          }
          const fraction = (i + 1) / bottomUp.length;
          context.reportProgress({ value: fraction });
          onProgress?.({ fraction, message: `Layer ${i + 1} of ${bottomUp.length}` });
        }
        checkCancel(context, signal);
        let group: PsLayer | undefined;
        if (plan.groupName !== undefined) {
          group = (await doc.createLayerGroup({ name: plan.groupName, fromLayers: created })) ?? undefined;
          if (!group) throw new HostError('HOST_FAILED', `Photoshop did not create the group "${plan.groupName}".`);
        }
        const moved = group ? [group] : created;
        if (plan.placement.kind === 'above') {
          const anchor = findLayer(doc, plan.placement.layerId);
          if (!anchor) throw new HostError('NO_LAYER', `Layer ${plan.placement.layerId} disappeared during the import.`);
          // Top-first, each placed directly above the anchor: the first ends up highest.
          for (const layer of moved) layer.move(anchor, 'placeBefore');
        } else {
          const top = doc.layers[0];
          const first = moved[0];
          if (top && first && top.id !== first.id) {
            for (const layer of [...moved].reverse()) {
              const currentTop = doc.layers[0];
              if (currentTop && currentTop.id !== layer.id) layer.move(currentTop, 'placeBefore');
            }
          }
        }
        checkCancel(context, signal);
        await context.hostControl.resumeHistory(suspension, true);
        return { layerIds: created.map((l) => l.id), groupId: group?.id };
      } catch (error) {
        // Drop everything done since suspendHistory: nothing half-imported stays in the document.
        await context.hostControl.resumeHistory(suspension, false);
        throw error;
      }
    });
  }

  async readHistory(
    documentId: number,
    stateIds: readonly number[],
    maxSize: number,
    signal?: AbortSignal,
    onProgress?: (p: ProgressReport) => void,
  ): Promise<HistoryFrame[]> {
    const doc = this.documentById(documentId);
    return this.modal('Read history for PaintsUndo', async (context) => {
      const original = doc.activeHistoryState;
      const frames: HistoryFrame[] = [];
      try {
        for (let i = 0; i < stateIds.length; i++) {
          checkCancel(context, signal);
          const id = stateIds[i];
          const state = Array.from({ length: doc.historyStates.length }, (_, k) => doc.historyStates[k]).find((s) => s?.id === id);
          if (!state) throw new HostError('HOST_FAILED', `History state ${String(id)} is gone (history is limited by Preferences > Performance > History States).`);
          doc.activeHistoryState = state;
          const { pixels } = await this.getPixels(doc, { layerId: undefined, area: undefined, maxSize });
          frames.push({ stateId: state.id, name: state.name, pixels });
          const fraction = (i + 1) / stateIds.length;
          context.reportProgress({ value: fraction });
          onProgress?.({ fraction, message: `History state ${i + 1} of ${stateIds.length}` });
        }
      } finally {
        // Selecting a past state is harmless until the user edits; put the document back where it was.
        doc.activeHistoryState = original;
      }
      return frames;
    });
  }

  async chooseSaveFile(suggestedName: string, extensions: readonly string[]): Promise<SaveTarget | undefined> {
    let entry: unknown;
    try {
      entry = await this.uxp.storage.localFileSystem.getFileForSaving(safeFileName(suggestedName), { types: [...extensions] });
    } catch (error) {
      throw new HostError('SAVE_FAILED', `The save dialog could not open (${reasonOf(error)}); try again.`);
    }
    if (entry === null || entry === undefined) return undefined;
    if (!isFileEntry(entry)) throw new HostError('HOST_FAILED', 'The save dialog returned something that is not a file; try another folder.');
    const binary = this.uxp.storage.formats.binary;
    const name = entry.name;
    return {
      name,
      write: async (bytes: Uint8Array) => {
        try {
          // UXP writes ArrayBuffers only; slice() gives one that holds exactly these bytes.
          await entry.write(bytes.slice().buffer, { format: binary });
        } catch (error) {
          throw new HostError(
            'SAVE_FAILED',
            `Could not save ${name} (${reasonOf(error)}). Choose another folder, or free some disk space, and export again: the engine keeps the result, so the same export comes back in seconds.`,
          );
        }
      },
    };
  }

  async readSecret(key: string): Promise<string | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.uxp.storage.secureStorage.getItem(key);
    } catch {
      return undefined; // UXP rejects for a missing key.
    }
    if (!bytes || bytes.length === 0) return undefined;
    return decodeAscii(bytes);
  }

  async writeSecret(key: string, value: string): Promise<void> {
    await this.uxp.storage.secureStorage.setItem(key, value);
  }

  async removeSecret(key: string): Promise<void> {
    try {
      await this.uxp.storage.secureStorage.removeItem(key);
    } catch {
      // Removing a key that is not there rejects; the outcome (no key) is what was asked.
    }
  }

  // -------------------------------------------------------------------------------------------

  private documentById(id: number): PsDocument {
    const doc = this.ps.app.activeDocument;
    if (!doc) throw new HostError('NO_DOCUMENT', 'No document is open; open an image in Photoshop first.');
    if (doc.id !== id) throw new HostError('NO_DOCUMENT', 'The active document changed; the panel now follows the new one, try again.');
    return doc;
  }

  private modal<T>(commandName: string, fn: (context: PsExecutionContext) => Promise<T>): Promise<T> {
    return executeAsModalPolitely(this.ps.core, commandName, fn, this.options);
  }

  private async readSelectionBounds(documentId: number): Promise<Rect | undefined> {
    let result;
    try {
      // No targetSize: the returned sourceBounds are then at full resolution, trimmed to the selection.
      result = await this.ps.imaging.getSelection({ documentID: documentId });
    } catch {
      return undefined;
    }
    try {
      const b = result.sourceBounds;
      return isEmpty(b) ? undefined : toRect(b);
    } finally {
      await result.imageData.dispose();
    }
  }

  private async getPixels(
    doc: PsDocument,
    what: { layerId: number | undefined; area: Rect | undefined; maxSize: number | undefined },
  ): Promise<ReadResult> {
    const region = what.area ?? (what.layerId !== undefined ? boundsOfLayer(doc, what.layerId) : { left: 0, top: 0, right: doc.width, bottom: doc.height });
    const w = rectWidth(region);
    const h = rectHeight(region);
    const long = Math.max(w, h);
    const targetSize =
      what.maxSize !== undefined && long > what.maxSize
        ? w >= h
          ? { width: what.maxSize }
          : { height: what.maxSize }
        : undefined;
    const result = await this.ps.imaging.getPixels({
      documentID: doc.id,
      ...(what.layerId !== undefined ? { layerID: what.layerId } : {}),
      ...(what.area ? { sourceBounds: what.area } : {}),
      ...(targetSize ? { targetSize } : {}),
      colorSpace: 'RGB',
      colorProfile: SRGB,
      componentSize: 8,
    });
    try {
      const image = result.imageData;
      const pixels = await readImageData(image);
      // sourceBounds are relative to the pyramid level Photoshop answered from.
      const scale = 2 ** (result.level ?? 0);
      const b = result.sourceBounds;
      const bounds = { left: b.left * scale, top: b.top * scale, right: b.right * scale, bottom: b.bottom * scale };
      if (isEmpty(bounds) || pixels.width === 0 || pixels.height === 0) {
        throw new HostError('EMPTY_SOURCE', 'The source has no visible pixels; choose another layer or the whole document.');
      }
      return { pixels, bounds };
    } finally {
      await result.imageData.dispose();
    }
  }

  private async putPixels(doc: PsDocument, layer: PsLayer, pixels: Pixels, bounds: Rect, bits: 8 | 16 | 32 | 1): Promise<void> {
    const source = pixels.width === rectWidth(bounds) && pixels.height === rectHeight(bounds) ? pixels : resize(pixels, rectWidth(bounds), rectHeight(bounds));
    const buffer = bits === 16 ? to16(source.data) : source.data;
    const imageData = await this.ps.imaging.createImageDataFromBuffer(buffer, {
      width: source.width,
      height: source.height,
      components: source.channels,
      chunky: true,
      colorProfile: SRGB,
      colorSpace: 'RGB',
      ...(bits === 16 ? { fullRange: false } : {}),
    });
    try {
      await this.ps.imaging.putPixels({
        documentID: doc.id,
        layerID: layer.id,
        imageData,
        replace: true,
        targetBounds: { left: bounds.left, top: bounds.top, right: bounds.right, bottom: bounds.bottom },
        commandName: 'PaintsUndo frame',
      });
    } finally {
      await imageData.dispose();
    }
  }
}

function isFileEntry(value: unknown): value is UxpFileEntry {
  return value !== null && typeof value === 'object' && typeof (value as { write?: unknown }).write === 'function' && typeof (value as { name?: unknown }).name === 'string';
}

function decodeAscii(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/**
 * A suggested file name the save dialog takes on every platform: characters that separate folders or are
 * reserved on Windows or macOS (from an unsaved document's title, such as "v1/2: final") become "-".
 */
export function safeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '-').replace(/^[\s.]+|[\s.]+$/g, '');
  return safe === '' ? 'artwork' : safe;
}

/** An error's own words, for a message that adds what to do. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
