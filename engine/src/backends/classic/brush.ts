/**
 * Brush-like reveal strokes driven by an error map: each stroke follows the image's local orientation
 * (structure tensor), starts where the remaining error is largest near the pen (artists work locally),
 * and lowers the error it covers. Also tracks full coverage: a plan pixel is "done" once one stamp is
 * 255 on its whole 3x3 neighbourhood, which is exactly what bilinear upsampling needs for the renderer
 * to reach coverage 255 at every full-resolution pixel mapped to it.
 */
import type { Stamp } from '../../core/timeline.js';
import type { Mark } from './phases/phase.js';
import { gaussianBlur, StampBuilder } from './raster.js';
import type { Rng } from './rng.js';
import type { Path } from './lines.js';

/** Stroke direction (radians) per plan pixel: along edges and hair strands, across nothing. */
export function flowField(lum: Float32Array, pw: number, ph: number): Float32Array {
  const l = gaussianBlur(lum, pw, ph, 1);
  const n = pw * ph;
  const jxx = new Float32Array(n);
  const jxy = new Float32Array(n);
  const jyy = new Float32Array(n);
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const i = y * pw + x;
      const gx = l[y * pw + Math.min(pw - 1, x + 1)]! - l[y * pw + Math.max(0, x - 1)]!;
      const gy = l[Math.min(ph - 1, y + 1) * pw + x]! - l[Math.max(0, y - 1) * pw + x]!;
      jxx[i] = gx * gx;
      jxy[i] = gx * gy;
      jyy[i] = gy * gy;
    }
  }
  const sigma = Math.max(2, Math.max(pw, ph) / 120);
  const a = gaussianBlur(jxx, pw, ph, sigma);
  const b = gaussianBlur(jxy, pw, ph, sigma);
  const c = gaussianBlur(jyy, pw, ph, sigma);
  const angle = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Gradient direction + 90 degrees: strokes run along isophotes.
    angle[i] = 0.5 * Math.atan2(2 * b[i]!, a[i]! - c[i]!) + Math.PI / 2;
  }
  return angle;
}

export interface PassOptions {
  readonly count: number;
  /** Radius range in plan pixels. */
  readonly radius: readonly [number, number];
  /** Length range in plan pixels. */
  readonly length: readonly [number, number];
  /**
   * 'error': largest remaining error first; 'cover': pixels not yet fully covered first, where the error
   * is largest; 'sweep': pixels not yet fully covered, area by area whatever their error (an even pace).
   */
  readonly seek: Seek;
  readonly feather?: number;
  readonly check: () => void;
  /**
   * Stop once nothing visible is left to paint (fewer than `count` marks) instead of falling back to
   * places with no error, whose strokes would change nothing: idle steps. With 'cover', only pixels not
   * yet covered that still show an error are sought.
   */
  readonly stopWhenDone?: boolean;
  /**
   * Brush size factor per plan pixel (plan size), read where a stroke starts: a painter glazes a smooth
   * field with a broad brush and picks up a small one for detail. Absent: 1 everywhere.
   */
  readonly sizeAt?: Float32Array;
}

type Seek = 'error' | 'cover' | 'sweep';

const CELL = 12;
/** Error (summed over channels) a stroke must cover somewhere to change a channel by the 2+ levels that show. */
const VISIBLE_ERROR = 8;

export class BrushPainter {
  readonly pw: number;
  readonly ph: number;
  readonly error: Float32Array;
  readonly done: Uint8Array;
  /** Highest coverage each plan pixel got from this painter, 0..1. */
  readonly coverage: Float32Array;
  private readonly flow: Float32Array;
  private readonly rng: Rng;
  private readonly cw: number;
  private readonly ch: number;
  private readonly cellError: Float64Array;
  private readonly cellUndone: Float64Array;
  /** Largest error in each cell: a cell is worth a stroke only if some pixel shows a visible error. */
  private readonly cellMax: Float32Array;
  private penX: number;
  private penY: number;
  private readonly reach: number;

  /** Coverage (0..255) at which a pixel counts as covered; 255 means "exactly full", see `absorb`. */
  private readonly coverAt: number;
  /** Where strokes may start (non-zero), or everywhere. */
  private focusMask: Uint8Array | null = null;
  /** How far revealing the layer moves each pixel (summed over channels), when known. */
  private visibleChange: Float32Array | null = null;

