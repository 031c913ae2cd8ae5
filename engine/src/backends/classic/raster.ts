/**
 * Lean typed-array image helpers for planning. Plan-resolution images are planar Float32 (one array per
 * channel, values 0..255, row-major); masks are Uint8 (0/1 or 0..255). Geometry is in "pixel index"
 * coordinates: pixel (i, j) has its centre at (i, j), the same convention the renderer uses for stamps.
 */
import type { RgbImage } from '../../core/image.js';
import type { Stamp } from '../../core/timeline.js';

export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export interface PlanRgb {
  readonly width: number;
  readonly height: number;
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
}

/** Per-channel sums of the input pixels falling into each cell of a grid, and their count. */
interface GridSums {
  readonly width: number;
  readonly height: number;
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  readonly count: Float32Array;
}

/**
 * Sums the input into a `width` x `height` grid, input pixel (x, y) going to cell (floor(x / scale),
 * floor(y / scale)), clamped to the grid. Sums are whole numbers below 2^24, exact in float32 in any order.
 */
function gridSums(image: RgbImage, width: number, height: number, scale: number): GridSums {
  const n = width * height;
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  const count = new Float32Array(n);
  const src = image.data;
  // The input columns falling into each grid column are the same on every row: one run per grid column.
  const runEnd = new Int32Array(width);
  for (let x = 0; x < image.width; x++) runEnd[Math.min(width - 1, Math.floor(x / scale))] = x + 1;
  for (let c = 1; c < width; c++) runEnd[c] = Math.max(runEnd[c]!, runEnd[c - 1]!);
  for (let y = 0; y < image.height; y++) {
    const row = Math.min(height - 1, Math.floor(y / scale)) * width;
    const line = y * image.width * 3;
    // Sum each run, then add it once: a 4096 px input touches the grid arrays several times less often.
    let x = 0;
    for (let c = 0; c < width; c++) {
      const end = runEnd[c]!;
      if (end <= x) continue;
      let sr = 0;
      let sg = 0;
      let sb = 0;
      for (let p = line + x * 3, q = line + end * 3; p < q; p += 3) {
        sr += src[p]!;
        sg += src[p + 1]!;
        sb += src[p + 2]!;
      }
      const i = row + c;
      r[i]! += sr;
      g[i]! += sg;
      b[i]! += sb;
      count[i]! += end - x;
      x = end;
    }
  }
  return { width, height, r, g, b, count };
}

/** Sums of 2x2 blocks of cells: the grid at twice the scale (floor(floor(x / s) / 2) = floor(x / 2s)). */
function halveSums(fine: GridSums, width: number, height: number): GridSums {
  const n = width * height;
  const r = new Float32Array(n);
  const g = new Float32Array(n);
  const b = new Float32Array(n);
  const count = new Float32Array(n);
  for (let y = 0; y < fine.height; y++) {
    const row = Math.min(height - 1, y >> 1) * width;
    for (let x = 0; x < fine.width; x++) {
      const i = row + Math.min(width - 1, x >> 1);
      const f = y * fine.width + x;
      r[i]! += fine.r[f]!;
      g[i]! += fine.g[f]!;
      b[i]! += fine.b[f]!;
      count[i]! += fine.count[f]!;
    }
  }
  return { width, height, r, g, b, count };
}

function averages(sums: GridSums): PlanRgb {
  const { width, height, r, g, b, count } = sums;
  for (let i = 0; i < width * height; i++) {
    const c = count[i]! || 1;
    r[i]! /= c;
    g[i]! /= c;
    b[i]! /= c;
  }
  return { width, height, r, g, b };
}

/** Area-average downscale by `scale` (full pixels per plan pixel) into a plan-size planar image. */
export function downscaleRgb(image: RgbImage, width: number, height: number, scale: number): PlanRgb {
  return averages(gridSums(image, width, height, scale));
}

/**
 * The plan-size image (exactly downscaleRgb's) and, in the same pass over the input, the input averaged
 * onto a grid twice as fine (8-bit RGB, 2 pixels per plan pixel) for measures that need more detail than
 * the plan: one pass over a 4096 px input instead of two.
 */
