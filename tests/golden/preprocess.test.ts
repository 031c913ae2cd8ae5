/**
 * The `preprocess` golden case: resize_and_center_crop (OpenCV INTER_AREA), find_best_bucket, and the
 * WD14 tagger input and tag formatting. The manifest says "exact" (allowing a reimplemented resampler to be off
 * by 1 at a few pixels); both resamplers here are held to exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { RgbImage } from '../../engine/src/core/image.js';
import { findBestBucket, resizeAndCenterCrop } from '../../models/src/preprocess/resize.js';
import { formatTags, parseTagCsv, wd14Input } from '../../models/src/tagger/wd14.js';
import { casesOf, loadManifest, openCase, shapeOf } from './golden.js';

const manifest = loadManifest();

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

const TagStrings = z.record(z.string(), z.string());

for (const [name, c] of casesOf(manifest, 'preprocess')) {
  const t = openCase(c);
  const wdInputs = Object.keys(c.inputs).filter((k) => k.startsWith('in_wd_'));
  for (const input of wdInputs) {
    const key = input.replace(/^in_/, '');
    test(`${name}: WD14 tagger input ${key} (white pad, Pillow LANCZOS, BGR)`, () => {
      const outShape = shapeOf(c, `out_${key}_bgr`);
      const size = outShape[0] ?? 0;
      const got = wd14Input(image(t.uint8(input), shapeOf(c, input)), size);
      const want = t.uint8(`out_${key}_bgr`);
      const off = want.reduce((n, v, i) => n + (v === got[i] ? 0 : 1), 0);
      assert.equal(off, 0, `${name} ${key}: ${off} of ${want.length} values differ`);
      assert.ok(got.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    });
  }
  const tagStrings = TagStrings.parse(c.wd14_tag_strings ?? {});
  const stub = typeof c.wd14_stub_note === 'string' ? c.wd14_stub_note : undefined;
  if (Object.keys(tagStrings).length > 0) {
    test(`${name}: WD14 tag selection and formatting`, () => {
      assert.ok(stub, 'the case has tag strings but no wd14_stub_note describing the stand-in model');
      // "fixed probabilities [..] for a 6-row tag CSV (name:category; ...)".
      const probs = JSON.parse(/probabilities (\[[^\]]*\])/.exec(stub)?.[1] ?? 'null') as number[] | null;
      const csvRows = /tag CSV \((.*?)\); thresholds/.exec(stub)?.[1];
      assert.ok(probs && csvRows, 'cannot read the stub probabilities / CSV rows from wd14_stub_note');
      const rows = csvRows.split(';').map((cell) => {
        const at = cell.trim().lastIndexOf(':');
        return { name: cell.trim().slice(0, at), category: cell.trim().slice(at + 1) };
      });
      const csv = ['tag_id,name,category,count', ...rows.map((r, i) => `${i},${r.name},${r.category},1`)].join('\n');
      const got = formatTags(parseTagCsv(csv), probs);
      for (const want of Object.values(tagStrings)) assert.equal(got, want);
    });
  }
}
