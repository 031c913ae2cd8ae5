import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { TimelineRenderer } from '../../engine/src/core/renderer.js';
import { contactSheetPng, renderSheetFrames, sheetSteps } from '../../engine/src/eval/sheet.js';
import { readPngText } from '../../engine/src/io/png.js';
import { makeProvenance } from '../../engine/src/io/provenance.js';
import { H, W, finalImage, syntheticTimeline } from './synthetic.js';

test('sheet steps run from blank to finished', () => {
  assert.deepEqual(sheetSteps(4), [999, 666, 333, 0]);
  assert.equal(sheetSteps().length, 16);
});

test('a contact sheet lays the steps out in a labelled grid and says it is a reconstruction', async () => {
  const renderer = new TimelineRenderer(syntheticTimeline('good'));
  const frames = renderSheetFrames(renderer, sheetSteps(6));
  assert.deepEqual(
    frames.map((f) => f.step),
    [999, 799, 599, 400, 200, 0],
  );
  const provenance = makeProvenance({ backend: 'synthetic', backendVersion: '1', seed: 1, source: 'a'.repeat(64) });
  const png = await contactSheetPng(frames, { columns: 3, thumbSize: W, title: 'synthetic grid', provenance });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  // 3 columns x 2 rows of 128x96 thumbnails with 8 px gaps, 20 px labels and a 28 px title.
  assert.equal(info.width, 8 + 3 * (W + 8));
  assert.equal(info.height, 28 + 8 + 2 * (H + 20 + 8));
  const at = (x: number, y: number): number[] => {
    const p = (y * info.width + x) * info.channels;
    return [data[p]!, data[p + 1]!, data[p + 2]!];
  };
  // First cell (step 999) is blank paper; the last (step 0) is the finished image, pixel for pixel at this size.
  assert.deepEqual(at(8 + 20, 36 + 20), [255, 255, 255]);
  const final = finalImage();
  const lastLeft = 8 + 2 * (W + 8);
  const lastTop = 36 + (H + 28);
  for (const [x, y] of [[20, 20], [100, 40], [6, 6]] as const) {
    const p = (y * W + x) * 3;
    assert.deepEqual(at(lastLeft + x, lastTop + y), [final.data[p]!, final.data[p + 1]!, final.data[p + 2]!], `pixel ${x},${y}`);
  }
  // The label band under the first cell has dark text pixels; the gap between cells stays background.
  let dark = 0;
  for (let y = 36 + H; y < 36 + H + 20; y++) for (let x = 8; x < 8 + W; x++) if (at(x, y)[0]! < 128) dark++;
  assert.ok(dark > 20, `label pixels ${dark}`);
  assert.deepEqual(at(8 + W + 4, 60), [236, 236, 236]);
  const text = readPngText(png);
  assert.match(text.get('Description') ?? '', /[Gg]enerated reconstruction/);
});

test('a contact sheet needs a frame', async () => {
  await assert.rejects(contactSheetPng([]), /at least one frame/);
});