export function downscaleWithDetail(image: RgbImage, width: number, height: number, scale: number): { plan: PlanRgb; detail: RgbImage } {
  const fine = gridSums(image, width * 2, height * 2, scale / 2);
  const plan = averages(halveSums(fine, width, height));
  const detailPixels = averages(fine);
  const data = new Uint8Array(fine.width * fine.height * 3);
  for (let i = 0, p = 0; i < fine.width * fine.height; i++, p += 3) {
    data[p] = detailPixels.r[i]! + 0.5;
    data[p + 1] = detailPixels.g[i]! + 0.5;
    data[p + 2] = detailPixels.b[i]! + 0.5;
  }
  return { plan, detail: { width: fine.width, height: fine.height, channels: 3, data } };
}

export function luminance(img: PlanRgb): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * img.r[i]! + 0.587 * img.g[i]! + 0.114 * img.b[i]!;
  return out;
}

function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const k = new Float32Array(radius * 2 + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Separable Gaussian blur with clamped edges (three box passes for wide sigmas, same variance). */
export function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma <= 0) return src.slice();
  if (sigma > 3) {
    const r = Math.max(1, Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2));
    return boxBlur(boxBlur(boxBlur(src, width, height, r), width, height, r), width, height, r);
  }
  const k = gaussianKernel(sigma);
  const radius = (k.length - 1) / 2;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  // Rows: clamped taps only near the ends, a plain dot product in between.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      if (x >= radius && x + radius < width) {
        const base = row + x - radius;
        for (let t = 0; t < k.length; t++) acc += src[base + t]! * k[t]!;
      } else {
        for (let t = -radius; t <= radius; t++) {
          const xx = x + t < 0 ? 0 : x + t >= width ? width - 1 : x + t;
          acc += src[row + xx]! * k[t + radius]!;
        }
      }
      tmp[row + x] = acc;
    }
  }
  // Columns: accumulate whole rows at a time (cache-friendly), clamping the row index.
  for (let t = -radius; t <= radius; t++) {
    const w = k[t + radius]!;
    for (let y = 0; y < height; y++) {
      const yy = y + t < 0 ? 0 : y + t >= height ? height - 1 : y + t;
      const srcRow = yy * width;
      const dstRow = y * width;
      for (let x = 0; x < width; x++) out[dstRow + x]! += tmp[srcRow + x]! * w;
    }
  }
  return out;
}

/** Gaussian blur that ignores pixels of weight 0 (normalised convolution), e.g. to smooth colour across line art. */
export function maskedBlur(src: Float32Array, weight: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const n = src.length;
  const sw = new Float32Array(n);
  for (let i = 0; i < n; i++) sw[i] = src[i]! * weight[i]!;
  const a = gaussianBlur(sw, width, height, sigma);
  const w = gaussianBlur(weight, width, height, sigma);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = w[i]! > 1e-4 ? a[i]! / w[i]! : src[i]!;
  return out;
}

/** maskedBlur of several planes sharing one weight (the weight is blurred once). */
export function maskedBlurPlanes(planes: readonly Float32Array[], weight: Float32Array, width: number, height: number, sigma: number): Float32Array[] {
  const w = gaussianBlur(weight, width, height, sigma);
  return planes.map((src) => {
    const n = src.length;
    const sw = new Float32Array(n);
    for (let i = 0; i < n; i++) sw[i] = src[i]! * weight[i]!;
    const a = gaussianBlur(sw, width, height, sigma);
    for (let i = 0; i < n; i++) a[i] = w[i]! > 1e-4 ? a[i]! / w[i]! : src[i]!;
    return a;
  });
}

/**
 * Box blur of radius r (window 2r+1) with clamped edges, O(1) per pixel; two passes approximate a Gaussian.
 * The vertical pass walks rows with one running sum per column, so it reads memory in order: on a
 * 4096 px canvas, column by column would miss the cache on every pixel.
 */
