/**
 * The small host interface the panel uses to talk to Photoshop. Everything the panel needs from the
 * application goes through here; `photoshop-host.ts` implements it on the UXP `photoshop`/`uxp` modules,
 * and the tests run that same implementation against a typed fake of those modules.
 *
 * Units: every rectangle is in document pixels at full resolution (level 0), `right`/`bottom` exclusive.
 * Pixels crossing this interface are 8-bit sRGB, chunky, straight alpha.
 */

export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

export interface Pixels {
  readonly width: number;
  readonly height: number;
  /** 3 (RGB) or 4 (RGBA): Photoshop returns RGB for sources without transparency. */
  readonly channels: 3 | 4;
  readonly data: Uint8Array;
}

export type ColorMode = 'rgb' | 'cmyk' | 'lab' | 'grayscale' | 'indexed' | 'bitmap' | 'duotone' | 'multichannel';

export interface LayerInfo {
  readonly id: number;
  readonly name: string;
  /** Pixel bounds without effects; empty (zero area) for an empty layer. */
  readonly bounds: Rect;
  readonly kind: 'pixel' | 'group' | 'other';
  readonly visible: boolean;
}

export interface HistoryStateInfo {
  readonly id: number;
  readonly name: string;
  readonly snapshot: boolean;
}

export interface DocumentInfo {
  readonly id: number;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly mode: ColorMode;
  readonly bitsPerChannel: 1 | 8 | 16 | 32;
  readonly activeLayer: LayerInfo | undefined;
  readonly history: readonly HistoryStateInfo[];
  readonly activeHistoryId: number | undefined;
}

export type SourceKind = 'document' | 'layer' | 'selection';

export interface ReadRequest {
  readonly documentId: number;
  readonly source: SourceKind;
  /** Required for source 'layer'. */
  readonly layerId?: number;
  /** Long side of the returned pixels; the source is downscaled to it (never upscaled). Omit for full size. */
  readonly maxSize?: number;
}

export interface ReadResult {
  readonly pixels: Pixels;
  /** Where the pixels sit in the document at full resolution (after Photoshop trimmed to content). */
  readonly bounds: Rect;
}

export interface NewLayer {
  readonly name: string;
  /**
   * Makes the layer's pixels (RGBA or RGB) when the host writes this layer, not before: an import of six
   * keyframes into a 6000x4000 canvas then holds one full-size buffer at a time, not six. Scaled to
   * `bounds` by the host only if sizes differ (they normally match).
   */
  readonly pixels: () => Pixels;
  /** Document-pixel rectangle the layer content lands on, exactly. */
  readonly bounds: Rect;
  readonly visible: boolean;
  /**
   * A layer whose opacity and blend mode the new layer takes (read when it is written), so that a frame of
   * a layer composites as that layer does: a frame of a 40 % multiply layer is a 40 % multiply layer.
   */
  readonly styleOf?: number;
  /** A blend mode of its own (a Constants.BlendMode value; new layers are normal), for a layer that takes no style from another. */
  readonly blendMode?: 'normal' | 'multiply';
}

export type Placement =
  | { readonly kind: 'top' }
  /** Directly above the given layer (per-layer undo: next to its source). */
  | { readonly kind: 'above'; readonly layerId: number };

export interface ImportPlan {
  readonly documentId: number;
  /** Name of the single history state the whole import becomes (one Ctrl+Z undoes it). */
  readonly historyName: string;
  /** When set, the layers are put in a new group with this name. */
  readonly groupName?: string;
  readonly placement: Placement;
  /** Top of the stack first. */
  readonly layers: readonly NewLayer[];
}

export interface ImportResult {
  readonly layerIds: readonly number[];
  readonly groupId: number | undefined;
}

export interface HistoryFrame {
  readonly stateId: number;
  readonly name: string;
  readonly pixels: Pixels;
}

export interface ProgressReport {
  readonly fraction: number;
  readonly message: string;
}

/** A file the user picked in the save dialog; written once the engine has rendered it. */
export interface SaveTarget {
  readonly name: string;
  write(bytes: Uint8Array): Promise<void>;
}

export interface PhotoshopHost {
  /** The active document, or undefined when none is open. */
  activeDocument(): Promise<DocumentInfo | undefined>;
  /** Bounds of the active selection, or undefined when nothing is selected. Reads inside a modal scope. */
  selectionBounds(documentId: number): Promise<Rect | undefined>;
  /** Reads 8-bit sRGB pixels; holds the modal state only while reading. */
  readPixels(request: ReadRequest, signal?: AbortSignal): Promise<ReadResult>;
  /**
   * Creates the layers of `plan` in ONE modal scope and ONE history state. On error or cancel the history
   * state is dropped, so nothing is half-imported.
   */
  importLayers(plan: ImportPlan, signal?: AbortSignal, onProgress?: (p: ProgressReport) => void): Promise<ImportResult>;
  /**
   * Reads the composite of each listed history state (downscaled to `maxSize`), then makes the state that
   * was active before current again.
   */
  readHistory(
    documentId: number,
    stateIds: readonly number[],
    maxSize: number,
    signal?: AbortSignal,
    onProgress?: (p: ProgressReport) => void,
  ): Promise<HistoryFrame[]>;
  /** Asks the user where to save (before rendering, so a cancelled dialog costs nothing). Undefined when cancelled. */
  chooseSaveFile(suggestedName: string, extensions: readonly string[]): Promise<SaveTarget | undefined>;
  /** Plugin-private secure storage (UXP secureStorage). */
  readSecret(key: string): Promise<string | undefined>;
  writeSecret(key: string, value: string): Promise<void>;
  removeSecret(key: string): Promise<void>;
}

/** Error raised by the host; `code` is stable, `message` says what to do. */
export class HostError extends Error {
  readonly code: HostErrorCode;
  constructor(code: HostErrorCode, message: string) {
    super(message);
    this.name = 'HostError';
    this.code = code;
  }
}

export const HOST_ERROR_CODES = {
  NO_DOCUMENT: 'No document is open.',
  NO_LAYER: 'The layer no longer exists.',
  NO_SELECTION: 'Nothing is selected.',
  EMPTY_SOURCE: 'The source has no pixels.',
  UNSUPPORTED_MODE: 'The document mode cannot be read as RGB.',
  MODAL_BUSY: 'Another plugin or dialog keeps Photoshop busy.',
  CANCELLED: 'Cancelled by the user.',
  HOST_FAILED: 'Photoshop refused the operation.',
  SAVE_FAILED: 'The file could not be saved where the user chose.',
} as const;
export type HostErrorCode = keyof typeof HOST_ERROR_CODES;

export function isHostError(error: unknown, code?: HostErrorCode): error is HostError {
  return error instanceof HostError && (code === undefined || error.code === code);
}

export function rectWidth(r: Rect): number {
  return r.right - r.left;
}

export function rectHeight(r: Rect): number {
  return r.bottom - r.top;
}
