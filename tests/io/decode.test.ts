import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writePsdUint8Array } from 'ag-psd';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { decodeImageBuffer, decodeImageFile, imageId, sourceFromRgb, sourceFromRgba } from '../../engine/src/io/decode.js';
import { SAMPLES, bombPng, rejection, tempFolder } from './helpers.js';

const dir = tempFolder();

async function expectCode(promise: () => Promise<unknown>, code: string, message?: RegExp): Promise<PaintsUndoError> {
  const error = await rejection(promise);
  assert.ok(error instanceof PaintsUndoError, `expected PaintsUndoError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  assert.ok(error.hint && error.hint.length > 10, 'every input error says what to do');
  return error;
}

test('decodes a sample JPEG into RGB with a stable content id', async () => {
  const a = await decodeImageFile(join(SAMPLES, '1.jpg'));
  const b = await decodeImageFile(join(SAMPLES, '1.jpg'));
  const meta = await sharp(join(SAMPLES, '1.jpg')).metadata();
  assert.equal(a.format, 'jpeg');
  assert.equal(a.source.image.width, meta.autoOrient.width);
  assert.equal(a.source.image.height, meta.autoOrient.height);
  assert.equal(a.source.image.data.length, a.source.image.width * a.source.image.height * 3);
  assert.match(a.source.id, /^[0-9a-f]{64}$/);
  assert.equal(a.source.id, b.source.id);
  assert.equal(a.source.alpha, undefined, 'a JPEG has no transparency');
  const other = await decodeImageFile(join(SAMPLES, '2.jpg'));
  assert.notEqual(other.source.id, a.source.id);
});

test('the id covers width, height and pixels', () => {
  const data = new Uint8Array(4 * 6).fill(255);
  const wide = imageId({ width: 3, height: 2, channels: 4, data });
  const tall = imageId({ width: 2, height: 3, channels: 4, data });
  assert.notEqual(wide, tall);
  const changed = data.slice();
  changed[5] = 0;
  assert.notEqual(imageId({ width: 3, height: 2, channels: 4, data: changed }), wide);
});

test('transparency is flattened onto white and the alpha is kept', async () => {
  const rgba = Buffer.alloc(32 * 32 * 4);
  for (let p = 0; p < 32 * 32; p++) {
    rgba[p * 4] = 200;
    rgba[p * 4 + 1] = 0;
    rgba[p * 4 + 2] = 0;
    rgba[p * 4 + 3] = p < 32 * 16 ? 0 : p < 32 * 24 ? 128 : 255;
  }
  const png = await sharp(rgba, { raw: { width: 32, height: 32, channels: 4 } }).png().toBuffer();
  const { source } = await decodeImageBuffer(png);
  assert.ok(source.alpha);
  assert.equal(source.alpha.length, 32 * 32);
  assert.equal(source.alpha[0], 0);
  assert.equal(source.alpha[32 * 20], 128);
  assert.deepEqual([...source.image.data.subarray(0, 3)], [255, 255, 255], 'fully transparent is white paper');
  const half = 32 * 20 * 3;
  assert.deepEqual([...source.image.data.subarray(half, half + 3)], [227, 127, 127], '50% red over white: round((200*128 + 255*127) / 255) = 227');
  const opaque = 32 * 30 * 3;
  assert.deepEqual([...source.image.data.subarray(opaque, opaque + 3)], [200, 0, 0]);
});

test('an opaque RGBA PNG has no alpha', async () => {
  const png = await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 1 } } }).png().toBuffer();
  const { source } = await decodeImageBuffer(png);
  assert.equal(source.alpha, undefined);
  assert.deepEqual([...source.image.data.subarray(0, 3)], [10, 20, 30]);
});

test('greyscale, 16-bit and palette PNGs are converted to 8-bit RGB', async () => {
  const grey = await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 90, g: 90, b: 90 } } }).toColourspace('b-w').png().toBuffer();
  assert.equal((await sharp(grey).metadata()).channels, 1);
  const g = await decodeImageBuffer(grey);
  assert.deepEqual([...g.source.image.data.subarray(0, 3)], [90, 90, 90]);

  const sixteen = await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 255, g: 128, b: 0 } } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  assert.equal((await sharp(sixteen).metadata()).depth, 'ushort');
  const s = await decodeImageBuffer(sixteen);
  const [r, gg, b] = s.source.image.data;
  assert.equal(r, 255);
  assert.ok(Math.abs(gg! - 128) <= 1, `green ${gg}`);
  assert.equal(b, 0);
  assert.ok(s.notices.includes('Converted 16-bit samples to 8-bit.'), s.notices.join(' | '));

  const palette = await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 0, g: 102, b: 204 } } })
    .png({ palette: true, colours: 4 })
    .toBuffer();
  assert.equal((await sharp(palette).metadata()).isPalette, true);
  const p = await decodeImageBuffer(palette);
  assert.deepEqual([...p.source.image.data.subarray(0, 3)], [0, 102, 204]);
});

test('CMYK JPEGs are converted to sRGB', async () => {
  const cmyk = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 220, g: 30, b: 30 } } })
    .toColourspace('cmyk')
    .jpeg({ quality: 95 })
    .toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const { source, notices } = await decodeImageBuffer(cmyk);
  const [r, g, b] = source.image.data;
  assert.ok(r! > 170 && g! < 90 && b! < 90, `expected red, got ${r},${g},${b}`);
  assert.ok(notices.some((n) => /CMYK/.test(n)));
});

test('ICC-tagged (Display P3) images are converted to sRGB', async () => {
  const p3 = await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .withIccProfile('p3')
    .png()
    .toBuffer();
  const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
  assert.ok(stored[1]! > 30, `the file stores P3 values (${[...stored.subarray(0, 3)]})`);
  const { source } = await decodeImageBuffer(p3);
  const [r, g, b] = source.image.data;
  assert.ok(r! >= 253 && g! <= 2 && b! <= 2, `sRGB red expected, got ${r},${g},${b}`);
});

test('EXIF orientation is honoured', async () => {
  // Stored 40x20: left half red, right half blue. Orientation 6 = display rotated 90 degrees clockwise.
  const raw = Buffer.alloc(40 * 20 * 3);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
  const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  const { source, originalWidth, originalHeight } = await decodeImageBuffer(jpeg);
  assert.equal(source.image.width, 20);
  assert.equal(source.image.height, 40);
  assert.equal(originalWidth, 20);
  assert.equal(originalHeight, 40);
  // After a clockwise turn, the stored left (red) half is on top.
  const top = source.image.data.subarray((5 * 20 + 10) * 3, (5 * 20 + 10) * 3 + 3);
  const bottom = source.image.data.subarray((35 * 20 + 10) * 3, (35 * 20 + 10) * 3 + 3);
  assert.ok(top[0]! > 200 && top[2]! < 60, `top should be red, got ${[...top]}`);
  assert.ok(bottom[2]! > 200 && bottom[0]! < 60, `bottom should be blue, got ${[...bottom]}`);
});

test('an animation or a multi-page TIFF: the first frame or page, with a notice saying so', async () => {
  // Three 30x20 pages of different colours, stacked as libvips writes multi-page images.
  const raw = Buffer.alloc(30 * 60 * 3);
  for (let y = 0; y < 60; y++) for (let x = 0; x < 30; x++) raw.set(y < 20 ? [220, 30, 30] : y < 40 ? [30, 220, 30] : [30, 30, 220], (y * 30 + x) * 3);
  const pages = { raw: { width: 30, height: 60, channels: 3 as const, pageHeight: 20 } };
  for (const [format, bytes, noun] of [
    ['gif', await sharp(raw, pages).gif({ loop: 0 }).toBuffer(), 'frames'],
    ['webp', await sharp(raw, pages).webp({ lossless: true, loop: 0 }).toBuffer(), 'frames'],
    ['tiff', await sharp(raw, pages).tiff().toBuffer(), 'pages'],
  ] as const) {
    const { source, notices } = await decodeImageBuffer(bytes);
    assert.equal(source.image.width, 30, format);
    assert.equal(source.image.height, 20, `${format}: one page, not the strip of all three`);
    const [r, g] = source.image.data;
    assert.ok(r! > 150 && g! < 100, `${format}: the first page is red, got ${r},${g}`);
    assert.ok(notices.some((n) => n.includes(`first of 3 ${noun}`)), `${format}: ${notices.join(' | ')}`);
  }
  const still = await decodeImageBuffer(await sharp(raw, { raw: { width: 30, height: 60, channels: 3 } }).png().toBuffer());
  assert.ok(!still.notices.some((n) => n.includes('first of')), still.notices.join(' | '));
});

test('PSD input uses the composite image', async () => {
  const w = 40;
  const h = 30;
  const data = new Uint8ClampedArray(w * h * 4);
  for (let p = 0; p < w * h; p++) data.set([p % w < 20 ? 250 : 10, 100, 50, 255], p * 4);
  const psd = writePsdUint8Array({ width: w, height: h, imageData: { width: w, height: h, data }, children: [] }, { generateThumbnail: false });
  const path = join(dir, 'art.psd');
  writeFileSync(path, psd);
  const decoded = await decodeImageFile(path);
  assert.equal(decoded.format, 'psd');
  assert.equal(decoded.source.image.width, w);
  assert.equal(decoded.source.image.height, h);
  assert.deepEqual([...decoded.source.image.data.subarray(0, 3)], [250, 100, 50]);
  assert.deepEqual([...decoded.source.image.data.subarray(30 * 3, 30 * 3 + 3)], [10, 100, 50]);

  writeFileSync(join(dir, 'cut.psd'), psd.subarray(0, 60));
  await expectCode(() => decodeImageFile(join(dir, 'cut.psd')), 'INPUT_CORRUPT', /PSD/);
});

test('images above 4096 px are downscaled with a notice; tiny ones are refused', async () => {
  const big = await sharp({ create: { width: 4200, height: 64, channels: 3, background: '#336699' } }).png().toBuffer();
  const decoded = await decodeImageBuffer(big);
  assert.equal(decoded.source.image.width, 4096);
  assert.equal(decoded.source.image.height, 62);
  assert.equal(decoded.originalWidth, 4200);
  assert.ok(decoded.notices.some((n) => /Downscaled from 4200x64 to 4096x62/.test(n)));

  const tiny = await sharp({ create: { width: 8, height: 300, channels: 3, background: '#fff' } }).png().toBuffer();
  await expectCode(() => decodeImageBuffer(tiny, { name: 'tiny.png' }), 'INPUT_TOO_SMALL', /tiny\.png is 8x300; the minimum is 16 px/);

  const small = await sharp({ create: { width: 100, height: 80, channels: 3, background: '#fff' } }).png().toBuffer();
  assert.ok((await decodeImageBuffer(small)).notices.some((n) => /look best from 256 px/.test(n)));
});

test('a thin strip that downscaling would take under 16 px is refused before decoding; 256:1 is still accepted', async () => {
  const strip = await sharp({ create: { width: 16, height: 16384, channels: 3, background: '#fff' } }).png().toBuffer();
  await expectCode(
    () => decodeImageBuffer(strip, { name: 'strip.png' }),
    'INPUT_TOO_SMALL',
    /strip\.png is 16x16384; downscaled to the working size \(4096 px on the long side\) it would be 4x4096, under the minimum of 16 px/,
  );
  // Refused from the header: a header-only file declaring the same shape gets the same answer.
  await expectCode(() => decodeImageBuffer(bombPng(12000, 40)), 'INPUT_TOO_SMALL', /12000x40; .* 4096x14, under the minimum/);
  const widest = await sharp({ create: { width: 8192, height: 32, channels: 3, background: '#fff' } }).png().toBuffer();
  const decoded = await decodeImageBuffer(widest);
  assert.deepEqual([decoded.source.image.width, decoded.source.image.height], [4096, 16]);
});

test('decompression bombs and zero-size headers are refused before decoding', async () => {
  const path = join(dir, 'bomb.png');
  writeFileSync(path, bombPng(100_000, 100_000));
  assert.ok(readFileSync(path).length < 100, 'the bomb is a tiny file');
  await expectCode(() => decodeImageFile(path), 'INPUT_TOO_LARGE', /100000x100000 .*It was not decoded/);
  // Just over the pixel limit: enough decimals to see it is over (not "100.0 Mpx; the limit is 100 Mpx").
  await expectCode(() => decodeImageBuffer(bombPng(10_001, 10_000)), 'INPUT_TOO_LARGE', /10001x10000 \(100\.01 Mpx\); the limits are 16384 px on the long side and 100 Mpx/);
  // Long side alone over the limit, pixels under it.
  await expectCode(() => decodeImageBuffer(bombPng(20_000, 100)), 'INPUT_TOO_LARGE', /16384 px/);
  // Zero width or height: a PNG signature with an impossible header is corrupt, not "not an image".
  await expectCode(() => decodeImageBuffer(bombPng(0, 100), { name: 'zero.png' }), 'INPUT_CORRUPT', /zero\.png looks like a PNG file, but its header gives a size of 0x100/);
  await expectCode(() => decodeImageBuffer(bombPng(100, 0)), 'INPUT_CORRUPT', /header gives a size of 100x0/);
  // Sizes libpng refuses outright (over 1,000,000 px a side) are still reported as what they are.
  await expectCode(() => decodeImageBuffer(bombPng(0x7fffffff, 0x7fffffff), { name: 'huge.png' }), 'INPUT_TOO_LARGE', /huge\.png is 2147483647x2147483647 .*It was not decoded/);
  await expectCode(() => decodeImageBuffer(bombPng(2_000_000, 1)), 'INPUT_TOO_SMALL', /2000000x1; the minimum is 16 px/);
  // A PNG signature without its IHDR chunk first is corrupt.
  const noHeader = bombPng(100, 100);
  noHeader.set([0x78, 0x78, 0x78, 0x78], 12);
  await expectCode(() => decodeImageBuffer(noHeader, { name: 'noihdr.png' }), 'INPUT_CORRUPT', /noihdr\.png looks like a PNG file, but its header is corrupt/);
  // File size limit, checked before reading.
  await expectCode(() => decodeImageFile(join(SAMPLES, '1.jpg'), { limits: { maxFileBytes: 1000 } }), 'INPUT_TOO_LARGE', /limit/);
});

test('missing, empty, non-image, vector and corrupt inputs each get their own code', async () => {
  await expectCode(() => decodeImageFile(join(dir, 'nope.png')), 'INPUT_NOT_FOUND', /does not exist/);
  mkdirSync(join(dir, 'folder.png'), { recursive: true });
  await expectCode(() => decodeImageFile(join(dir, 'folder.png')), 'INPUT_NOT_FOUND', /is a folder/);

  writeFileSync(join(dir, 'empty.png'), '');
  await expectCode(() => decodeImageFile(join(dir, 'empty.png')), 'INPUT_NOT_IMAGE', /empty \(0 bytes\)/);
  writeFileSync(join(dir, 'notes.png'), 'these are not pixels\n'.repeat(20));
  await expectCode(() => decodeImageFile(join(dir, 'notes.png')), 'INPUT_NOT_IMAGE', /not an image/);
  writeFileSync(join(dir, 'art.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>');
  await expectCode(() => decodeImageFile(join(dir, 'art.svg')), 'INPUT_NOT_IMAGE', /SVG/);

  const png = await sharp(join(SAMPLES, '1.jpg')).resize(200).png().toBuffer();
  await expectCode(() => decodeImageBuffer(png.subarray(0, Math.floor(png.length / 2)), { name: 'half.png' }), 'INPUT_CORRUPT', /half\.png is truncated or corrupt/);
  const jpeg = readFileSync(join(SAMPLES, '1.jpg'));
  await expectCode(() => decodeImageBuffer(jpeg.subarray(0, Math.floor(jpeg.length / 2)), { name: 'half.jpg' }), 'INPUT_CORRUPT');
});

test('bounded fuzz: 600 mutated PNG, JPEG, WebP, GIF, TIFF and PSD files decode or fail with an input error', async () => {
  // Flipped bytes, truncations, inserted junk and stamped header fields, from a fixed seed (reproducible).
  let seed = 20261203;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.floor((seed / 2 ** 32) * n);
  };
  const art = sharp(join(SAMPLES, '2.jpg')).resize(48, 64);
  const rgba = new Uint8ClampedArray(await art.clone().ensureAlpha().raw().toBuffer());
  const files = [
    await art.clone().png().toBuffer(),
    await art.clone().jpeg().toBuffer(),
    await art.clone().webp().toBuffer(),
    await art.clone().gif().toBuffer(),
    await art.clone().tiff({ compression: 'lzw' }).toBuffer(),
    writePsdUint8Array({ width: 48, height: 64, imageData: { width: 48, height: 64, data: rgba }, children: [{ name: 'Ink', imageData: { width: 48, height: 64, data: rgba } }] }, { generateThumbnail: false }),
  ].map((b) => Uint8Array.from(b));
  const outcomes = new Map<string, number>();
  for (let k = 0; k < 600; k++) {
    const source = files[k % files.length]!;
    let bytes = Uint8Array.from(source);
    switch (rand(4)) {
      case 0:
        for (let j = 1 + rand(20); j > 0; j--) bytes[rand(bytes.length)] = rand(256);
        break;
      case 1:
        bytes = bytes.subarray(0, 1 + rand(bytes.length - 1));
        break;
      case 2: {
        const at = rand(bytes.length);
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...Array.from({ length: 1 + rand(64) }, () => rand(256)), ...bytes.subarray(at)]);
        break;
      }
      default:
        for (let j = 1 + rand(6); j > 0; j--) {
          const at = rand(Math.min(bytes.length - 4, 200));
          bytes.fill([0, 0xff, 0x7f, 0x80][rand(4)]!, at, at + 4);
        }
    }
    try {
      const { source: decoded } = await decodeImageBuffer(bytes);
      assert.equal(decoded.image.data.length, decoded.image.width * decoded.image.height * 3);
      outcomes.set('decoded', (outcomes.get('decoded') ?? 0) + 1);
    } catch (error) {
      assert.ok(error instanceof PaintsUndoError, `mutation ${k} of file ${k % files.length} threw ${String(error)}`);
      assert.match(error.code, /^INPUT_/, `mutation ${k}: ${error.code} ${error.message}`);
      assert.ok(error.hint && error.hint.length > 10, `mutation ${k}: ${error.code} says what to do`);
      outcomes.set(error.code, (outcomes.get(error.code) ?? 0) + 1);
    }
  }
  // Both kinds of outcome happen, so the mutations are neither all harmless nor all fatal.
  assert.ok((outcomes.get('decoded') ?? 0) > 20 && (outcomes.get('INPUT_CORRUPT') ?? 0) > 100, JSON.stringify([...outcomes]));
});

test('raw RGB has the id of its RGBA form at any size and memory alignment', () => {
  // Widths and heights that leave 1-3 pixels over a group of four, blocks of 64 rows and a short last one.
  for (const [width, height] of [[1, 1], [3, 2], [7, 5], [13, 70], [64, 129], [101, 3]] as const) {
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = i % 4 === 3 ? 255 : (i * 37 + width) % 256;
    const expected = sourceFromRgba({ width, height, channels: 4, data: rgba }).id;
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) rgb.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
    assert.equal(sourceFromRgb({ width, height, channels: 3, data: rgb }).id, expected, `${width}x${height}`);
    // The same pixels at an odd offset in a larger buffer (read byte by byte).
    const shifted = new Uint8Array(rgb.length + 1);
    shifted.set(rgb, 1);
    const source = sourceFromRgb({ width, height, channels: 3, data: shifted.subarray(1) });
    assert.equal(source.id, expected, `${width}x${height}, unaligned`);
    assert.deepEqual(source.image.data, rgb);
  }
});
