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
