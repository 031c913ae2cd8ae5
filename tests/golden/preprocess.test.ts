/**
 * The `preprocess` golden case: resize_and_center_crop (OpenCV INTER_AREA), find_best_bucket, and the
 * WD14 tagger input and tag formatting. The manifest says "exact" and allows a reimplemented resampler to be
 * off by 1 at a few pixels; resize_and_center_crop is held to exact, the Pillow LANCZOS path to that allowance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { RgbImage } from '../../engine/src/core/image.js';
import { findBestBucket, resizeAndCenterCrop } from '../../models/src/preprocess/resize.js';
import { casesOf, loadManifest, openCase, shapeOf } from './golden.js';

const manifest = loadManifest();

export function assertPixelsNear(got: Uint8Array, want: Uint8Array, label: string): void {
  assert.equal(got.length, want.length, `${label}: length`);
  let off = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs((got[i] ?? 0) - (want[i] ?? 0));
    if (d > 0) off++;
    worst = Math.max(worst, d);
  }
  assert.ok(worst <= 1, `${label}: a value differs by ${worst}`);
  assert.ok(off <= want.length / 100, `${label}: ${off} of ${want.length} values differ by 1`);
}

function image(data: Uint8Array, shape: number[]): RgbImage {
  const [height, width, channels] = shape;
  assert.equal(channels, 3);
  return { width: width ?? 0, height: height ?? 0, channels: 3, data };
}

const RcCases = z.array(z.object({ name: z.string(), target_width: z.number().int(), target_height: z.number().int() }));

for (const [name, c] of casesOf(manifest, 'preprocess')) {
  const t = openCase(c);
  for (const rc of RcCases.parse(c.resize_and_center_crop_cases ?? [])) {
    test(`${name}: resize_and_center_crop ${rc.name} -> ${rc.target_width}x${rc.target_height}`, () => {
      const src = image(t.uint8(`in_rc_${rc.name}`), shapeOf(c, `in_rc_${rc.name}`));
      const got = resizeAndCenterCrop(src, rc.target_width, rc.target_height);
      assert.deepEqual([got.height, got.width, 3], shapeOf(c, `out_rc_${rc.name}`));
      const want = t.uint8(`out_rc_${rc.name}`);
      const off = want.reduce((n, v, i) => n + (v === got.data[i] ? 0 : 1), 0);
      assert.equal(off, 0, `${name} ${rc.name}: ${off} of ${want.length} values differ`);
    });
  }
  if ('in_bucket_hw' in c.inputs) {
    test(`${name}: find_best_bucket`, () => {
      const options = z.array(z.tuple([z.number(), z.number()])).parse(c.bucket_options ?? [[320, 512], [384, 448], [448, 384], [512, 320]]);
      const hw = Array.from(t.int64('in_bucket_hw'), Number);
      const want = Array.from(t.int64('out_bucket_best_hw'), Number);
      for (let i = 0; i < hw.length / 2; i++) {
        assert.deepEqual(findBestBucket(hw[2 * i] ?? 0, hw[2 * i + 1] ?? 0, options), [want[2 * i], want[2 * i + 1]], `pair ${i}`);
      }
    });
  }
}
