/**
 * Inputs for the classic backend tests: the shared sample illustrations (downscaled where a test only
 * needs the algorithm, not the size) and a few small synthetic artworks made with sharp from SVG.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { SourceImage } from '../../engine/src/core/backend.js';
import type { RgbImage } from '../../engine/src/core/image.js';
import { sourceFromRgba } from '../../engine/src/io/decode.js';
import { samplePath } from '../shared-samples.js';

/** The shared sample illustrations (../shared/samples next to the repository). */
export const SAMPLES = ['1.jpg', '2.jpg', '3.jpg'].map(samplePath);

async function fromSharp(image: ReturnType<typeof sharp>): Promise<SourceImage> {
  const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return sourceFromRgba({ width: info.width, height: info.height, channels: 4, data: new Uint8Array(data) });
}

/** A sample, optionally downscaled so its long side is `longSide`. */
export async function loadSample(path: string, longSide?: number, exact?: { width: number; height: number }): Promise<SourceImage> {
  const img = sharp(path);
  if (exact) return fromSharp(img.resize(exact.width, exact.height, { fit: 'fill' }));
  return fromSharp(longSide === undefined ? img : img.resize(longSide, longSide, { fit: 'inside' }));
}

/** A transparent artwork of an odd size: a translucent outlined ellipse with a disc, nothing behind. */
export function transparentSvg(width = 301, height = 517): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<ellipse cx="${width / 2}" cy="${height / 2}" rx="${width * 0.4}" ry="${height * 0.39}" fill="#3b82f6" fill-opacity="0.85" stroke="#0b1b3b" stroke-width="6"/>
<circle cx="${width / 2}" cy="${height * 0.39}" r="${width / 6}" fill="#fde047" stroke="#222" stroke-width="4"/></svg>`;
}

/** A soft painting with no line art: gradient sky, blurred sun and hills. */
export const PAINTERLY_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">
<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f4a261"/><stop offset="0.6" stop-color="#e76f51"/><stop offset="1" stop-color="#264653"/></linearGradient>
<filter id="b"><feGaussianBlur stdDeviation="6"/></filter><filter id="c"><feGaussianBlur stdDeviation="2"/></filter></defs>
<rect width="400" height="300" fill="url(#sky)"/>
<ellipse cx="280" cy="100" rx="45" ry="45" fill="#ffe8a3" filter="url(#b)"/>
<path d="M0 210 q 100 -60 200 -10 t 200 -20 v 120 h -400z" fill="#2a9d8f" filter="url(#c)"/>
<ellipse cx="100" cy="190" rx="30" ry="60" fill="#6d597a" filter="url(#b)"/></svg>`;

/** A black ink drawing on off-white paper. */
export function inkSvg(): string {
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><rect width="300" height="300" fill="#fbfaf7"/>
<circle cx="150" cy="130" r="85" fill="none" stroke="#111" stroke-width="4"/><path d="M90 260 q 60 -60 120 0" fill="none" stroke="#111" stroke-width="3"/>`;
  for (let k = 0; k < 15; k++) svg += `<line x1="${85 + k * 6}" y1="${165 + (k % 5) * 2}" x2="${100 + k * 6}" y2="210" stroke="#222" stroke-width="2"/>`;
  return svg + `<circle cx="125" cy="110" r="10" fill="#111"/><circle cx="175" cy="110" r="10" fill="#111"/></svg>`;
}

export async function fromSvg(svg: string): Promise<SourceImage> {
  return fromSharp(sharp(Buffer.from(svg)));
}

/** A source whose pixels are `image` (opaque), for synthetic checks. */
export function sourceOf(image: RgbImage): SourceImage {
  return { id: createHash('sha256').update(image.data).update(`${image.width}x${image.height}`).digest('hex'), image };
}

export function hashImage(image: RgbImage): string {
  return createHash('sha256').update(image.data).digest('hex');
}

/** Fraction of pixels that are not white (any channel below 250). */
export function nonWhiteFraction(image: RgbImage): number {
  let count = 0;
  const d = image.data;
  for (let i = 0; i < d.length; i += 3) if (d[i]! < 250 || d[i + 1]! < 250 || d[i + 2]! < 250) count++;
  return count / (image.width * image.height);
}

/** Mean absolute per-channel difference, 0..255. */
export function meanAbsDifference(a: RgbImage, b: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}
