/**
 * Pixel preprocessing of the multi-frame pipeline, done on the CPU in float32 before the graphs run:
 * uint8 -> [-1, 1], the video buckets, and the authors' arbitrary-aspect CLIP-vision preprocessing
 * (torch `interpolate(mode='bicubic', antialias=True)` reproduced op by op, then CLIP mean/std).
 */
import type { RgbImage } from '../../../engine/src/core/image.js';
import { invalidOption } from '../../../engine/src/core/errors.js';

/** (height, width) buckets of the official app (gradio_app.process_video). */
export const MF_BUCKETS: readonly (readonly [number, number])[] = [
  [320, 512],
  [384, 448],
  [448, 384],
  [512, 320],
];

/**
 * gradio_app.find_best_bucket: minimises |h*bw - w*bh| (aspect mismatch); on ties the LAST option
 * wins because the official loop compares with `<=`.
 */
export function findBestBucket(
  height: number,
  width: number,
  options: readonly (readonly [number, number])[] = MF_BUCKETS,
): readonly [number, number] {
  let best: readonly [number, number] | undefined;
  let bestMetric = Infinity;
  for (const option of options) {
    const metric = Math.abs(height * option[1] - width * option[0]);
    if (metric <= bestMetric) {
      bestMetric = metric;
      best = option;
    }
  }
  if (best === undefined) throw invalidOption('buckets', 'at least one (height, width) bucket', options.length);
  return best;
}

/** Python's round(): half to even. */
export function pyRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * numpy2pytorch for a batch of frames: HWC uint8 -> [3, n, h, w] (c t h w) float32 in [-1, 1],
 * computed as float32(u8 / 127.5) - 1 like the official float32 arithmetic.
 */
export function framesToVideoTensor(frames: readonly RgbImage[]): Float32Array {
  const first = frames[0];
  if (first === undefined) throw invalidOption('frames', 'at least one frame', 0);
  const { width, height } = first;
  const plane = width * height;
  const n = frames.length;
  const out = new Float32Array(3 * n * plane);
  frames.forEach((frame, t) => {
    if (frame.width !== width || frame.height !== height) {
      throw invalidOption(`frames[${t}]`, `a ${width}x${height} image`, `${frame.width}x${frame.height}`);
    }
    const d = frame.data;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[(c * n + t) * plane + p] = Math.fround(Math.fround(d[p * 3 + c]! / 127.5) - 1);
    }
  });
  return out;
}

/** pytorch2numpy: clip(x*127.5 + 127.5, 0, 255) truncated to uint8, one frame of a [3, n, h, w] tensor. */
export function videoTensorFrame(video: Float32Array, frames: number, height: number, width: number, t: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const base = (c * frames + t) * plane;
    for (let p = 0; p < plane; p++) {
      const v = Math.fround(Math.fround(video[base + p]! * 127.5) + 127.5);
      data[p * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
    }
  }
  return { width, height, channels: 3, data };
}

/** The CLIP-vision input size for an H x W frame: 14 * round(16*side/min(H, W)), short side 16 patches. */
export function clipVisionSize(height: number, width: number, patch = 14, shortPatches = 16): [number, number] {
  const scale = shortPatches / Math.min(height, width);
  return [patch * pyRound(scale * height), patch * pyRound(scale * width)];
}

/** Keys cubic filter with a = -0.5 (torch's aa bicubic). */
function cubic(x: number): number {
  const a = -0.5;
  const ax = Math.abs(x);
  if (ax < 1) return Math.fround(Math.fround(Math.fround(Math.fround(a + 2) * ax) - (a + 3)) * ax * ax + 1);
  if (ax < 2) return Math.fround((((ax - 5) * ax + 8) * ax - 4) * a);
  return 0;
}

interface AxisWeights {
  readonly start: Int32Array;
  readonly size: Int32Array;
  /** `maxSize` weights per output index. */
  readonly weights: Float32Array;
  readonly maxSize: number;
}