export function boxBlur(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const win = 2 * r + 1;
  const lastX = width - 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let acc = 0;
    for (let t = -r; t <= r; t++) acc += src[row + (t < 0 ? 0 : t > lastX ? lastX : t)]!;
    for (let x = 0; x < width; x++) {
      tmp[row + x] = acc / win;
      const add = x + r + 1;
      const sub = x - r;
      acc += src[row + (add > lastX ? lastX : add)]! - src[row + (sub < 0 ? 0 : sub)]!;
    }
  }
  const lastY = height - 1;
  const acc = new Float64Array(width);
  for (let t = -r; t <= r; t++) {
    const row = (t < 0 ? 0 : t > lastY ? lastY : t) * width;
    for (let x = 0; x < width; x++) acc[x]! += tmp[row + x]!;
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const add = (y + r + 1 > lastY ? lastY : y + r + 1) * width;
    const sub = (y - r < 0 ? 0 : y - r) * width;
    for (let x = 0; x < width; x++) {
      out[row + x] = acc[x]! / win;
      acc[x]! += tmp[add + x]! - tmp[sub + x]!;
    }
  }
  return out;
}

/**
 * Two-pass chamfer (3-4) distance to the nearest pixel where `mask` is non-zero, in pixels
 * (within ~8% of Euclidean), capped at `cap`.
 */
export function distanceTo(mask: Uint8Array, width: number, height: number, cap = 1e6): Float32Array {
  const d = new Float32Array(mask.length);
  const big = cap * 3;
  for (let i = 0; i < mask.length; i++) d[i] = mask[i] ? 0 : big;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x > 0) v = Math.min(v, d[i - 1]! + 3);
      if (y > 0) {
        v = Math.min(v, d[i - width]! + 3);
        if (x > 0) v = Math.min(v, d[i - width - 1]! + 4);
        if (x < width - 1) v = Math.min(v, d[i - width + 1]! + 4);
      }
      d[i] = v;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x < width - 1) v = Math.min(v, d[i + 1]! + 3);
      if (y < height - 1) {
        v = Math.min(v, d[i + width]! + 3);
        if (x < width - 1) v = Math.min(v, d[i + width + 1]! + 4);
        if (x > 0) v = Math.min(v, d[i + width - 1]! + 4);
      }
      d[i] = v;
    }
  }
  for (let i = 0; i < d.length; i++) d[i] = Math.min(cap, d[i]! / 3);
  return d;
}

/** Zhang-Suen thinning of a 0/1 mask, in place: one-pixel-wide, 8-connected centre lines. */
export function thin(mask: Uint8Array, width: number, height: number): void {
  const toClear: number[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (let pass = 0; pass < 2; pass++) {
      toClear.length = 0;
      for (let y = 1; y < height - 1; y++) {
        for (let x = 1; x < width - 1; x++) {
          const i = y * width + x;
          if (!mask[i]) continue;
          const p2 = mask[i - width]!;
          const p3 = mask[i - width + 1]!;
          const p4 = mask[i + 1]!;
          const p5 = mask[i + width + 1]!;
          const p6 = mask[i + width]!;
          const p7 = mask[i + width - 1]!;
          const p8 = mask[i - 1]!;
          const p9 = mask[i - width - 1]!;
          const b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
          if (b < 2 || b > 6) continue;
          const a =
            (p2 === 0 && p3 === 1 ? 1 : 0) +
            (p3 === 0 && p4 === 1 ? 1 : 0) +
            (p4 === 0 && p5 === 1 ? 1 : 0) +
            (p5 === 0 && p6 === 1 ? 1 : 0) +
            (p6 === 0 && p7 === 1 ? 1 : 0) +
            (p7 === 0 && p8 === 1 ? 1 : 0) +
            (p8 === 0 && p9 === 1 ? 1 : 0) +
            (p9 === 0 && p2 === 1 ? 1 : 0);
          if (a !== 1) continue;
          if (pass === 0 ? p2 * p4 * p6 !== 0 || p4 * p6 * p8 !== 0 : p2 * p4 * p8 !== 0 || p2 * p6 * p8 !== 0) continue;
          toClear.push(i);
        }
      }
      for (const i of toClear) mask[i] = 0;
      if (toClear.length > 0) changed = true;
    }
  }
}

/** 8-connected component labels (1..count) of a non-zero mask; 0 = background. */
export function labelComponents(mask: Uint8Array, width: number, height: number): { labels: Int32Array; count: number; sizes: number[] } {
  const labels = new Int32Array(mask.length);
  const sizes: number[] = [0];
  const stack: number[] = [];
  let count = 0;
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || labels[s]) continue;
    count++;
    let size = 0;
    labels[s] = count;
    stack.push(s);
    while (stack.length > 0) {
      const i = stack.pop()!;
      size++;
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (mask[j] && !labels[j]) {
            labels[j] = count;
            stack.push(j);
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes };
}

