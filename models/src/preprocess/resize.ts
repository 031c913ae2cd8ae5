/**
 * `resize_and_center_crop` of the official code (diffusers_vdm/utils.py) with OpenCV's INTER_AREA:
 * area averaging when shrinking, OpenCV's "area-mode" bilinear (8-bit fixed point) when enlarging.
 * Reimplemented from OpenCV's documented algorithm; may differ by 1 at a few pixels where OpenCV's
 * float summation order rounds the other way.
 */
import type { RgbImage } from '../../../engine/src/core/image.js';

/** Python's round(): half to even. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** cvRound for the area path (lrint: half to even). */
function cvRound(x: number): number {
  return pyRound(x);
}

interface AreaTap {
  readonly di: number;
  readonly si: number;
  readonly alpha: number;
}

function areaTable(ssize: number, dsize: number, scale: number): AreaTap[] {
  const taps: AreaTap[] = [];
  for (let dx = 0; dx < dsize; dx++) {
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cellWidth = Math.min(scale, ssize - fsx1);
    let sx2 = Math.floor(fsx2);
    sx2 = Math.min(sx2, ssize - 1);
    const sx1 = Math.min(Math.ceil(fsx1), sx2);
    if (sx1 - fsx1 > 1e-3) taps.push({ di: dx, si: sx1 - 1, alpha: Math.fround((sx1 - fsx1) / cellWidth) });
    for (let sx = sx1; sx < sx2; sx++) taps.push({ di: dx, si: sx, alpha: Math.fround(1 / cellWidth) });
    if (fsx2 - sx2 > 1e-3) taps.push({ di: dx, si: sx2, alpha: Math.fround(Math.min(Math.min(fsx2 - sx2, 1), cellWidth) / cellWidth) });
  }
  return taps;
}

function resizeAreaDown(src: RgbImage, dw: number, dh: number): RgbImage {
  const sw = src.width;
  const xtab = areaTable(sw, dw, sw / dw);
  const ytab = areaTable(src.height, dh, src.height / dh);
  const out = new Uint8Array(dw * dh * 3);
  const buf = new Float32Array(dw * 3);
  const sum = new Float32Array(dw * 3);
  const flush = (dy: number): void => {
    for (let i = 0; i < dw * 3; i++) out[dy * dw * 3 + i] = Math.max(0, Math.min(255, cvRound(sum[i] ?? 0)));
  };
  let prevDy = ytab[0]?.di ?? 0;
  for (const { di: dy, si: sy, alpha: beta } of ytab) {
    buf.fill(0);
    const row = sy * sw * 3;
    for (const { di, si, alpha } of xtab) {
      for (let c = 0; c < 3; c++) {
        buf[di * 3 + c] = Math.fround((buf[di * 3 + c] ?? 0) + Math.fround((src.data[row + si * 3 + c] ?? 0) * alpha));
      }
    }
    if (dy !== prevDy) {
      flush(prevDy);
      for (let i = 0; i < dw * 3; i++) sum[i] = Math.fround(beta * (buf[i] ?? 0));
      prevDy = dy;
    } else {
      for (let i = 0; i < dw * 3; i++) sum[i] = Math.fround((sum[i] ?? 0) + Math.fround(beta * (buf[i] ?? 0)));
    }
  }
  flush(prevDy);
  return { width: dw, height: dh, channels: 3, data: out };
}

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