  constructor(
    pw: number,
    ph: number,
    error: Float32Array,
    flow: Float32Array,
    rng: Rng,
    start: readonly [number, number],
    coverAt = 255,
  ) {
    this.coverAt = coverAt;
    this.pw = pw;
    this.ph = ph;
    this.error = error;
    this.flow = flow;
    this.rng = rng;
    this.done = new Uint8Array(pw * ph);
    this.coverage = new Float32Array(pw * ph);
    this.cw = Math.ceil(pw / CELL);
    this.ch = Math.ceil(ph / CELL);
    this.cellError = new Float64Array(this.cw * this.ch);
    this.cellUndone = new Float64Array(this.cw * this.ch);
    this.cellMax = new Float32Array(this.cw * this.ch);
    for (let cy = 0; cy < this.ch; cy++) for (let cx = 0; cx < this.cw; cx++) this.updateCell(cx, cy);
    this.penX = start[0];
    this.penY = start[1];
    this.reach = Math.hypot(pw, ph) * 0.12;
  }

  /**
   * Restricts where strokes start to `mask` (plan size, non-zero inside: the area being rendered), or
   * lifts the restriction with null. Strokes still reach past the area's border as a brush does.
   */
  focus(mask: Uint8Array | null): void {
    this.focusMask = mask;
    for (let cy = 0; cy < this.ch; cy++) for (let cx = 0; cx < this.cw; cx++) this.updateCell(cx, cy);
  }

  /** Counts the pixels outside `need` (zero there) as covered already: nothing there to paint. */
  skip(need: Uint8Array): void {
    for (let i = 0; i < need.length; i++) if (!need[i]) this.done[i] = 1;
    for (let cy = 0; cy < this.ch; cy++) for (let cx = 0; cx < this.cw; cx++) this.updateCell(cx, cy);
  }

  /**
   * How far revealing this painter's layer moves each pixel (plan size, summed over channels), when
   * known: with `stopWhenDone`, a stroke that would change no pixel by a visible amount (2+ levels in a
   * channel, given the coverage already there) is not made: it would be an idle step. Its place is marked
   * as painted-out in the error map and another place is sought.
   */
  setVisible(change: Float32Array): void {
    this.visibleChange = change;
  }

  /** Whether a stamp changes a few pixels visibly. */
  private shows(stamp: Stamp): boolean {
    const change = this.visibleChange;
    if (!change) return true;
    const { x: sx, y: sy, width: sw, height: sh, alpha } = stamp;
    let count = 0;
    for (let y = Math.max(0, sy); y < Math.min(this.ph, sy + sh); y++) {
      for (let x = Math.max(0, sx); x < Math.min(this.pw, sx + sw); x++) {
        const i = y * this.pw + x;
        const gain = alpha[(y - sy) * sw + (x - sx)]! / 255 - this.coverage[i]!;
        // 6 summed over channels is 2+ levels in some channel.
        if (gain > 0 && gain * change[i]! >= 6 && ++count >= 3) return true;
      }
    }
    return false;
  }