/** Bilinear sample of a plane at pixel-index coordinates (clamped). */
export function sample(p: Float32Array, width: number, height: number, x: number, y: number): number {
  const xc = Math.min(width - 1, Math.max(0, x));
  const yc = Math.min(height - 1, Math.max(0, y));
  const x0 = Math.floor(xc);
  const y0 = Math.floor(yc);
  const x1 = Math.min(width - 1, x0 + 1);
  const y1 = Math.min(height - 1, y0 + 1);
  const fx = xc - x0;
  const fy = yc - y0;
  const a = p[y0 * width + x0]! + (p[y0 * width + x1]! - p[y0 * width + x0]!) * fx;
  const b = p[y1 * width + x0]! + (p[y1 * width + x1]! - p[y1 * width + x0]!) * fx;
  return a + (b - a) * fy;
}

/**
 * Upsamples a plan plane to full resolution with the renderer's mapping (u = (x + 0.5) / s - 0.5),
 * calling `visit(fullIndex, value)` for every full-resolution pixel; avoids allocating a full-size float map.
 */
export function forEachUpsampled(
  p: Float32Array,
  pw: number,
  ph: number,
  fullWidth: number,
  fullHeight: number,
  scale: number,
  visit: (index: number, value: number) => void,
): void {
  const x0s = new Int32Array(fullWidth);
  const x1s = new Int32Array(fullWidth);
  const fxs = new Float32Array(fullWidth);
  for (let x = 0; x < fullWidth; x++) {
    const u = Math.min(pw - 1, Math.max(0, (x + 0.5) / scale - 0.5));
    const u0 = Math.floor(u);
    x0s[x] = u0;
    x1s[x] = Math.min(pw - 1, u0 + 1);
    fxs[x] = u - u0;
  }
  for (let y = 0; y < fullHeight; y++) {
    const v = Math.min(ph - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const v0 = Math.floor(v);
    const v1 = Math.min(ph - 1, v0 + 1);
    const fy = v - v0;
    const ra = v0 * pw;
    const rb = v1 * pw;
    const line = y * fullWidth;
    for (let x = 0; x < fullWidth; x++) {
      const a0 = x0s[x]!;
      const a1 = x1s[x]!;
      const f = fxs[x]!;
      const top = p[ra + a0]! + (p[ra + a1]! - p[ra + a0]!) * f;
      const bottom = p[rb + a0]! + (p[rb + a1]! - p[rb + a0]!) * f;
      visit(line + x, top + (bottom - top) * fy);
    }
  }
}

/** A growable float canvas for building one stamp, in plan pixel-index coordinates. */
export class StampBuilder {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
  readonly alpha: Float32Array;

  constructor(x0: number, y0: number, x1: number, y1: number) {
    this.x0 = Math.floor(x0);
    this.y0 = Math.floor(y0);
    this.width = Math.max(1, Math.ceil(x1) - this.x0 + 1);
    this.height = Math.max(1, Math.ceil(y1) - this.y0 + 1);
    this.alpha = new Float32Array(this.width * this.height);
  }

  /**
   * A round-capped segment from (ax, ay, ra) to (bx, by, rb): 1 inside the radius, falling linearly to 0
   * over `feather` pixels, combined with what is there by max (a stroke never erases itself).
   */
  segment(ax: number, ay: number, ra: number, bx: number, by: number, rb: number, feather: number, strength = 1): void {
    const rmax = Math.max(ra, rb) + feather;
    const minX = Math.max(this.x0, Math.floor(Math.min(ax, bx) - rmax));
    const maxX = Math.min(this.x0 + this.width - 1, Math.ceil(Math.max(ax, bx) + rmax));
    const minY = Math.max(this.y0, Math.floor(Math.min(ay, by) - rmax));
    const maxY = Math.min(this.y0 + this.height - 1, Math.ceil(Math.max(ay, by) + rmax));
    const vx = bx - ax;
    const vy = by - ay;
    const len2 = vx * vx + vy * vy;
    const half = feather / 2;
    const outer = Math.max(ra, rb) + half;
    const outer2 = outer * outer;
    const inner = Math.min(ra, rb) - half;
    const inner2 = inner > 0 ? inner * inner : -1;
    const alpha = this.alpha;
    for (let y = minY; y <= maxY; y++) {
      const row = (y - this.y0) * this.width - this.x0;
      for (let x = minX; x <= maxX; x++) {
        let t = len2 > 0 ? ((x - ax) * vx + (y - ay) * vy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const dx = x - (ax + vx * t);
        const dy = y - (ay + vy * t);
        const d2 = dx * dx + dy * dy;
        // Squared-distance tests first: most pixels are clearly outside or clearly inside.
        if (d2 >= outer2) continue;
        let a: number;
        if (d2 <= inner2 && feather > 0) {
          a = strength;
        } else {
          const d = Math.sqrt(d2);
          const r = ra + (rb - ra) * t;
          const v = feather > 0 ? (r + half - d) / feather : d <= r ? 1 : 0;
          if (v <= 0) continue;
          a = (v >= 1 ? 1 : v) * strength;
        }
        const i = row + x;
        if (a > alpha[i]!) alpha[i] = a;
      }
    }
  }

  polyline(points: readonly number[], radius: number | readonly number[], feather: number, strength = 1): void {
    const rad = (k: number): number => (typeof radius === 'number' ? radius : radius[k] ?? 1);
    const n = points.length / 2;
    if (n === 1) {
      this.segment(points[0]!, points[1]!, rad(0), points[0]!, points[1]!, rad(0), feather, strength);
      return;
    }
    for (let k = 0; k + 1 < n; k++) {
      this.segment(points[2 * k]!, points[2 * k + 1]!, rad(k), points[2 * k + 2]!, points[2 * k + 3]!, rad(k + 1), feather, strength);
    }
  }

  /** Multiplies alpha by a plan-size 0..1 mask (pixels outside the plan count as `outside`). */
  clip(mask: Float32Array, pw: number, ph: number, outside = 0): void {
    for (let y = 0; y < this.height; y++) {
      const py = y + this.y0;
      for (let x = 0; x < this.width; x++) {
        const px = x + this.x0;
        const i = y * this.width + x;
        const m = px >= 0 && py >= 0 && px < pw && py < ph ? mask[py * pw + px]! : outside;
        this.alpha[i]! *= m;
      }
    }
  }

  toStamp(): Stamp {
    const out = new Uint8Array(this.alpha.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, this.alpha[i]!)) * 255);
    return { x: this.x0, y: this.y0, width: this.width, height: this.height, alpha: out };
  }
}

