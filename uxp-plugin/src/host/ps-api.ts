/**
 * The slice of the UXP `photoshop` and `uxp` modules the panel uses, as narrow structural types.
 *
 * `uxp-entry.ts` assigns the real `require('photoshop')` / `require('uxp')` to these types, so the UXP
 * tsconfig proves at compile time that the real typings (@types/photoshop, @adobe/cc-ext-uxp-types)
 * satisfy them; the test fake (tests/uxp/fake-photoshop.ts) implements the same types and enforces the
 * documented contracts. Photoshop enums are string enums at run time, so they appear here as their
 * string values.
 *
 * Minimum versions of what is used (Photoshop): imaging.* 24.4 (the maximum, hence manifest minVersion
 * 24.4.0), createPixelLayer 24.1, createLayerGroup 24.2, historyStates 23.3, executeAsModal/hostControl
 * 23.0, Layer.move/visible/name 23.0, activeHistoryState 22.5.
 */
import type { imaging } from 'photoshop';

// Derived from the function signatures: @types/photoshop exports `imaging` as a value, not a namespace.
export type PsGetPixelsOptions = Parameters<typeof imaging.getPixels>[0];
export type PsGetPixelsResult = Awaited<ReturnType<typeof imaging.getPixels>>;
export type PsImageData = PsGetPixelsResult['imageData'];
export type PsBounds = PsGetPixelsResult['sourceBounds'];
export type PsPutPixelsOptions = Parameters<typeof imaging.putPixels>[0];
export type PsGetSelectionOptions = Parameters<typeof imaging.getSelection>[0];
export type PsGetSelectionResult = Awaited<ReturnType<typeof imaging.getSelection>>;
export type PsCreateImageDataOptions = Parameters<typeof imaging.createImageDataFromBuffer>[1];

export type PsElementPlacement = 'placeBefore' | 'placeAfter' | 'placeInside' | 'placeAtBeginning' | 'placeAtEnd';

export interface PsLayer {
  readonly id: number;
  name: string;
  visible: boolean;
  /** Master opacity, in percent. */
  opacity: number;
  /** Constants.BlendMode: "normal", "multiply", ..., "passThrough" for groups. */
  blendMode: string;
  /** Constants.LayerKind: "pixel", "group", "text", ... */
  readonly kind: string;
  readonly boundsNoEffects: PsBounds;
  readonly parent: PsLayer | null;
  /** Children of a group; null for other layers. */
  readonly layers: ArrayLike<PsLayer> | null;
  move(relativeObject: PsLayer, insertLocation: PsElementPlacement): void;
}

export interface PsHistoryState {
  readonly id: number;
  readonly name: string;
  readonly snapshot: boolean;
}

export interface PsDocument {
  readonly id: number;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  /** Constants.DocumentMode: "RGBColorMode", "CMYKColorMode", ... */
  readonly mode: string;
  /** Constants.BitsPerChannelType: "bitDepth8", "bitDepth16", ... */
  readonly bitsPerChannel: string;
  /** Top-level layers, top of the stack first. */
  readonly layers: ArrayLike<PsLayer>;
  readonly activeLayers: ArrayLike<PsLayer>;
  readonly historyStates: ArrayLike<PsHistoryState>;
  activeHistoryState: PsHistoryState;
  createPixelLayer(options?: { name?: string }): Promise<PsLayer | null>;
  createLayerGroup(options?: { name?: string; fromLayers?: PsLayer | PsLayer[] }): Promise<PsLayer | null>;
}

export interface PsExecutionContext {
  readonly isCancelled: boolean;
  reportProgress(params: { value?: number; commandName?: string }): void;
  readonly hostControl: {
    suspendHistory(params: { documentID: number; name: string }): Promise<{ historySuspensionID: number }>;
    resumeHistory(params: { historySuspensionID: number; finalName?: string }, commit?: boolean): Promise<void>;
  };
}

export interface PhotoshopModules {
  readonly app: { readonly activeDocument: PsDocument | null };
  readonly core: {
    executeAsModal<T>(targetFunction: (context: PsExecutionContext) => Promise<T>, options: { commandName: string }): Promise<T>;
  };
  readonly imaging: {
    getPixels(options: PsGetPixelsOptions): Promise<PsGetPixelsResult>;
    putPixels(options: PsPutPixelsOptions): Promise<void>;
    getSelection(options: PsGetSelectionOptions): Promise<PsGetSelectionResult>;
    createImageDataFromBuffer(buffer: Uint8Array | Uint16Array | Float32Array, options: PsCreateImageDataOptions): Promise<PsImageData>;
  };
}

/** A file entry from `localFileSystem.getFileForSaving` (typed `any` upstream; checked at run time). */
export interface UxpFileEntry {
  readonly name: string;
  write(data: string | ArrayBuffer, options: { format?: symbol; append?: boolean }): unknown;
}

export interface UxpModules {
  readonly storage: {
    readonly localFileSystem: {
      getFileForSaving(suggestedName: string, options: { types?: string[] }): unknown;
    };
    readonly formats: { readonly binary: symbol };
    readonly secureStorage: {
      getItem(key: string): Promise<Uint8Array>;
      setItem(key: string, value: string | ArrayBuffer): Promise<void>;
      removeItem(key: string): Promise<void>;
    };
  };
}
