import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { addPngText, encodePng, keyframeFileName, readPngText, PROVENANCE_KEYWORD } from '../../engine/src/io/png.js';
import { engineVersion, makeProvenance } from '../../engine/src/io/provenance.js';
import { readFileSync } from 'node:fs';
import { pngChunkNames, testCard } from './helpers.js';

const provenance = makeProvenance({ backend: 'classic', backendVersion: '1.2.0', seed: 7, source: 'a'.repeat(64), step: 400 });

test('PNG exports carry provenance text chunks and the exact pixels', async () => {
  const image = testCard(33, 21);
  const png = await encodePng(image, provenance);
  const names = pngChunkNames(png);
  assert.equal(names[0], 'IHDR');
  assert.equal(names.at(-1), 'IEND');
  assert.ok(names.indexOf('tEXt') < names.indexOf('IEND'));

  const text = readPngText(png);
  assert.equal(text.get('Software'), `paints-undo ${engineVersion()}`);
  assert.match(text.get('Description') ?? '', /^Generated reconstruction .*not a recording.*backend classic 1\.2\.0, seed 7, step 400\./);
  const json = JSON.parse(text.get(PROVENANCE_KEYWORD) ?? '{}') as Record<string, unknown>;
  assert.deepEqual(json, { ...provenance });
  assert.equal(json['kind'], 'generated-reconstruction');

  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 33);
  assert.equal(info.channels, 3);
  assert.deepEqual(new Uint8Array(data), image.data);
});

test('addPngText round-trips UTF-8 and refuses bad keywords', async () => {
  const png = await encodePng(testCard(4, 4));
  const out = addPngText(png, [{ keyword: 'Comment', text: 'ラベル — label', international: true }]);
  assert.equal(readPngText(out).get('Comment'), 'ラベル — label');
  assert.throws(() => addPngText(png, [{ keyword: '', text: 'x' }]), /invalid PNG text keyword/);
  assert.throws(() => addPngText(png, [{ keyword: 'k'.repeat(80), text: 'x' }]), /invalid PNG text keyword/);
});

test('addPngText splices before the final IEND, and still handles a PNG with bytes after IEND', async () => {
  const png = await encodePng(testCard(8, 6));
  const entries = [{ keyword: 'Software', text: 'x' }];
  const fast = addPngText(png, entries);
  assert.deepEqual(pngChunkNames(fast).slice(-2), ['tEXt', 'IEND']);
  assert.equal(fast.length, png.length + 12 + 'Software'.length + 1 + 1);
  // Trailing garbage after IEND (some tools append data): the chunk-by-chunk path puts the text before IEND.
  const trailing = new Uint8Array([...png, 1, 2, 3]);
  const slow = addPngText(trailing, entries);
  assert.deepEqual(pngChunkNames(slow).slice(-2), ['tEXt', 'IEND']);
  for (const out of [fast, slow]) {
    assert.equal(readPngText(out).get('Software'), 'x');
    const { info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [8, 6]);
  }
});

test('keyframe names sort by step', () => {
  assert.equal(keyframeFileName(400), 'step-0400.png');
  assert.equal(keyframeFileName(0), 'step-0000.png');
  assert.equal(keyframeFileName(999), 'step-0999.png');
});

test('engineVersion is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(engineVersion(), pkg.version);
});