/** The tight stamp of `mask` (plan size, 0..255 values) restricted to pixels with label `label` in `labels`. */
export function stampFromLabel(
  labels: Int32Array,
  label: number,
  pw: number,
  box: readonly [number, number, number, number],
  pad: number,
  value: Float32Array | null = null,
): Stamp {
  // Pixels of the region are 255; `pad` extra pixels around it are also 255 so that bilinear upsampling
  // reaches full coverage on the region's own border; the extra ring is safe because neighbours show their own colour.
  const [bx0, by0, bx1, by1] = box;
  const x0 = bx0 - pad;
  const y0 = by0 - pad;
  const w = bx1 - bx0 + 1 + 2 * pad;
  const h = by1 - by0 + 1 + 2 * pad;
  const alpha = new Uint8Array(w * h);
  for (let y = by0; y <= by1; y++) {
    for (let x = bx0; x <= bx1; x++) {
      const i = y * pw + x;
      if (labels[i] !== label) continue;
      const v = value ? Math.round(255 * Math.min(1, Math.max(0, value[i]!))) : 255;
      if (v === 0) continue;
      for (let dy = -pad; dy <= pad; dy++) {
        const yy = y + dy - y0;
        for (let dx = -pad; dx <= pad; dx++) {
          const j = yy * w + (x + dx - x0);
          if (v > alpha[j]!) alpha[j] = v;
        }
      }
    }
  }
  return { x: x0, y: y0, width: w, height: h, alpha };
}
