/**
 * Test documents for the fake Photoshop, made from the real sample illustrations.
 */
import sharp from 'sharp';
import { SAMPLES_DIR } from '../shared-samples.js';

export const SAMPLES = `${SAMPLES_DIR}/`;

export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A sample decoded to straight RGBA, optionally resized to `width` (keeping the aspect ratio). */
export async function loadSample(name: string, width?: number): Promise<Rgba> {
  let img = sharp(`${SAMPLES}${name}`).ensureAlpha();
  if (width) img = img.resize({ width });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** A transparent document-sized layer with `patch` of the sample at (left, top). */
export function patchLayer(doc: { width: number; height: number }, sample: Rgba, rect: { left: number; top: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(doc.width * doc.height * 4);
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const s = (y * sample.width + x) * 4;
      const d = ((rect.top + y) * doc.width + rect.left + x) * 4;
      for (let c = 0; c < 4; c++) out[d + c] = sample.data[s + c] ?? 0;
    }
  }
  return out;
}

/**
 * A soft painting with no drawn lines (colour masses melting into a gradient), which the classic
 * backend reconstructs as a painterly process: its sketch ends multiplied on top, and hidden.
 */
export function softPainting(width: number, height: number): Rgba {
  const data = new Uint8Array(width * height * 4);
  const masses: readonly [number, number, number, readonly [number, number, number]][] = [
    [0.33, 0.31, 0.25, [200, 90, 70]],
    [0.7, 0.62, 0.33, [60, 110, 180]],
    [0.5, 0.81, 0.21, [230, 200, 90]],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 150 + (60 * y) / height;
      let g = 170 - (40 * x) / width;
      let b = 190 - (50 * y) / height;
      for (const [cx, cy, radius, colour] of masses) {
        const d = Math.hypot(x / width - cx, (y / height - cy) * (height / width)) / radius;
        const t = Math.max(0, Math.min(1, 1.6 - d));
        const s = t * t * (3 - 2 * t);
        r += (colour[0] - r) * s;
        g += (colour[1] - g) * s;
        b += (colour[2] - b) * s;
      }
      data.set([Math.round(r), Math.round(g), Math.round(b), 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}
