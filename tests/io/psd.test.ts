import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { LayerStack } from '../../engine/src/core/backend.js';
import { readPsd } from '../../engine/src/io/ag-psd.js';
import { encodeLayeredPsd, layerFileName, writeLayerPngs, PROVENANCE_LAYER_PREFIX } from '../../engine/src/io/psd.js';
import { readPngText, PROVENANCE_KEYWORD } from '../../engine/src/io/png.js';
import { makeProvenance } from '../../engine/src/io/provenance.js';
import { createRgba, type RgbaImage } from '../../engine/src/core/image.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { rejection, tempFolder, testCard } from './helpers.js';

const dir = tempFolder();
const W = 48;
const H = 32;
const provenance = makeProvenance({ backend: 'classic', backendVersion: '3.1.4', seed: 99, source: 'c'.repeat(64) });

function layer(fill: [number, number, number, number], rect: [number, number, number, number]): RgbaImage {
  const image = createRgba(W, H);
  const [x0, y0, x1, y1] = rect;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) image.data.set(fill, (y * W + x) * 4);
  return image;
}

const stack: LayerStack = {
  width: W,
  height: H,
  layers: [
    { id: 'flats', name: 'Flat colours', blend: 'normal', visible: true, image: layer([200, 150, 100, 255], [0, 0, W, H]) },
    { id: 'shading', name: 'Shading', blend: 'multiply', visible: true, image: layer([120, 120, 160, 128], [10, 5, 30, 20]) },
    { id: 'sketch', name: 'Sketch', blend: 'normal', visible: false, image: layer([60, 60, 60, 255], [2, 2, 6, 30]) },
  ],
};

test('layered PSD: names, blend modes, visibility, pixels, composite and provenance read back with ag-psd', async () => {
  const composite = testCard(W, H);
  const bytes = await encodeLayeredPsd(stack, composite, provenance);
  const psd = readPsd(bytes, { useImageData: true });
  assert.equal(psd.width, W);
  assert.equal(psd.height, H);
  const children = psd.children ?? [];
  assert.deepEqual(
    children.map((c) => [c.name, c.blendMode, c.hidden ?? false]),
    [
      ['Flat colours', 'normal', false],
      ['Shading', 'multiply', false],
      ['Sketch', 'normal', true],
      [`${PROVENANCE_LAYER_PREFIX} by paints-undo (classic 3.1.4, seed 99) - not a recording`, 'normal', true],
    ],
  );
  // Layers are trimmed to their content; pixels sit at (left, top).
  const shading = children[1]!;
  assert.deepEqual([shading.left, shading.top, shading.right, shading.bottom], [10, 5, 30, 20]);
  const data = shading.imageData!.data;
  assert.deepEqual([...data.subarray(0, 4)], [120, 120, 160, 128]);

  const merged = psd.imageData!;
  assert.equal(merged.width, W);
  for (let i = 0; i < W * H; i += 97) {
    assert.deepEqual([...merged.data.subarray(i * 4, i * 4 + 3)], [...composite.data.subarray(i * 3, i * 3 + 3)]);
  }
  const xmp = psd.imageResources?.xmpMetadata ?? '';
  assert.match(xmp, /Generated reconstruction of a possible drawing process/);
  assert.match(xmp, /generated-reconstruction/);

  // The exported file is also readable by the engine's own decoder (round trip as an input).
  const path = join(dir, 'layers.psd');
  writeFileSync(path, bytes);
  const { decodeImageFile } = await import('../../engine/src/io/decode.js');
  const decoded = await decodeImageFile(path);
  assert.deepEqual(decoded.source.image.data, composite.data);
});

test('layer PNGs: one file per layer plus the composite, each with provenance naming its layer', async () => {
  const folder = join(dir, 'pngs');
  const files = await writeLayerPngs(folder, stack, testCard(W, H), provenance);
  assert.deepEqual(readdirSync(folder).sort(), ['01-flats.png', '02-shading.png', '03-sketch.png', 'composite.png']);
  assert.equal(files.length, 4);
  const shading = readFileSync(join(folder, '02-shading.png'));
  const meta = JSON.parse(readPngText(shading).get(PROVENANCE_KEYWORD) ?? '{}') as Record<string, unknown>;
  assert.equal(meta['layer'], 'Shading');
  assert.equal(meta['kind'], 'generated-reconstruction');
  const { data, info } = await sharp(shading).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4, 'layers keep their alpha');
  assert.deepEqual([...data.subarray((10 * W + 20) * 4, (10 * W + 20) * 4 + 4)], [120, 120, 160, 128]);
  assert.equal(layerFileName(0, 'Line Art!'), '01-line-art.png');
});

test('a layer PNG export that fails part way into an earlier export leaves that export as it was', async () => {
  const folder = join(dir, 'again');
  await writeLayerPngs(folder, stack, testCard(W, H), provenance);
  const before = new Map(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name))]));
  // Cancelled once the first layer of the new export is written over the earlier one.
  const controller = new AbortController();
  const changed = { ...stack, layers: stack.layers.map((l, i) => (i === 1 ? { ...l, get image() { controller.abort(); return l.image; } } : l)) };
  const error = await rejection(() => writeLayerPngs(folder, changed, testCard(W, H, 9), { ...provenance, seed: 99 }, controller.signal));
  assert.equal(error instanceof PaintsUndoError && error.code, 'CANCELLED');
  assert.deepEqual(readdirSync(folder).sort(), [...before.keys()].sort());
  for (const [name, bytes] of before) assert.ok(readFileSync(join(folder, name)).equals(bytes), `${name} is the earlier export's`);
});

test('layer PNG export cancelled halfway removes what it wrote', async () => {
  const folder = join(dir, 'cancel');
  const controller = new AbortController();
  controller.abort();
  const error = await rejection(() => writeLayerPngs(folder, stack, testCard(W, H), provenance, controller.signal));
  assert.ok(error instanceof PaintsUndoError);
  assert.equal(error.code, 'CANCELLED');
  assert.deepEqual(readdirSync(folder), []);
});
