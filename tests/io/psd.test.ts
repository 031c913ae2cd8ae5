import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
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
import { LAYERS_MANIFEST_FILE, parseLayersManifest } from '../../engine/src/client/layers-manifest.js';

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

test('layer PNGs: one file per layer, the composite and the manifest of how they stack; each PNG with provenance naming its layer', async () => {
  const folder = join(dir, 'pngs');
  const files = await writeLayerPngs(folder, stack, testCard(W, H), provenance);
  assert.deepEqual(readdirSync(folder).sort(), ['01-flats.png', '02-shading.png', '03-sketch.png', 'composite.png', 'layers.json']);
  assert.equal(files.length, 5);
  const parsed = parseLayersManifest(readFileSync(join(folder, LAYERS_MANIFEST_FILE), 'utf8'));
  assert.ok('manifest' in parsed, JSON.stringify(parsed));
  const manifest = parsed.manifest;
  assert.deepEqual(
    manifest.layers.map((l) => [l.file, l.id, l.name, l.blend, l.visible]),
    [
      ['01-flats.png', 'flats', 'Flat colours', 'normal', true],
      ['02-shading.png', 'shading', 'Shading', 'multiply', true],
      ['03-sketch.png', 'sketch', 'Sketch', 'normal', false],
    ],
  );
  assert.deepEqual([manifest.width, manifest.height, manifest.composite, manifest.backend, manifest.backendVersion, manifest.seed], [W, H, 'composite.png', 'classic', '3.1.4', 99]);
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

/** Another picture's process: other layers, so other file names. */
const painterly: LayerStack = {
  width: W,
  height: H,
  layers: [
    { id: 'layin', name: 'Lay-in', blend: 'normal', visible: true, image: layer([90, 120, 200, 255], [0, 0, W, H]) },
    { id: 'sketch', name: 'Sketch', blend: 'multiply', visible: false, image: layer([60, 60, 60, 255], [2, 2, 6, 30]) },
  ],
};

test("a layer PNG export into an earlier one's folder replaces it whole: the earlier export's other layer files go, the user's own files stay", async () => {
  const folder = join(dir, 'reused');
  await writeLayerPngs(folder, stack, testCard(W, H), provenance);
  writeFileSync(join(folder, 'notes.txt'), 'mine');
  writeFileSync(join(folder, '07-mine.png'), 'a file of the user, named like a layer');
  await writeLayerPngs(folder, painterly, testCard(W, H, 3), provenance);
  assert.deepEqual(readdirSync(folder).sort(), ['01-layin.png', '02-sketch.png', '07-mine.png', 'composite.png', 'layers.json', 'notes.txt']);
  const parsed = parseLayersManifest(readFileSync(join(folder, LAYERS_MANIFEST_FILE), 'utf8'));
  assert.ok('manifest' in parsed);
  assert.deepEqual(parsed.manifest.layers.map((l) => l.file), ['01-layin.png', '02-sketch.png']);
});

test('a layer PNG export cancelled after it removed the earlier export\'s layers puts them back', async () => {
  const folder = join(dir, 'reused-cancel');
  await writeLayerPngs(folder, stack, testCard(W, H), provenance);
  const before = new Map(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name))]));
  // Cancelled once everything is written and the earlier layers are removed, just before the commit.
  const controller = new AbortController();
  const cancelling: LayerStack = { ...painterly, get width() { return W; } };
  const files = await import('../../engine/src/io/atomic.js');
  const remove = files.FileSet.prototype.remove;
  files.FileSet.prototype.remove = async function (this: InstanceType<typeof files.FileSet>, path: string) {
    const removed = await remove.call(this, path);
    controller.abort();
    return removed;
  };
  try {
    const error = await rejection(() => writeLayerPngs(folder, cancelling, testCard(W, H, 3), provenance, controller.signal));
    assert.equal(error instanceof PaintsUndoError && error.code, 'CANCELLED');
  } finally {
    files.FileSet.prototype.remove = remove;
  }
  assert.deepEqual(readdirSync(folder).sort(), [...before.keys()].sort());
  for (const [name, bytes] of before) assert.ok(readFileSync(join(folder, name)).equals(bytes), `${name} is the earlier export's`);
});

test('a manifest that is not one removes nothing: a broken or hostile one is replaced, a FIFO or folder in its place is refused without a hang', async () => {
  const cases: [string, (path: string) => void][] = [
    ['not JSON', (path) => writeFileSync(path, '{ not json')],
    ['a path outside the folder', (path) => writeFileSync(path, JSON.stringify({ format: 'paints-undo-layers', version: 1, width: W, height: H, layers: [{ file: '../victim.png', id: 'x', name: 'X', blend: 'normal', visible: true }], composite: 'composite.png', backend: 'classic', backendVersion: '1', seed: 1 }))],
    ['a FIFO', (path) => execFileSync('mkfifo', [path])],
    ['a folder', (path) => mkdirSync(path)],
  ];
  for (const [what, make] of cases) {
    const root = join(dir, `hostile-${what.replace(/\W+/g, '-')}`);
    const folder = join(root, 'out');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(root, 'victim.png'), 'keep me');
    writeFileSync(join(folder, '01-flats.png'), 'a file of the user');
    make(join(folder, LAYERS_MANIFEST_FILE));
    const attempt = writeLayerPngs(folder, painterly, testCard(W, H), provenance);
    if (what === 'a FIFO' || what === 'a folder') {
      // Never read from (a FIFO would block) nor replaced: the export fails as any blocked output does, and leaves nothing of its own.
      const error = await rejection(() => attempt);
      assert.equal(error instanceof PaintsUndoError && error.code, 'OUTPUT_NOT_WRITABLE', what);
      assert.deepEqual(readdirSync(folder).sort(), ['01-flats.png', LAYERS_MANIFEST_FILE], what);
    } else {
      await attempt;
      assert.ok(existsSync(join(folder, '01-layin.png')), what);
    }
    assert.equal(readFileSync(join(folder, '01-flats.png'), 'utf8'), 'a file of the user', what);
    assert.equal(readFileSync(join(root, 'victim.png'), 'utf8'), 'keep me', what);
  }
});
