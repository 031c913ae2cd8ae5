/** Full-resolution layer contents shared by several phases. */
import { createRgba, type RgbaImage } from '../../core/image.js';
import type { Analysis } from './analyse.js';
import { forEachUpsampled } from './raster.js';

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
