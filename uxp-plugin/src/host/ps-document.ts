/**
 * Reading Photoshop's document model: colour modes and bit depths by their DOM names, layers by id
 * (groups included), bounds as rects.
 */
import type { PsBounds, PsDocument, PsLayer } from './ps-api.js';
import { HostError, type ColorMode, type DocumentInfo, type LayerInfo, type Rect } from './types.js';

export const MODES: Readonly<Record<string, ColorMode>> = {
  RGBColorMode: 'rgb',
  CMYKColorMode: 'cmyk',
  labColorMode: 'lab',
  grayscaleMode: 'grayscale',
  indexedColorMode: 'indexed',
  bitmapMode: 'bitmap',
  duotoneMode: 'duotone',
  multichannelMode: 'multichannel',
};

export const BITS: Readonly<Record<string, DocumentInfo['bitsPerChannel']>> = {
  bitDepth1: 1,
  bitDepth8: 8,
  bitDepth16: 16,
  bitDepth32: 32,
};

export function boundsOfLayer(doc: PsDocument, layerId: number): Rect {
  const layer = findLayer(doc, layerId);
  if (!layer) throw new HostError('NO_LAYER', `Layer ${layerId} no longer exists; select a layer and try again.`);
  return toRect(layer.boundsNoEffects);
}

/** Depth-first over groups; Photoshop's layer collections are top-first. */
export function findLayer(doc: { readonly layers: ArrayLike<PsLayer> }, id: number): PsLayer | undefined {
  const stack: PsLayer[] = Array.from(doc.layers);
  while (stack.length > 0) {
    const layer = stack.shift();
    if (!layer) continue;
    if (layer.id === id) return layer;
    if (layer.layers) stack.unshift(...Array.from(layer.layers));
  }
  return undefined;
}

export function layerInfo(layer: PsLayer): LayerInfo {
  const kind = layer.kind === 'pixel' ? 'pixel' : layer.kind === 'group' ? 'group' : 'other';
  return { id: layer.id, name: layer.name, bounds: toRect(layer.boundsNoEffects), kind, visible: layer.visible };
}

export function toRect(b: PsBounds): Rect {
  return { left: b.left, top: b.top, right: b.right, bottom: b.bottom };
}

export function isEmpty(b: PsBounds | Rect): boolean {
  return b.right <= b.left || b.bottom <= b.top;
}
