/**
 * Image analysis at plan resolution: style, line map (XDoG at two scales) and the subject.
 */
import type { RgbImage } from '../../core/image.js';
import { downscaleRgb, downscaleWithDetail, gaussianBlur, labelComponents, luminance, type PlanRgb } from './raster.js';

export type Style = 'lineart' | 'painterly' | 'monochrome';

/** Long side of the plan resolution; planning cost grows with its square. */
export const PLAN_LONG_SIDE = 512;
/** Images up to this long side are planned at full resolution. */
export const MIN_PLAN_LONG_SIDE = 384;

/** Measures finer than the plan (the line layer's alpha) use at most this many input pixels per plan pixel. */
export const DETAIL_SCALE = 2;

export interface Analysis {
  readonly full: RgbImage;
  /**
   * The input for measures that need more detail than the plan: the input itself up to DETAIL_SCALE
   * input pixels per plan pixel, else its average on a grid of DETAIL_SCALE pixels per plan pixel, so
   * those measures cost the same for a 4096 px canvas as for a 1024 px one.
   */
  readonly detail: RgbImage;
  /** Detail pixels per plan pixel. */
  readonly detailScale: number;
  readonly pw: number;
  readonly ph: number;
  /** Full pixels per plan pixel. */
  readonly scale: number;
  readonly img: PlanRgb;
  readonly lum: Float32Array;
  /** XDoG darkness response (luminance units, >= 0): how much darker a pixel is than its surroundings. */
  readonly lineResponse: Float32Array;
  /** Clean line pixels (0/1) after hysteresis and removal of specks. */
  readonly lineMask: Uint8Array;
  /** 0..1: how much each pixel belongs to the main subject (dense, sharp, central structure). */
  readonly subject: Float32Array;
  readonly style: Style;
  /** Fraction of pixels that are line pixels. */
  readonly lineDensity: number;
  readonly monochrome: boolean;
}

export function planSize(width: number, height: number): { pw: number; ph: number; scale: number } {
  const long = Math.max(width, height);
  // Inputs just above the plan size plan at ~0.7x: planning costs the same at any input size, and at
  // these sizes it would dominate a timelapse, while lines stay crisp from the full-resolution content.
  const target = Math.min(PLAN_LONG_SIDE, Math.max(MIN_PLAN_LONG_SIDE, Math.round(long * 0.7)));
  if (long <= target) return { pw: width, ph: height, scale: 1 };
  const scale = long / target;
  // Floor, so that every plan pixel receives at least one full pixel when averaging down (floor(x / scale)
  // steps by at most 1); the few full pixels past the last plan centre sample the edge, as the renderer does.
  return { pw: Math.max(1, Math.floor(width / scale)), ph: Math.max(1, Math.floor(height / scale)), scale };
}

export function analyse(full: RgbImage): Analysis {
  const { pw, ph, scale } = planSize(full.width, full.height);
  let img: PlanRgb;
  let detail = full;
  let detailScale = scale;
  if (scale > DETAIL_SCALE) {
    ({ plan: img, detail } = downscaleWithDetail(full, pw, ph, scale));
    detailScale = DETAIL_SCALE;
  } else {
    img = downscaleRgb(full, pw, ph, scale);
  }
  const lum = luminance(img);
  const n = pw * ph;

  // XDoG: a thin dark line is a valley, so (wide blur - narrow blur) > 0 on it and < 0 on its flanks;
  // unlike gradient edges this gives one response per line, not a doubled contour on each side.
  const fine = gaussianBlur(lum, pw, ph, 0.7);
  const mid = gaussianBlur(lum, pw, ph, 1.6);
  const wide = gaussianBlur(lum, pw, ph, 3.2);
  const lineResponse = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = mid[i]! - fine[i]!;
    const b = (wide[i]! - mid[i]!) * 0.8;
    lineResponse[i] = Math.max(0, a, b);
  }

  // Hysteresis: strong valleys seed lines, weaker connected valleys extend them.
  const hi = 16;
  const lo = 7;
  const candidate = new Uint8Array(n);
  for (let i = 0; i < n; i++) candidate[i] = lineResponse[i]! >= lo ? 1 : 0;
  const { labels, count, sizes } = labelComponents(candidate, pw, ph);
  const strong = new Uint8Array(count + 1);
  for (let i = 0; i < n; i++) if (lineResponse[i]! >= hi) strong[labels[i]!] = 1;
  const minSize = Math.max(6, Math.round(n / 20000));
  const lineMask = new Uint8Array(n);
  let lineCount = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (l && strong[l] && sizes[l]! >= minSize) {
      lineMask[i] = 1;
      lineCount++;
    }
  }
  const lineDensity = lineCount / n;

  // Chroma decides monochrome: ink and pencil works have almost no coloured pixels.
  let coloured = 0;
  for (let i = 0; i < n; i++) {
    const r = img.r[i]!;
    const g = img.g[i]!;
    const b = img.b[i]!;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 28) coloured++;
  }
  const monochrome = coloured / n < 0.02;

  // Painterly works have few crisp dark valleys: lines would be fake there.
  let crisp = 0;
  for (let i = 0; i < n; i++) if (lineMask[i] && lineResponse[i]! >= 28) crisp++;
  const crispDensity = crisp / n;
  const style: Style = monochrome ? 'monochrome' : crispDensity < 0.006 ? 'painterly' : 'lineart';

  // Subject: where structure is dense (line or strong local contrast), with a mild centre prior.
  const structure = new Float32Array(n);
  for (let i = 0; i < n; i++) structure[i] = Math.min(1, lineResponse[i]! / 20);
  const density = gaussianBlur(structure, pw, ph, Math.max(pw, ph) / 14);
  let maxD = 1e-6;
  for (let i = 0; i < n; i++) maxD = Math.max(maxD, density[i]!);
  const subject = new Float32Array(n);
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const i = y * pw + x;
      const cx = (x / pw - 0.5) * 2;
      const cy = (y / ph - 0.45) * 2;
      const centre = Math.max(0, 1 - 0.35 * (cx * cx + cy * cy));
      subject[i] = Math.min(1, (density[i]! / maxD) * 0.75 + centre * 0.25);
    }
  }

  return { full, detail, detailScale, pw, ph, scale, img, lum, lineResponse, lineMask, subject, style, lineDensity, monochrome };
}

/** Where a person would start: the top of the main subject (usually the head). */
export function subjectStart(a: Analysis): [number, number] {
  const { pw, ph, subject } = a;
  let sx = 0;
  let sw = 0;
  let minY = ph;
  let maxY = 0;
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const w = subject[y * pw + x]!;
      if (w < 0.6) continue;
      sx += x * w;
      sw += w;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (sw === 0) return [pw / 2, ph * 0.3];
  return [sx / sw, minY + (maxY - minY) * 0.2];
}