  /** Clears the error under a stamp without painting it: there is nothing visible to paint there. */
  private writeOff(stamp: Stamp): void {
    const { x: sx, y: sy, width: sw, height: sh, alpha } = stamp;
    for (let y = Math.max(0, sy); y < Math.min(this.ph, sy + sh); y++) {
      for (let x = Math.max(0, sx); x < Math.min(this.pw, sx + sw); x++) if (alpha[(y - sy) * sw + (x - sx)]! > 0) this.error[y * this.pw + x] = 0;
    }
    const cx0 = Math.max(0, Math.floor(sx / CELL));
    const cy0 = Math.max(0, Math.floor(sy / CELL));
    const cx1 = Math.min(this.cw - 1, Math.floor((sx + sw) / CELL));
    const cy1 = Math.min(this.ch - 1, Math.floor((sy + sh) / CELL));
    for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) this.updateCell(cx, cy);
  }

  get undoneCount(): number {
    let c = 0;
    for (let i = 0; i < this.cellUndone.length; i++) c += this.cellUndone[i]!;
    return c;
  }

  private updateCell(cx: number, cy: number): void {
    let e = 0;
    let u = 0;
    let m = 0;
    const x1 = Math.min(this.pw, (cx + 1) * CELL);
    const y1 = Math.min(this.ph, (cy + 1) * CELL);
    const focus = this.focusMask;
    for (let y = cy * CELL; y < y1; y++) {
      for (let x = cx * CELL; x < x1; x++) {
        const i = y * this.pw + x;
        if (focus && !focus[i]) continue;
        e += this.error[i]!;
        if (this.error[i]! > m) m = this.error[i]!;
        if (!this.done[i]) u++;
      }
    }
    this.cellError[cy * this.cw + cx] = e;
    this.cellUndone[cy * this.cw + cx] = u;
    this.cellMax[cy * this.cw + cx] = m;
  }

  /** Chooses a start point: the best cell near the pen, then the best pixel in it. */
  private pickSeed(seek: Seek, visibleOnly = false): [number, number] | null {
    let best = -1;
    let bestScore = 0;
    for (let cy = 0; cy < this.ch; cy++) {
      for (let cx = 0; cx < this.cw; cx++) {
        const c = cy * this.cw + cx;
        // A cell whose mean error is under ~2 levels, or where no pixel is off by a visible amount, has
        // nothing visible left to paint.
        const err = this.cellError[c]! > CELL * CELL * 2 && this.cellMax[c]! >= VISIBLE_ERROR ? this.cellError[c]! : 0;
        const base =
          seek === 'error' ? err : visibleOnly && err === 0 ? 0 : this.cellUndone[c]! * (seek === 'sweep' ? 1 : 1 + err / (CELL * CELL * 8));
        if (base <= 0) continue;
        const d = Math.hypot((cx + 0.5) * CELL - this.penX, (cy + 0.5) * CELL - this.penY);
        const score = (base / (1 + d / this.reach)) * (0.8 + 0.4 * this.rng.next());
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
    }
    if (best < 0) return null;
    const cx = best % this.cw;
    const cy = (best - cx) / this.cw;
    let bx = -1;
    let by = -1;
    let bv = -1;
    const x1 = Math.min(this.pw, (cx + 1) * CELL);
    const y1 = Math.min(this.ph, (cy + 1) * CELL);
    for (let y = cy * CELL; y < y1; y++) {
      for (let x = cx * CELL; x < x1; x++) {
        const i = y * this.pw + x;
        if (this.focusMask && !this.focusMask[i]) continue;
        const v = seek === 'error' ? this.error[i]! : this.done[i] ? -1 : this.error[i]! + 1;
        if (v > bv) {
          bv = v;
          bx = x;
          by = y;
        }
      }
    }
    return bx < 0 ? null : [bx, by];
  }

  /** A stroke path through (x, y) following the flow field, curving gently. */
  traceStroke(x: number, y: number, length: number, radius = 2): Path {
    // Points closer than ~half a radius add nothing to the capsule chain but cost a segment each.
    const step = Math.max(1.5, radius * 0.6);
    const half = Math.max(1, Math.round(length / 2 / step));
    const forward: number[] = [];
    const backward: number[] = [];
    const bend = this.rng.range(-0.04, 0.04);
    for (const [out, sign] of [[forward, 1], [backward, -1]] as const) {
      let px = x;
      let py = y;
      let a0 = this.flow[Math.round(py) * this.pw + Math.round(px)] ?? 0;
      let dx = Math.cos(a0) * sign;
      let dy = Math.sin(a0) * sign;
      for (let k = 0; k < half; k++) {
        const xi = Math.min(this.pw - 1, Math.max(0, Math.round(px)));
        const yi = Math.min(this.ph - 1, Math.max(0, Math.round(py)));
        a0 = this.flow[yi * this.pw + xi]!;
        let nx = Math.cos(a0);
        let ny = Math.sin(a0);
        if (nx * dx + ny * dy < 0) {
          nx = -nx;
          ny = -ny;
        }
        // Inertia: a hand does not follow every wiggle of the field.
        dx = dx * 0.7 + nx * 0.3;
        dy = dy * 0.7 + ny * 0.3;
        const rot = bend * sign;
        const rx = dx * Math.cos(rot) - dy * Math.sin(rot);
        const ry = dx * Math.sin(rot) + dy * Math.cos(rot);
        const norm = Math.hypot(rx, ry) || 1;
        dx = rx / norm;
        dy = ry / norm;
        px += dx * step;
        py += dy * step;
        out.push(px, py);
      }
    }
    const path: Path = [];
    for (let k = backward.length - 2; k >= 0; k -= 2) path.push(backward[k]!, backward[k + 1]!);
    path.push(x, y);
    path.push(...forward);
    return path;
  }

  /** Records a stamp's effect on the error map and on coverage. */
  absorb(stamp: Stamp): void {
    absorbStamp(stamp, this.pw, this.ph, this.error, this.coverage, this.done, this.coverAt);
    const { x: sx, y: sy, width: sw, height: sh } = stamp;
    const cx0 = Math.max(0, Math.floor(sx / CELL));
    const cy0 = Math.max(0, Math.floor(sy / CELL));
    const cx1 = Math.min(this.cw - 1, Math.floor((sx + sw) / CELL));
    const cy1 = Math.min(this.ch - 1, Math.floor((sy + sh) / CELL));
    for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) this.updateCell(cx, cy);
  }

  /** `count` strokes (falls back to random places once nothing is left to seek, unless `stopWhenDone`). */
  pass(opts: PassOptions): Mark[] {
    const ops: Mark[] = [];
    const feather = opts.feather ?? 2;
    let rejected = 0;
    for (let k = 0; k < opts.count; k++) {
      if ((k + rejected) % 16 === 0) opts.check();
      let seed = this.pickSeed(opts.seek, opts.stopWhenDone);
      if (!seed && opts.stopWhenDone) break;
      if (!seed) seed = this.pickSeed(opts.seek === 'error' ? 'cover' : 'error');
      if (!seed) seed = [this.rng.int(0, this.pw - 1), this.rng.int(0, this.ph - 1)];
      const [x, y] = seed;
      // Brushes shrink a little as a pass goes on (broad first, finer later), as painters do.
      const progress = k / Math.max(1, opts.count - 1);
      const size = opts.sizeAt ? opts.sizeAt[y * this.pw + x]! : 1;
      const r = this.rng.range(opts.radius[0], opts.radius[1]) * (1.15 - 0.3 * progress) * size;
      const len = this.rng.range(opts.length[0], opts.length[1]) * size;
      const path = this.traceStroke(x, y, len, r);
      const m = path.length / 2;
      const radii: number[] = [];
      for (let t = 0; t < m; t++) {
        const s = m > 1 ? t / (m - 1) : 0.5;
        radii.push(r * (0.75 + 0.25 * Math.sin(Math.PI * s)));
      }
      const pad = r + feather + 2;
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      for (let t = 0; t < path.length; t += 2) {
        minX = Math.min(minX, path[t]!);
        maxX = Math.max(maxX, path[t]!);
        minY = Math.min(minY, path[t + 1]!);
        maxY = Math.max(maxY, path[t + 1]!);
      }
      const sb = new StampBuilder(minX - pad, minY - pad, maxX + pad, maxY + pad);
      sb.polyline(path, radii, feather);
      const stamp = sb.toStamp();
      if (opts.stopWhenDone && !this.shows(stamp) && rejected < opts.count * 4) {
        this.writeOff(stamp);
        rejected++;
        k--;
        continue;
      }
      this.absorb(stamp);
      ops.push({ stamp, strength: 1 });
      this.penX = path[path.length - 2]!;
      this.penY = path[path.length - 1]!;
    }
    return ops;
  }

  /** One stamp covering every pixel not yet done (plus its 3x3 ring), or null when all are done. */
  residualStamp(): Stamp | null {
    const { pw, ph } = this;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        if (this.done[y * pw + x]) continue;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    if (x0 === Infinity) return null;
    const sx = x0 - 1;
    const sy = y0 - 1;
    const sw = x1 - x0 + 3;
    const sh = y1 - y0 + 3;
    const alpha = new Uint8Array(sw * sh);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (this.done[y * pw + x]) continue;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) alpha[(y + dy - sy) * sw + (x + dx - sx)] = 255;
        }
      }
    }
    const stamp: Stamp = { x: sx, y: sy, width: sw, height: sh, alpha };
    this.absorb(stamp);
    return stamp;
  }
}

