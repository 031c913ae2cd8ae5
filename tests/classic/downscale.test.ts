/**
 * The plan image from the input (classic/raster/downscale.ts): per plan pixel, the average of the input
 * pixels it covers and the darkest channel among them, in one pass, equal to a plain per-pixel count,
 * whether the input is read four pixels to three words (at a 4-byte boundary) or byte by byte.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downscaleWithDarkest, downscaleWithDetail } from '../../engine/src/backends/classic/raster.js';
import type { RgbImage } from '../../engine/src/core/image.js';
import { Rng } from '../../engine/src/backends/classic/rng.js';

/** Light noise with a few dark hairline pixels: what an average hides and `darkest` must not. */
function image(width: number, height: number): RgbImage {
  const rng = new Rng(11);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = 230 + Math.floor(rng.next() * 26);
  for (let k = 0; k < 40; k++) data[(Math.floor(rng.next() * width * height) * 3) + Math.floor(rng.next() * 3)] = Math.floor(rng.next() * 200);
  return { width, height, channels: 3, data };
}

/** Input pixel (x, y) belongs to plan pixel (min(pw - 1, floor(x / scale)), min(ph - 1, floor(y / scale))). */
function bruteForce(img: RgbImage, pw: number, ph: number, scale: number): { r: Float64Array; darkest: Uint8Array } {
  const sum = new Float64Array(pw * ph);
  const count = new Float64Array(pw * ph);
  const darkest = new Uint8Array(pw * ph).fill(255);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = Math.min(ph - 1, Math.floor(y / scale)) * pw + Math.min(pw - 1, Math.floor(x / scale));
      const p = (y * img.width + x) * 3;
      sum[i]! += img.data[p]!;
      count[i]!++;
      darkest[i] = Math.min(darkest[i]!, img.data[p]!, img.data[p + 1]!, img.data[p + 2]!);
    }
  }
  return { r: sum.map((s, i) => s / (count[i] || 1)), darkest };
}

describe('downscale', () => {
  for (const [width, height, pw, ph] of [
    [90, 70, 90, 70],
    [301, 233, 128, 99],
    [640, 480, 160, 120],
    // A whole number of pixels per detail cell (4): every run read as words.
    [1024, 768, 128, 96],
  ] as const) {
    it(`${width}x${height} to ${pw}x${ph}: averages and the darkest channel under each plan pixel`, () => {
      const img = image(width, height);
      const scale = Math.max(width / pw, height / ph);
      const expected = bruteForce(img, pw, ph, scale);
      const results = [downscaleWithDarkest(img, pw, ph, scale), ...(scale > 2 ? [downscaleWithDetail(img, pw, ph, scale)] : [])];
      for (const { plan, darkest } of results) {
        assert.deepEqual(darkest, expected.darkest);
        for (let i = 0; i < pw * ph; i++) assert.ok(Math.abs(plan.r[i]! - expected.r[i]!) < 1e-3, `plan pixel ${i}`);
      }
      assert.ok(expected.darkest.some((v) => v < 200), 'some plan pixel holds a dark hairline pixel');
      if (scale > 2) {
        // The detail image: the input averaged onto a grid twice as fine, rounded to 8 bits.
        const { detail } = downscaleWithDetail(img, pw, ph, scale);
        const fine = bruteForce(img, pw * 2, ph * 2, scale / 2);
        for (let i = 0; i < pw * ph * 4; i++) assert.equal(detail.data[i * 3], Math.floor(Math.fround(fine.r[i]!) + 0.5), `detail pixel ${i}`);
      }
    });
  }

  it('reads pixels off a 4-byte boundary byte by byte, to the same result', () => {
    const img = image(1024, 768);
    const shifted = new Uint8Array(img.data.length + 1);
    shifted.set(img.data, 1);
    const offset: RgbImage = { ...img, data: shifted.subarray(1) };
    const aligned = downscaleWithDetail(img, 128, 96, 8);
    const unaligned = downscaleWithDetail(offset, 128, 96, 8);
    assert.deepEqual(unaligned.plan, aligned.plan);
    assert.deepEqual(unaligned.darkest, aligned.darkest);
    assert.deepEqual(unaligned.detail, aligned.detail);
  });
});
