/**
 * Import plans: which layers an action creates, with names, pixels, exact bounds, visibility and where
 * they go. Pure functions; the host executes a plan in one modal scope and one history state.
 */
import type { ImportPlan, NewLayer, Pixels, Placement, Rect, SourceKind } from '../host/types.js';
import { rectHeight, rectWidth } from '../host/types.js';
import { resize, toRgba } from './pixels.js';

/** Where the source pixels came from; imported layers land exactly over `bounds`. */
export interface SourceRegion {
  readonly documentId: number;
  readonly documentTitle: string;
  readonly source: SourceKind;
  readonly layerId?: number;
  readonly layerName?: string;
  /** Full-resolution document rectangle of the source (layer content, selection, or the canvas). */
  readonly bounds: Rect;
}

export interface StepFrame {
  readonly step: number;
  readonly pixels: Pixels;
}

/**
 * Why frames cannot be imported into a document of this colour mode and depth (only 8- and 16-bit RGB
 * take them), or undefined when they can. The host refuses such an import; the panel asks first, before
 * anything is read or rendered.
 */
export function importRefusal(mode: string, bitsPerChannel: number): string | undefined {
  if (mode === 'rgb' && (bitsPerChannel === 8 || bitsPerChannel === 16)) return undefined;
  return (
    `Frames can be imported only into 8- or 16-bit RGB documents; this one is ${bitsPerChannel}-bit ${mode}. ` +
    'Use Image > Mode > RGB Color (and 8 or 16 Bits/Channel), or import into a copy (Image > Duplicate).'
  );
}

/**
 * Extensions of the files Photoshop opens: only these end a title as an extension. An unsaved
 * document's title ("v1.2 final") keeps its dots.
 */
const FILE_EXTENSION = /\.(psd|psb|pdd|png|jpe?g|jpe|jfif|tiff?|gif|bmp|webp|avif|heic|heif|tga|exr|hdr|dng|cr2|cr3|nef|arw|raf|pdf|eps|ai)$/i;

/** "painting.psd" → "painting", "v1.2 final" → "v1.2 final". */
export function documentBaseName(title: string): string {
  const trimmed = title.trim();
  const base = trimmed.replace(FILE_EXTENSION, '');
  return base || trimmed || 'Untitled';
}

export function stepLayerName(step: number): string {
  return `Step ${step}`;
}

/** For a layer source, the source layer: its frames take its opacity and blend mode. */
function styleFor(region: SourceRegion): { styleOf?: number } {
  return region.source === 'layer' && region.layerId !== undefined ? { styleOf: region.layerId } : {};
}

function placementFor(region: SourceRegion): Placement {
  return region.source === 'layer' && region.layerId !== undefined ? { kind: 'above', layerId: region.layerId } : { kind: 'top' };
}

/**
 * Frames are rendered at the upload resolution; they are fitted to the source bounds when the host writes
 * their layer. For a layer source the engine paints on white paper, so white is turned back into
 * transparency: the imported layer then composites like the original layer did.
 */
function fit(region: SourceRegion, pixels: Pixels): Pixels {
  const sized = resize(pixels, rectWidth(region.bounds), rectHeight(region.bounds));
  return region.source === 'layer' ? whiteToAlpha(sized) : sized;
}

export function singleStepPlan(region: SourceRegion, frame: StepFrame): ImportPlan {
  const layer: NewLayer = { name: stepLayerName(frame.step), pixels: () => fit(region, frame.pixels), bounds: region.bounds, visible: true, ...styleFor(region) };
  return {
    documentId: region.documentId,
    historyName: `PaintsUndo: add step ${frame.step}`,
    placement: placementFor(region),
    layers: [layer],
  };
}

/**
 * Keyframes in a new group named after the document: one layer per step, the most finished (lowest step)
 * on top and visible, the others hidden, so toggling visibility walks back through the process.
 */
export function keyframesPlan(region: SourceRegion, frames: readonly StepFrame[]): ImportPlan {
  if (frames.length === 0) throw new RangeError('Expected at least one keyframe');
  const ordered = [...frames].sort((a, b) => a.step - b.step);
  const name = documentBaseName(region.documentTitle);
  return {
    documentId: region.documentId,
    historyName: 'PaintsUndo: import keyframes',
    groupName: region.source === 'layer' && region.layerName ? `${name} – ${region.layerName} keyframes` : `${name} keyframes`,
    placement: placementFor(region),
    layers: ordered.map((f, i) => ({ name: stepLayerName(f.step), pixels: () => fit(region, f.pixels), bounds: region.bounds, visible: i === 0, ...styleFor(region) })),
  };
}

/** Process layers (sketch, line art, flats, ...) as the backend names them, bottom layer last in `layers`. */
/** A layer of the process as the engine made it: its pixels carry its coverage and opacity; blend mode and visibility are kept apart. */
export interface ProcessLayer {
  readonly name: string;
  readonly pixels: Pixels;
  readonly blend: 'normal' | 'multiply';
  readonly visible: boolean;
}

/** The process layers in a group, top first, each stacking as in the engine's process (a hidden multiplied sketch stays so). */
export function processLayersPlan(region: SourceRegion, layers: readonly ProcessLayer[]): ImportPlan {
  if (layers.length === 0) throw new RangeError('Expected at least one process layer');
  return {
    documentId: region.documentId,
    historyName: 'PaintsUndo: import process layers',
    groupName: `${documentBaseName(region.documentTitle)} process layers`,
    placement: placementFor(region),
    layers: layers.map((l) => ({
      name: l.name,
      pixels: () => resize(toRgba(l.pixels), rectWidth(region.bounds), rectHeight(region.bounds)),
      bounds: region.bounds,
      visible: l.visible,
      blendMode: l.blend,
    })),
  };
}

/** "Colour to alpha" against white: white becomes transparent, colours keep their look over white. RGBA out, from RGB or RGBA. */
export function whiteToAlpha(p: Pixels): Pixels {
  const c = p.channels;
  const src = p.data;
  const count = p.width * p.height;
  const out = new Uint8Array(count * 4);
  for (let i = 0, s = 0; i < count; i++, s += c) {
    const r = src[s]!;
    const g = src[s + 1]!;
    const b = src[s + 2]!;
    const a0 = c === 4 ? src[s + 3]! / 255 : 1;
    const a = Math.max(255 - r, 255 - g, 255 - b) / 255;
    if (a === 0) continue;
    const o = 4 * i;
    out[o] = Math.round(255 - (255 - r) / a);
    out[o + 1] = Math.round(255 - (255 - g) / a);
    out[o + 2] = Math.round(255 - (255 - b) / a);
    out[o + 3] = Math.round(a * a0 * 255);
  }
  return { width: p.width, height: p.height, channels: 4, data: out };
}