/**
 * `absorb`'s pixels: the stamp scales down the error it covers, raises coverage, and marks the pixels it
 * covers as done (at `coverAt`, or where it and its 3x3 neighbourhood are full when that is 255). A
 * function of its own so that V8 optimises the loop with the whole function's feedback (see `cellBoxes`
 * in phases/region-fill.ts).
 */
function absorbStamp(stamp: Stamp, pw: number, ph: number, error: Float32Array, coverage: Float32Array, done: Uint8Array, coverAt: number): void {
  const { x: sx, y: sy, width: sw, height: sh, alpha } = stamp;
  const yEnd = Math.min(ph, sy + sh);
  const xEnd = Math.min(pw, sx + sw);
  for (let y = Math.max(0, sy); y < yEnd; y++) {
    for (let x = Math.max(0, sx); x < xEnd; x++) {
      const a = alpha[(y - sy) * sw + (x - sx)]!;
      if (a === 0) continue;
      const i = y * pw + x;
      error[i]! *= 1 - a / 255;
      if (a / 255 > coverage[i]!) coverage[i] = a / 255;
      if (done[i]) continue;
      if (coverAt < 255) {
        if (a >= coverAt) done[i] = 1;
        continue;
      }
      if (a < 255) continue;
      let full = true;
      for (let dy = -1; dy <= 1 && full; dy++) {
        const yy = y + dy - sy;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx - sx;
          if (yy < 0 || xx < 0 || yy >= sh || xx >= sw || alpha[yy * sw + xx] !== 255) {
            full = false;
            break;
          }
        }
      }
      if (full) done[i] = 1;
    }
  }
}