/** torch `_compute_weights_aa` (align_corners=False) in float32. */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const support = scale >= 1 ? f(2 * scale) : 2;
  const invscale = scale >= 1 ? f(1 / scale) : 1;
  const maxSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxSize);
  for (let i = 0; i < outSize; i++) {
    const center = f(scale * (i + 0.5));
    const xmin = Math.max(Math.trunc(f(center - support + 0.5)), 0);
    const xsize = Math.min(Math.trunc(f(center + support + 0.5)), inSize) - xmin;
    start[i] = xmin;
    size[i] = xsize;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const w = cubic(f(f(f(j + xmin - center) + 0.5) * invscale));
      weights[i * maxSize + j] = w;
      total = f(total + w);
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) weights[i * maxSize + j] = f(weights[i * maxSize + j]! / total);
  }
  return { start, size, weights, maxSize };
}

/**
 * Antialiased bicubic resize of `planes` float32 planes of inH x inW (torch CPU order: the width pass
 * first, then the height pass, each accumulating in float32).
 */
export function resizeBicubicAntialias(
  input: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float32Array {
  const f = Math.fround;
  let current = input;
  let curW = inW;
  if (outW !== inW) {
    const ax = axisWeights(inW, outW);
    const next = new Float32Array(planes * inH * outW);
    for (let row = 0; row < planes * inH; row++) {
      const src = row * inW;
      for (let x = 0; x < outW; x++) {
        const s = ax.start[x]!;
        const base = x * ax.maxSize;
        let acc = f(current[src + s]! * ax.weights[base]!);
        for (let j = 1; j < ax.size[x]!; j++) acc = f(acc + f(current[src + s + j]! * ax.weights[base + j]!));
        next[row * outW + x] = acc;
      }
    }
    current = next;
    curW = outW;
  }
  if (outH !== inH) {
    const ax = axisWeights(inH, outH);
    const next = new Float32Array(planes * outH * curW);
    for (let p = 0; p < planes; p++) {
      for (let y = 0; y < outH; y++) {
        const s = ax.start[y]!;
        const base = y * ax.maxSize;
        const out = (p * outH + y) * curW;
        for (let x = 0; x < curW; x++) {
          let acc = f(current[(p * inH + s) * curW + x]! * ax.weights[base]!);
          for (let j = 1; j < ax.size[y]!; j++) {
            acc = f(acc + f(current[(p * inH + s + j) * curW + x]! * ax.weights[base + j]!));
          }
          next[out + x] = acc;
        }
      }
    }
    current = next;
  }
  return current === input ? input.slice() : current;
}

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export interface ClipVisionPixels {
  readonly data: Float32Array;
  readonly height: number;
  readonly width: number;
}

/**
 * The improved CLIP-vision preprocessing of `n` frames given as [n, 3, h, w] in [-1, 1]:
 * x*0.5+0.5, antialiased bicubic resize to clipVisionSize, then (x - mean)/std. Output [n, 3, H', W'].
 */
export function clipVisionPreprocess(frames: Float32Array, n: number, height: number, width: number): ClipVisionPixels {
  const f = Math.fround;
  if (frames.length !== n * 3 * height * width) {
    throw new RangeError(`clipVisionPreprocess: ${frames.length} values for ${n}x3x${height}x${width}`);
  }
  const unit = Float32Array.from(frames, (v) => f(f(v * 0.5) + 0.5));
  const [outH, outW] = clipVisionSize(height, width);
  const resized = resizeBicubicAntialias(unit, n * 3, height, width, outH, outW);
  const plane = outH * outW;
  const mean = CLIP_MEAN.map(f);
  const std = CLIP_STD.map(f);
  for (let i = 0; i < n * 3; i++) {
    const c = i % 3;
    for (let p = i * plane; p < (i + 1) * plane; p++) resized[p] = f(f(resized[p]! - mean[c]!) / std[c]!);
  }
  return { data: resized, height: outH, width: outW };
}

/** [3, t, h, w] (c t h w of one video) -> [t, 3, h, w] ((b t) c h w with b = 1). */
export function videoToFrameBatch(video: Float32Array, frames: number, height: number, width: number): Float32Array {
  const plane = height * width;
  const out = new Float32Array(video.length);
  for (let c = 0; c < 3; c++) {
    for (let t = 0; t < frames; t++) out.set(video.subarray((c * frames + t) * plane, (c * frames + t + 1) * plane), (t * 3 + c) * plane);
  }
  return out;
}