/** Source index and fixed-point weights of OpenCV's area-mode linear interpolation along one axis. */
function linearTaps(ssize: number, dsize: number): { index: Int32Array; w0: Int32Array; w1: Int32Array } {
  const invScale = dsize / ssize;
  const scale = 1 / invScale;
  const index = new Int32Array(dsize);
  const w0 = new Int32Array(dsize);
  const w1 = new Int32Array(dsize);
  for (let d = 0; d < dsize; d++) {
    let s = Math.floor(d * scale);
    let f = Math.fround(d + 1 - (s + 1) * invScale);
    f = f <= 0 ? 0 : Math.fround(f - Math.floor(f));
    if (s < 0) {
      f = 0;
      s = 0;
    }
    if (s >= ssize - 1) {
      f = 0;
      s = ssize - 1;
    }
    index[d] = s;
    w0[d] = Math.round(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = Math.round(f * COEF_SCALE);
  }
  return { index, w0, w1 };
}

function resizeAreaUp(src: RgbImage, dw: number, dh: number): RgbImage {
  const sw = src.width;
  const sh = src.height;
  const xs = linearTaps(sw, dw);
  const ys = linearTaps(sh, dh);
  // Horizontal pass into int rows (value * 2048), cached per source row.
  const rows = new Map<number, Int32Array>();
  const hrow = (sy: number): Int32Array => {
    const cached = rows.get(sy);
    if (cached !== undefined) return cached;
    const r = new Int32Array(dw * 3);
    const base = sy * sw * 3;
    for (let dx = 0; dx < dw; dx++) {
      const sx = xs.index[dx] ?? 0;
      const sx1 = Math.min(sx + 1, sw - 1);
      for (let c = 0; c < 3; c++) {
        r[dx * 3 + c] = (src.data[base + sx * 3 + c] ?? 0) * (xs.w0[dx] ?? 0) + (src.data[base + sx1 * 3 + c] ?? 0) * (xs.w1[dx] ?? 0);
      }
    }
    rows.set(sy, r);
    return r;
  };
  const out = new Uint8Array(dw * dh * 3);
  for (let dy = 0; dy < dh; dy++) {
    const sy = ys.index[dy] ?? 0;
    const r0 = hrow(sy);
    const r1 = hrow(Math.min(sy + 1, sh - 1));
    const b0 = ys.w0[dy] ?? 0;
    const b1 = ys.w1[dy] ?? 0;
    for (let i = 0; i < dw * 3; i++) {
      // OpenCV's vectorised VResizeLinear for 8-bit: ((b0*(s0>>4))>>16 + (b1*(s1>>4))>>16 + 2) >> 2.
      const v = (((b0 * ((r0[i] ?? 0) >> 4)) >> 16) + ((b1 * ((r1[i] ?? 0) >> 4)) >> 16) + 2) >> 2;
      out[dy * dw * 3 + i] = Math.max(0, Math.min(255, v));
    }
  }
  return { width: dw, height: dh, channels: 3, data: out };
}

/** cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA). */
export function resizeArea(src: RgbImage, width: number, height: number): RgbImage {
  if (width === src.width && height === src.height) return { width, height, channels: 3, data: src.data.slice() };
  if (src.width >= width && src.height >= height) return resizeAreaDown(src, width, height);
  return resizeAreaUp(src, width, height);
}

/** resize_and_center_crop(image, target_width, target_height) with INTER_AREA. */
export function resizeAndCenterCrop(src: RgbImage, targetWidth: number, targetHeight: number): RgbImage {
  const k = Math.max(targetHeight / src.height, targetWidth / src.width);
  const newWidth = pyRound(src.width * k);
  const newHeight = pyRound(src.height * k);
  const resized = resizeArea(src, newWidth, newHeight);
  const x0 = Math.floor((newWidth - targetWidth) / 2);
  const y0 = Math.floor((newHeight - targetHeight) / 2);
  const out = new Uint8Array(targetWidth * targetHeight * 3);
  for (let y = 0; y < targetHeight; y++) {
    const from = ((y0 + y) * newWidth + x0) * 3;
    out.set(resized.data.subarray(from, from + targetWidth * 3), y * targetWidth * 3);
  }
  return { width: targetWidth, height: targetHeight, channels: 3, data: out };
}

/** The single-frame buckets are free sizes in the app (sliders, step 64); this is the official video bucket search. */
export function findBestBucket(h: number, w: number, options: readonly (readonly [number, number])[]): [number, number] {
  let best: [number, number] = [options[0]?.[0] ?? h, options[0]?.[1] ?? w];
  let min = Infinity;
  for (const [bh, bw] of options) {
    const metric = Math.abs(h * bw - w * bh);
    // '<=': the last option with the minimal metric wins, as in gradio_app.find_best_bucket.
    if (metric <= min) {
      min = metric;
      best = [bh, bw];
    }
  }
  return best;
}
