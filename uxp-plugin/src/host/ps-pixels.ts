/**
 * Pixel buffers between Photoshop and the panel: Photoshop's image data (3 or 4 components, 8-bit, 16-bit
 * in its 0..32768 "reduced range", or 32-bit float) to 8-bit chunky pixels and back.
 */
import type { PsImageData } from './ps-api.js';
import { HostError, type Pixels } from './types.js';

/** Pixels are always exchanged as 8-bit sRGB, so CMYK, Lab, greyscale and 16/32-bit documents read right. */
export const SRGB = 'sRGB IEC61966-2.1';
/** Photoshop's 16-bit range is 0..32768 ("reduced range"), not 0..65535. */
const PS16_MAX = 32768;

export async function readImageData(image: PsImageData): Promise<Pixels> {
  const channels = image.components;
  if (channels !== 3 && channels !== 4) {
    throw new HostError('UNSUPPORTED_MODE', `Photoshop returned ${channels} components per pixel; convert the document to RGB (Image > Mode > RGB Color).`);
  }
  const raw = await image.getData({ chunky: true });
  const expected = image.width * image.height * channels;
  if (raw.length !== expected) {
    throw new HostError('HOST_FAILED', `Photoshop returned ${raw.length} values for a ${image.width}x${image.height}x${channels} image; try again.`);
  }
  let data: Uint8Array;
  if (raw instanceof Uint8Array) {
    data = raw;
  } else if (raw instanceof Uint16Array) {
    data = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) data[i] = Math.min(255, Math.round(((raw[i] ?? 0) * 255) / PS16_MAX));
  } else {
    data = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) data[i] = Math.max(0, Math.min(255, Math.round((raw[i] ?? 0) * 255)));
  }
  return { width: image.width, height: image.height, channels, data };
}

export function checkPixels(p: Pixels, what: string): void {
  if (p.data.length !== p.width * p.height * p.channels) {
    throw new HostError('HOST_FAILED', `Pixel buffer of ${what} has ${p.data.length} bytes, expected ${p.width}x${p.height}x${p.channels}.`);
  }
}

export function to16(data: Uint8Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(((data[i] ?? 0) * PS16_MAX) / 255);
  return out;
}
