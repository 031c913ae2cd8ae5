import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clipVisionPreprocess,
  clipVisionSize,
  findBestBucket,
  MF_BUCKETS,
} from '../../models/src/multi-frame/preprocess.js';
import { assertClose, casesOf, loadManifest, openCase, shapeOf, toleranceFor } from './golden.js';

const manifest = loadManifest();

/** u8 NHWC frames -> [n, 3, h, w] in [-1, 1] (numpy2pytorch, float32). */
function u8FramesToNchw(data: Uint8Array, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n * 3 * h * w);
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < h * w; p++) {
      for (let c = 0; c < 3; c++) {
        out[((t * 3 + c) * h * w) + p] = Math.fround(Math.fround(data[(t * h * w + p) * 3 + c]! / 127.5) - 1);
      }
    }
  }
  return out;
}

for (const [name, goldenCase] of casesOf(manifest, 'mf_clip_vision')) {
  const tensors = openCase(goldenCase);
  for (const output of Object.keys(goldenCase.outputs).filter((o) => o.startsWith('out_preprocessed_frame0_'))) {
    const size = output.replace('out_preprocessed_frame0_', '');
    test(`${name}: ${output} (antialiased bicubic to the 16-patch short side, CLIP mean/std)`, () => {
      const [n, h, w] = shapeOf(goldenCase, `in_frames_u8_${size}`) as [number, number, number];
      const frames = u8FramesToNchw(tensors.uint8(`in_frames_u8_${size}`), n, h, w);
      const pixels = clipVisionPreprocess(frames.subarray(0, 3 * h * w), 1, h, w);
      assert.deepEqual([1, 3, pixels.height, pixels.width], shapeOf(goldenCase, output));
      assertClose(pixels.data, tensors.float32(output), toleranceFor(goldenCase, output), output);
    });
  }
}

for (const [name, goldenCase] of casesOf(manifest, 'preprocess')) {
  test(`${name}: find_best_bucket over the multi-frame buckets`, () => {
    const tensors = openCase(goldenCase);
    const input = Array.from(tensors.int64('in_bucket_hw'), Number);
    const want = Array.from(tensors.int64('out_bucket_best_hw'), Number);
    for (let i = 0; i < input.length; i += 2) {
      assert.deepEqual([...findBestBucket(input[i]!, input[i + 1]!, MF_BUCKETS)], want.slice(i, i + 2), `(h, w) = ${input[i]}, ${input[i + 1]}`);
    }
  });
}

test('clipVisionSize: short side 16 patches of 14 px, Python half-even rounding', () => {
  assert.deepEqual(clipVisionSize(320, 512), [224, 364]);
  assert.deepEqual(clipVisionSize(448, 384), [266, 224]);
  // 41/2 = 20.5 rounds to 20 (even), 43/2 = 21.5 to 22 (even).
  assert.deepEqual(clipVisionSize(32, 41), [224, 280]);
  assert.deepEqual(clipVisionSize(32, 43), [224, 308]); // 21.5 -> 22 (even)
});
