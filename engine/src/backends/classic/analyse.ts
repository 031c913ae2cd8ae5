/**
 * Image analysis at plan resolution: the drawn lines the artwork really has (valleys, valley.ts), the
 * style and the subject. The line layer's alpha at any output size is made in content.ts.
 */
import type { RgbImage } from '../../core/image.js';
import { downscaleWithDarkest, downscaleWithDetail, gaussianBlur, labelComponents, luminance, planeQuantile, type PlanRgb } from './raster.js';
import { valleys } from './valley.js';

/**
 * - `lineart`: drawn line art (coloured): sketch, line art, flats, shading, rendering;
 * - `monochrome`: ink or pencil line work without colour: sketch, line art, values, rendering;
 * - `flat`: flat colour shapes or cel shading without drawn line art (vector, lineless anime):
 *   sketch, flats, shading, the few real lines as details, rendering;
 * - `painterly`: no line art and no flat shapes (paintings, photo-like renders): sketch, a toned
 *   lay-in, block-in of masses, refinement, rendering.
 */
export type Style = 'lineart' | 'monochrome' | 'flat' | 'painterly';

/** Half-widths of the line detector at plan resolution: lines up to ~6 plan pixels wide. */
export const LINE_HALF_WIDTHS = [1, 2, 3];
/** Crisp line pixels (valleys of 28+ levels) that make a piece line art: line work covers more than this share. */
const LINE_ART_DENSITY = 0.012;
/** Share of pixels in flat colour that makes a line-less piece flat/cel rather than painterly. */
const FLAT_SHARE = 0.7;
/** Edge sharpness (see analyse) from which flat tone reads as drawn shapes rather than a soft painting or render. */
const SHARP_EDGES = 0.55;
/**
 * Edges (samples across a border of 24+ levels, see analyse) per plan pixel below which a piece has no
 * drawn borders to measure: an airbrushed or misty, low-contrast painting, whose smooth gradients pass
 * for flat tone. One circle's outline on a 512 px plan gives over ten times as many.
 */
const MIN_EDGE_SHARE = 1 / 2000;
/** The edge sharpness of soft ramps: what a piece without measurable borders counts as. */
const SOFT_EDGES = 1 / 3;

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
  /** Per plan pixel, the darkest channel value (0..255) of the input pixels it averages. */
  readonly darkest: Uint8Array;
  readonly lum: Float32Array;
  /**
   * The piece's tonal range against a full one (MIN_CONTRAST..1, see tonalContrast): line depths, in the
   * mask here and in the line layer's alpha, count in proportion.
   */
  readonly contrast: number;
  /** Valley response (luminance levels, >= 0): how much darker a pixel is than both sides of it. */
  readonly lineResponse: Float32Array;
  /** Clean line pixels (0/1) after hysteresis and removal of specks. */
  readonly lineMask: Uint8Array;
  /** 0..1: how much each pixel belongs to the main subject (dense, sharp, central structure). */
  readonly subject: Float32Array;
  readonly style: Style;
  /** Fraction of pixels that are line pixels. */
  readonly lineDensity: number;
  /** Fraction of pixels that are crisp line pixels (valleys of 28 levels or more). */
  readonly crispDensity: number;
  /** Crispness of edges, 1/3 (soft ramps) .. 1 (drawn borders). */
  readonly edgeSharpness: number;
  /** Fraction of pixels in flat tone (smoothed luminance within 0.6 levels of the right and lower neighbours). */
  readonly flatShare: number;
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

/**
 * The piece's tonal range (luminance levels between its darkest and lightest 0.5%) at and above which
 * line depths count as they are; a darker or faded piece (a night scene, a scan of old paper) has them
 * count as much more as its range is narrower, down to MIN_CONTRAST.
 */
const FULL_RANGE = 200;
/** Below this share of FULL_RANGE, faint marks stay faint: paper texture must not become line art. */
const MIN_CONTRAST = 0.5;

/** The tonal range of `lum` as a share of FULL_RANGE: 1 for art that spans most of black to white. */
function tonalContrast(lum: Float32Array): number {
  const range = planeQuantile(lum, 0.995) - planeQuantile(lum, 0.005);
  return Math.max(MIN_CONTRAST, Math.min(1, range / FULL_RANGE));
}

