/** Full-resolution layer contents shared by several phases. */
import { createRgba, type RgbaImage } from '../../core/image.js';
import type { Analysis } from './analyse.js';
import { forEachUpsampled } from './raster.js';

export function solidContent(width: number, height: number, rgb: readonly [number, number, number]): RgbaImage {
  const img = createRgba(width, height);
  const d = img.data;
  for (let p = 0; p < d.length; p += 4) {
    d[p] = rgb[0];
    d[p + 1] = rgb[1];
    d[p + 2] = rgb[2];
    d[p + 3] = 255;
  }
  return img;
}

/** The finished image itself, opaque: the top layer whose full coverage makes step 0 exact. */
export function inputContent(a: Analysis): RgbaImage {
  const { full } = a;
  const img = createRgba(full.width, full.height);
  const s = full.data;
  const d = img.data;
  for (let i = 0, p = 0; i < s.length; i += 3, p += 4) {
    d[p] = s[i]!;
    d[p + 1] = s[i + 1]!;
    d[p + 2] = s[i + 2]!;
    d[p + 3] = 255;
  }
  return img;
}

/** Full-resolution content from three plan planes (bilinear), opaque. */
export function upsampledContent(a: Analysis, r: Float32Array, g: Float32Array, b: Float32Array): RgbaImage {
  const { full, pw, ph, scale } = a;
  const img = createRgba(full.width, full.height);
  const d = img.data;
  forEachUpsampled(r, pw, ph, full.width, full.height, scale, (i, v) => {
    d[i * 4] = v;
    d[i * 4 + 3] = 255;
  });
  forEachUpsampled(g, pw, ph, full.width, full.height, scale, (i, v) => (d[i * 4 + 1] = v));
  forEachUpsampled(b, pw, ph, full.width, full.height, scale, (i, v) => (d[i * 4 + 2] = v));
  return img;
}
