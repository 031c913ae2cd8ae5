/** From plan planes and masks to what the renderer reads: bilinear samples, upsampling, stamps. */
import type { Stamp } from '../../../core/timeline.js';

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
    // Per row, only the columns near the part of the segment within `outer` of that row (a pixel
    // margin beyond it, so rounding never cuts a pixel the distance test below would keep).
    const reach = outer + 1;
    for (let y = minY; y <= maxY; y++) {
      const row = (y - this.y0) * this.width - this.x0;
      let fromX = minX;
      let toX = maxX;
      if (vy !== 0) {
        const ta = (y - reach - ay) / vy;
        const tb = (y + reach - ay) / vy;
        const t0 = Math.max(0, Math.min(ta, tb));
        const t1 = Math.min(1, Math.max(ta, tb));
        if (t0 > t1) continue;
        const xa = ax + vx * t0;
        const xb = ax + vx * t1;
        fromX = Math.max(minX, Math.floor(Math.min(xa, xb) - reach));
        toX = Math.min(maxX, Math.ceil(Math.max(xa, xb) + reach));
      }
      for (let x = fromX; x <= toX; x++) {
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
