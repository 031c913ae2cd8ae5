/**
 * Contact sheets: a grid of canvases from blank (step 999) to finished (step 0), each labelled with its
 * step, in one PNG. They are how a process is judged by eye (`eval --sheet`, the demo, the README).
 * Labels are SVG text rendered by sharp, so no font files ship with the project.
 */
import sharp from 'sharp';
import { throwIfCancelled } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import type { TimelineRenderer } from '../core/renderer.js';
import { timelapseSteps } from '../core/steps.js';
import { addPngText, provenanceChunks } from '../io/png.js';
import type { Provenance } from '../io/provenance.js';

export interface SheetFrame {
  readonly step: number;
  readonly image: RgbImage;
}

export interface ContactSheetOptions {
  /** Columns of the grid. Default: 4, or fewer when there are fewer frames. */
  readonly columns?: number;
  /** Long side of each thumbnail in pixels. Default 256. */
  readonly thumbSize?: number;
  /** A line printed above the grid, e.g. the file name and seed. */
  readonly title?: string;
  /** Written into the PNG as text chunks: a sheet is an export like any other. */
  readonly provenance?: Provenance;
}

export const DEFAULT_SHEET_FRAMES = 16;
const GAP = 8;
const LABEL = 20;
const TITLE = 28;
const BACKGROUND = { r: 236, g: 236, b: 236 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Steps of an N-frame sheet, evenly spaced from blank (999) to finished (0). */
export function sheetSteps(count: number = DEFAULT_SHEET_FRAMES): number[] {
  return timelapseSteps(count, 'draw');
}

/** Renders the sheet's frames with a renderer, in drawing order (cheap: the renderer replays forward). */
export function renderSheetFrames(renderer: TimelineRenderer, steps: readonly number[] = sheetSteps(), signal?: AbortSignal): SheetFrame[] {
  return steps.map((step) => {
    throwIfCancelled(signal);
    return { step, image: renderer.renderStep(step) };
  });
}

/** Lays out `frames` in a labelled grid and encodes it as PNG. */
export async function contactSheetPng(frames: readonly SheetFrame[], options: ContactSheetOptions = {}): Promise<Uint8Array> {
  const first = frames[0];
  if (!first) throw new RangeError('a contact sheet needs at least one frame');
  const thumb = options.thumbSize ?? 256;
  const k = thumb / Math.max(first.image.width, first.image.height);
  const tw = Math.max(1, Math.round(first.image.width * k));
  const th = Math.max(1, Math.round(first.image.height * k));
  const columns = Math.max(1, Math.min(options.columns ?? 4, frames.length));
  const rows = Math.ceil(frames.length / columns);
  const top = options.title === undefined ? GAP : TITLE + GAP;
  const width = GAP + columns * (tw + GAP);
  const height = top + rows * (th + LABEL + GAP);

  const cells = await Promise.all(
    frames.map(async (frame, i) => {
      const { image } = frame;
      const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        .resize(tw, th, { fit: 'fill' })
        .raw()
        .toBuffer();
      const left = GAP + (i % columns) * (tw + GAP);
      const y = top + Math.floor(i / columns) * (th + LABEL + GAP);
      return { input: data, raw: { width: tw, height: th, channels: 3 as const }, left, top: y };
    }),
  );
  const font = 'font-family="DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"';
  const labels = frames.map((frame, i) => {
    const x = GAP + (i % columns) * (tw + GAP) + tw / 2;
    const y = top + Math.floor(i / columns) * (th + LABEL + GAP) + th + LABEL - 5;
    return `<text x="${x}" y="${y}" text-anchor="middle" ${font} font-size="13" fill="#333">step ${frame.step}</text>`;
  });
  const title =
    options.title === undefined ? '' : `<text x="${GAP}" y="${TITLE - 6}" ${font} font-size="15" fill="#111">${escapeXml(options.title)}</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${title}${labels.join('')}</svg>`;
  const png = await sharp({ create: { width, height, channels: 3, background: BACKGROUND } })
    .composite([...cells, { input: Buffer.from(svg), left: 0, top: 0 }])
    .png({ compressionLevel: 6 })
    .toBuffer();
  const bytes = new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  return options.provenance === undefined ? bytes : addPngText(bytes, provenanceChunks(options.provenance));
}