export function analyse(full: RgbImage): Analysis {
  const { pw, ph, scale } = planSize(full.width, full.height);
  let img: PlanRgb;
  let darkest: Uint8Array;
  let detail = full;
  let detailScale = scale;
  if (scale > DETAIL_SCALE) {
    ({ plan: img, detail, darkest } = downscaleWithDetail(full, pw, ph, scale));
    detailScale = DETAIL_SCALE;
  } else {
    ({ plan: img, darkest } = downscaleWithDarkest(full, pw, ph, scale));
  }
  const lum = luminance(img);
  const n = pw * ph;

  // Lines are valleys of a lightly smoothed luminance (valley.ts): never the dark side of an edge. Their
  // depths are measured against the piece's own tonal range: ink in a dark or faded piece is as much a
  // line as in one that spans black to white.
  const smooth = gaussianBlur(lum, pw, ph, 0.7);
  const contrast = tonalContrast(lum);
  const lineResponse = valleys(smooth, pw, ph, LINE_HALF_WIDTHS, 7 * contrast).response;

  // Hysteresis: strong valleys seed lines, weaker connected valleys extend them.
  const hi = 16 * contrast;
  const lo = 7 * contrast;
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

  // Style: real line work decides line art (ink when there is no colour); without it, flat colour
  // shapes (vector, lineless cel; flat even through JPEG noise once smoothed) are painted as flats,
  // anything else (texture, grain, soft photo-like shading) as a painting. A piece with no
  // clean line art is never forced into ink.
  let crisp = 0;
  for (let i = 0; i < n; i++) if (lineMask[i] && lineResponse[i]! >= 28 * contrast) crisp++;
  const crispDensity = crisp / n;
  let flat = 0;
  for (let y = 0; y + 1 < ph; y++) {
    for (let x = 0; x + 1 < pw; x++) {
      const i = y * pw + x;
      if (Math.max(Math.abs(smooth[i + 1]! - smooth[i]!), Math.abs(smooth[i + pw]! - smooth[i]!)) <= 0.6) flat++;
    }
  }
  const flatShare = flat / Math.max(1, (pw - 1) * (ph - 1));
  // Edge sharpness: across an edge, the step over 2 pixels against the step over 6. A drawn shape's
  // border is crisp (about 1); a blurred form or a soft photo-like edge ramps (about 1/3).
  let sharpSum = 0;
  let edges = 0;
  // Measured at the middle of each edge (where the 2-pixel step peaks), across it: along rows (d = 1),
  // then down columns (d = pw).
  const sharpness = (i: number, d: number): number => {
    const f = Math.abs(smooth[i + 3 * d]! - smooth[i - 3 * d]!);
    if (f < 24) return -1;
    const m = Math.abs(smooth[i + d]! - smooth[i - d]!);
    if (m < Math.abs(smooth[i]! - smooth[i - 2 * d]!) || m < Math.abs(smooth[i + 2 * d]! - smooth[i]!)) return -1;
    return Math.min(1, m / f);
  };
  for (let y = 4; y + 4 < ph; y++) {
    for (let x = 4; x + 4 < pw; x++) {
      const i = y * pw + x;
      const across = sharpness(i, 1);
      if (across >= 0) {
        sharpSum += across;
        edges++;
      }
      const down = sharpness(i, pw);
      if (down >= 0) {
        sharpSum += down;
        edges++;
      }
    }
  }
  const edgeSharpness = edges >= n * MIN_EDGE_SHARE ? sharpSum / edges : SOFT_EDGES;
  const style: Style =
    crispDensity >= LINE_ART_DENSITY ? (monochrome ? 'monochrome' : 'lineart') : flatShare >= FLAT_SHARE && edgeSharpness >= SHARP_EDGES ? 'flat' : 'painterly';

  // Subject: where structure is dense (lines or strong local contrast), with a mild centre prior.
  const structure = new Float32Array(n);
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const i = y * pw + x;
      const gx = smooth[y * pw + Math.min(pw - 1, x + 1)]! - smooth[y * pw + Math.max(0, x - 1)]!;
      const gy = smooth[Math.min(ph - 1, y + 1) * pw + x]! - smooth[Math.max(0, y - 1) * pw + x]!;
      structure[i] = Math.min(1, Math.max(lineResponse[i]! / 20, Math.hypot(gx, gy) / 60));
    }
  }
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

  return { full, detail, detailScale, pw, ph, scale, img, darkest, lum, contrast, lineResponse, lineMask, subject, style, lineDensity, crispDensity, flatShare, edgeSharpness, monochrome };
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
