/**
 * The plan blurs (classic/raster/filters.ts) and plane quantiles (raster/planes.ts): their fast loops
 * (several pixels at a time, clamping only at the ends, selection instead of a sort) give exactly the
 * numbers of the plain definitions written out here, at every size including planes narrower than the
 * kernel, so that speeding them up never changes a plan.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxBlur, gaussianBlur, planeQuantile } from '../../engine/src/backends/classic/raster.js';
import { Rng } from '../../engine/src/backends/classic/rng.js';

function plane(width: number, height: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: width * height }, () => (rng.next() < 0.2 ? 0 : rng.next() * 255));
}

const clamp = (v: number, last: number): number => (v < 0 ? 0 : v > last ? last : v);

/** Kernel taps exp(-i^2 / 2 sigma^2) over |i| <= ceil(3 sigma), kept in float32, over their sum. */
function kernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((a, b) => a + b, 0);
  return Float32Array.from(taps).map((v) => v / sum);
}

/**
 * Rows then columns, edges clamped: each row tap summed in double precision and stored as float32; each
 * column tap added into the float32 result in tap order.
 */
function plainGaussian(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const k = kernel(sigma);
  const radius = (k.length - 1) / 2;
  const tmp = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = -radius; t <= radius; t++) acc += src[y * width + clamp(x + t, width - 1)]! * k[t + radius]!;
      tmp[y * width + x] = acc;
    }
  }
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let t = -radius; t <= radius; t++) out[y * width + x]! += tmp[clamp(y + t, height - 1) * width + x]! * k[t + radius]!;
    }
  }
  return out;
}

/** A window of 2r + 1 pixels, edges clamped, kept as a running sum along rows, then down columns in double precision. */
function plainBox(src: Float32Array, width: number, height: number, r: number): Float32Array {
  const win = 2 * r + 1;
  const tmp = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    let acc = 0;
    for (let t = -r; t <= r; t++) acc += src[y * width + clamp(t, width - 1)]!;
    for (let x = 0; x < width; x++) {
      tmp[y * width + x] = acc / win;
      acc += src[y * width + clamp(x + r + 1, width - 1)]! - src[y * width + clamp(x - r, width - 1)]!;
    }
  }
  const out = new Float32Array(src.length);
  for (let x = 0; x < width; x++) {
    let acc = 0;
    for (let t = -r; t <= r; t++) acc += tmp[clamp(t, height - 1) * width + x]!;
    for (let y = 0; y < height; y++) {
      out[y * width + x] = acc / win;
      acc += tmp[clamp(y + r + 1, height - 1) * width + x]! - tmp[clamp(y - r, height - 1) * width + x]!;
    }
  }
  return out;
}

const SIZES: readonly (readonly [number, number])[] = [
  [1, 1],
  [2, 3],
  [1, 9],
  [9, 1],
  [4, 4],
  [7, 5],
  [13, 2],
  [19, 23],
  [41, 17],
  [130, 97],
];

describe('plan blurs', () => {
  it('the Gaussian blur gives the plain separable sums exactly, at every size and kernel width', () => {
    let seed = 1;
    for (const [width, height] of SIZES) {
      for (const sigma of [0.5, 0.7, 1, 1.8, 2.9, 3]) {
        const src = plane(width, height, seed++);
        assert.deepEqual(gaussianBlur(src, width, height, sigma), plainGaussian(src, width, height, sigma), `${width}x${height}, sigma ${sigma}`);
      }
    }
  });

  it('a wide Gaussian is three box blurs of the same variance', () => {
    const src = plane(64, 48, 5);
    const sigma = 8;
    const r = Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2);
    const boxes = plainBox(plainBox(plainBox(src, 64, 48, r), 64, 48, r), 64, 48, r);
    assert.deepEqual(gaussianBlur(src, 64, 48, sigma), boxes);
  });

  it('the box blur gives the plain clamped running sums exactly, including windows wider than the plane', () => {
    let seed = 100;
    for (const [width, height] of SIZES) {
      for (const r of [1, 2, 5, 12, 40]) {
        const src = plane(width, height, seed++);
        assert.deepEqual(boxBlur(src, width, height, r), plainBox(src, width, height, r), `${width}x${height}, r ${r}`);
      }
    }
  });
});

describe('plane quantiles', () => {
  it('are the value at that rank of the sorted values, and leave the plane as it was', () => {
    for (const [length, seed] of [
      [1, 1],
      [2, 2],
      [10, 3],
      [1001, 4],
      [50_000, 5],
    ] as const) {
      const values = plane(length, 1, seed);
      const before = values.slice();
      const sorted = values.slice().sort();
      for (const q of [0, 0.1, 0.5, 0.91, 0.999, 1]) {
        assert.equal(planeQuantile(values, q), sorted[Math.min(length - 1, Math.floor(length * q))], `${length} values, q ${q}`);
      }
      assert.deepEqual(values, before);
    }
  });
});
