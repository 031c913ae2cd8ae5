/**
 * PSD inputs in every colour mode, and damaged PSDs (issue 10, items 10 and 11). Real files: PSDs written
 * by ImageMagick (tests/io/fixtures/psd, see its README) and by ag-psd; the modes no library writes
 * (Lab, Duotone, Multichannel, 32-bit) and the damaged files are built from the published specification
 * (psd-builder.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { writePsdUint8Array } from '../../engine/src/io/ag-psd.js';
import { decodeImageBuffer, type DecodedInput } from '../../engine/src/io/decode.js';
import { buildPsd, plane } from './psd-builder.js';
import { rejection, tempFolder } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/psd/', import.meta.url));
const fixture = (name: string): Uint8Array => readFileSync(join(FIXTURES, name));

/** The six bars of fixtures/psd/bars.png, left to right. */
const BARS = [
  [255, 255, 255],
  [0, 0, 0],
  [220, 40, 40],
  [40, 170, 60],
  [40, 70, 200],
  [128, 128, 128],
] as const;

/** The colour in the middle of each 8-px bar. */
function bars(decoded: DecodedInput): number[][] {
  const { image } = decoded.source;
  return BARS.map((_, b) => {
    const i = (12 * image.width + b * 8 + 4) * 3;
    return [...image.data.subarray(i, i + 3)];
  });
}

function assertNear(actual: readonly number[][], expected: readonly (readonly number[])[], tolerance: number, what: string): void {
  actual.forEach((colour, b) => {
    colour.forEach((v, c) => assert.ok(Math.abs(v - expected[b]![c]!) <= tolerance, `${what}: bar ${b} is ${colour.join(',')}, expected ${expected[b]!.join(',')} (±${tolerance})`));
  });
}

const decode = (bytes: Uint8Array, name: string): Promise<DecodedInput> => decodeImageBuffer(bytes, { name });

test('PSDs written by ImageMagick decode in RGB, Grayscale (8/16-bit), Indexed and Bitmap modes, raw and RLE', async () => {
  assertNear(bars(await decode(fixture('rgb8-rle.psd'), 'rgb8')), BARS, 0, 'RGB');
  const indexed = await decode(fixture('indexed8-rle.psd'), 'indexed');
  assertNear(bars(indexed), BARS, 1, 'Indexed');
  assert.ok(indexed.notices.some((n) => /indexed \(palette\) colours/.test(n)));
  // ImageMagick's Rec.709 luma of each bar.
  const grey = [255, 0, 78, 134, 73, 128].map((v) => [v, v, v]);
  assertNear(bars(await decode(fixture('gray8-raw.psd'), 'gray8')), grey, 1, 'Grayscale 8');
  const gray16 = await decode(fixture('gray16-rle.psd'), 'gray16');
  assertNear(bars(gray16), grey, 1, 'Grayscale 16');
  assert.ok(gray16.notices.includes('Converted 16-bit samples to 8-bit.'));
  // Threshold 60%: only the white bar stays white.
  const bitmap = [[255, 255, 255], ...BARS.slice(1).map(() => [0, 0, 0])];
  assertNear(bars(await decode(fixture('bitmap1-raw.psd'), 'bitmap')), bitmap, 0, 'Bitmap raw');
  assertNear(bars(await decode(fixture('bitmap1-rle.psd'), 'bitmap')), bitmap, 0, 'Bitmap RLE');
});

test('CMYK PSDs (8 and 16-bit) are converted to sRGB, with the embedded profile when there is one', async () => {
  // ImageMagick's CMYK is the naive formula, read back through a real CMYK profile: colours stay recognisable.
  const cmyk8 = await decode(fixture('cmyk8-rle.psd'), 'cmyk8');
  const cmyk16 = await decode(fixture('cmyk16-raw.psd'), 'cmyk16');
  assertNear(bars(cmyk16), bars(cmyk8), 1, '16-bit CMYK matches 8-bit');
  const [white, black, red, green, blue, grey] = bars(cmyk8) as [number[], number[], number[], number[], number[], number[]];
  assert.ok(white.every((v) => v >= 250), `white ${white.join(',')}`);
  assert.ok(black.every((v) => v <= 40), `black ${black.join(',')}`);
  assert.ok(red[0]! > red[1]! + 100 && red[0]! > red[2]! + 100, `red ${red.join(',')}`);
  assert.ok(green[1]! > green[0]! + 60 && green[1]! > green[2]! + 20, `green ${green.join(',')}`);
  assert.ok(blue[2]! > blue[0]! + 50 && blue[2]! > blue[1]! + 30, `blue ${blue.join(',')}`);
  assert.ok(Math.max(...grey) - Math.min(...grey) <= 6, `grey ${grey.join(',')}`);
  assert.match(cmyk8.notices.join(' '), /CMYK colours of the PSD to sRGB with a standard CMYK profile/);

  // Inks as Photoshop stores them (255 - ink), with sharp's CMYK profile embedded: paper, 100% K, pure
  // cyan, magenta and yellow, 50% K.
  const width = 48;
  const height = 24;
  const inks = [
    [0, 0, 0, 0],
    [0, 0, 0, 255],
    [255, 0, 0, 0],
    [0, 255, 0, 0],
    [0, 0, 255, 0],
    [0, 0, 0, 128],
  ];
  const planes = [0, 1, 2, 3].map((c) => plane(width, height, 8, (i) => 255 - inks[Math.floor((i % width) / 8)]![c]!));
  const icc = (await sharp(join(FIXTURES, 'bars.png')).toColourspace('cmyk').withIccProfile('cmyk').tiff().toBuffer().then((t) => sharp(t).metadata())).icc!;
  const withProfile = await decode(buildPsd({ width, height, mode: 4, depth: 8, planes, resources: new Map([[1039, icc]]) }), 'cmyk-icc');
  const [paper, k, cyan, magenta, yellow, halfK] = bars(withProfile) as [number[], number[], number[], number[], number[], number[]];
  assert.deepEqual(paper, [255, 255, 255]);
  assert.ok(k.every((v) => v <= 70), `100% K is ${k.join(',')}`);
  assert.ok(cyan[0]! < 60 && cyan[1]! > 120 && cyan[2]! > 180, `cyan is ${cyan.join(',')}`);
  assert.ok(magenta[1]! < 60 && magenta[0]! > 180 && magenta[2]! > 100, `magenta is ${magenta.join(',')}`);
  assert.ok(yellow[2]! < 60 && yellow[0]! > 220 && yellow[1]! > 200, `yellow is ${yellow.join(',')}`);
  assert.ok(Math.max(...halfK) - Math.min(...halfK) <= 8 && halfK[0]! > 110 && halfK[0]! < 190, `50% K is ${halfK.join(',')}`);
  assert.match(withProfile.notices.join(' '), /with its embedded colour profile/);

  // An RGB document in Display P3 with its profile: converted to sRGB, not read as if it were sRGB.
  const p3 = await sharp(join(FIXTURES, 'bars.png')).withIccProfile('p3').tiff().toBuffer();
  const p3Samples = await sharp(join(FIXTURES, 'bars.png')).withIccProfile('p3').raw().toBuffer();
  const p3Planes = [0, 1, 2].map((c) => plane(width, height, 8, (i) => p3Samples[i * 3 + c]!));
  assert.notDeepEqual([...p3Samples.subarray(16 * 3, 16 * 3 + 3)], [220, 40, 40], 'the P3 numbers of red differ from its sRGB numbers');
  const displayP3 = await decode(buildPsd({ width, height, mode: 3, depth: 8, planes: p3Planes, resources: new Map([[1039, (await sharp(p3).metadata()).icc!]]) }), 'p3');
  assertNear(bars(displayP3), BARS, 2, 'Display P3 with its profile');
});

test('Lab PSDs (8 and 16-bit, D50 as Photoshop stores them) are converted to sRGB', async () => {
  // Photoshop's Lab (D50) of pure sRGB colours, as its Info panel shows them (published reference values).
  const reference: [number[], number[]][] = [
    [[100, 0, 0], [255, 255, 255]],
    [[0, 0, 0], [0, 0, 0]],
    [[54.29, 80.8, 69.89], [255, 0, 0]],
    [[87.82, -79.29, 80.99], [0, 255, 0]],
    [[29.57, 68.3, -112.03], [0, 0, 255]],
    [[53.59, 0, 0], [128, 128, 128]],
  ];
  const width = 48;
  const height = 24;
  const labAt = (i: number): number[] => reference[Math.floor((i % width) / 8)]![0];
  for (const depth of [8, 16] as const) {
    const scale = depth === 8 ? { max: 255, unit: 1, half: 128 } : { max: 65535, unit: 256, half: 32768 };
    const planes = [
      plane(width, height, depth, (i) => Math.round((labAt(i)[0]! / 100) * scale.max)),
      plane(width, height, depth, (i) => Math.round(labAt(i)[1]! * scale.unit + scale.half)),
      plane(width, height, depth, (i) => Math.round(labAt(i)[2]! * scale.unit + scale.half)),
    ];
    const decoded = await decode(buildPsd({ width, height, mode: 9, depth, planes }), `lab${depth}`);
    // 8-bit Lab has whole units of a and b: at the edge of the gamut (pure green) that moves red by up to 10.
    assertNear(bars(decoded), reference.map(([, rgb]) => rgb), depth === 8 ? 10 : 3, `Lab ${depth}-bit`);
    assert.ok(decoded.notices.includes('Converted the Lab colours of the PSD to sRGB.'));
  }
});

test('Duotone reads as greyscale, 32-bit RGB as linear light, PSB and a composite alpha as written; Multichannel is refused with what to do', async () => {
  const width = 32;
  const height = 16;
  const duotone = await decode(buildPsd({ width, height, mode: 8, depth: 8, planes: [plane(width, height, 8, () => 90)], colorModeData: new Uint8Array(40) }), 'duo');
  assertNear([[...duotone.source.image.data.subarray(0, 3)]], [[90, 90, 90]], 0, 'Duotone');
  assert.ok(duotone.notices.some((n) => /duotone PSD as greyscale/.test(n)));

  // 32-bit documents are linear: 0.5 is sRGB 188.
  const float = await decode(buildPsd({ width, height, mode: 3, depth: 32, planes: [0.5, 0.5, 0.5].map((v) => plane(width, height, 32, () => v)), compression: 'raw' }), 'float');
  assertNear([[...float.source.image.data.subarray(0, 3)]], [[188, 188, 188]], 1, '32-bit');

  const psb = await decode(buildPsd({ width, height, mode: 3, depth: 8, version: 2, planes: [200, 30, 60].map((v) => plane(width, height, 8, () => v)) }), 'psb');
  assertNear([[...psb.source.image.data.subarray(0, 3)]], [[200, 30, 60]], 0, 'PSB');

  // ag-psd writes the composite matted on white with the alpha as the first extra channel, as Photoshop does.
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([200, 40, 90, Math.round(((i % width) / (width - 1)) * 255)], i * 4);
  const layered = writePsdUint8Array({ width, height, imageData: { width, height, data: rgba }, children: [{ name: 'paint', imageData: { width, height, data: rgba } }] });
  const transparent = await decode(layered, 'transparent');
  const x = 16;
  const a = transparent.source.alpha![x]! / 255;
  assert.ok(Math.abs(a - rgba[x * 4 + 3]! / 255) < 0.01, 'the alpha is kept');
  assertNear([[...transparent.source.image.data.subarray(x * 3, x * 3 + 3)]], [[200, 40, 90].map((v) => Math.round(v * a + 255 * (1 - a)))], 2, 'flattened once on white');

  const multichannel = await rejection(() => decode(buildPsd({ width, height, mode: 7, depth: 8, planes: [plane(width, height, 8, () => 0), plane(width, height, 8, () => 9)] }), 'spot.psd'));
  assert.equal(multichannel.code, 'INPUT_NOT_IMAGE');
  assert.match(multichannel.message, /spot\.psd is in Multichannel mode/);
  assert.match(multichannel.hint ?? '', /Image > Mode > RGB Color/);
});

test('truncated, empty and impossible PSDs are INPUT_CORRUPT, never a black image', async () => {
  const width = 40;
  const height = 30;
  const good = buildPsd({ width, height, mode: 3, depth: 8, planes: [10, 120, 230].map((v) => plane(width, height, 8, (i) => (v + i) % 256)) });
  assert.equal((await decode(good, 'good')).source.image.width, width);
  const header = good.slice(0, 26);
  const cases: [string, Uint8Array, RegExp][] = [
    ['header only (40 bytes)', Uint8Array.from([...header, ...new Uint8Array(14)]), /the image data holds 0 bytes/],
    ['header only (26 bytes)', header, /the length of the colour mode data needs 4 bytes/],
    ['cut in the header', good.slice(0, 20), /the header is cut off: 20 of 26 bytes/],
    ['zero channels', Uint8Array.from([...header.slice(0, 12), 0, 0, ...header.slice(14), ...good.slice(26)]), /0 channels; a document has 1 to 56/],
    ['half the pixel data', good.slice(0, Math.floor(good.length / 2)), /RLE row lengths add up to|image data holds/],
    ['raw data cut short', buildPsd({ width, height, mode: 3, depth: 8, planes: [1, 2, 3].map(() => plane(width, height, 8, () => 7)), compression: 'raw' }).slice(0, -100), /the image data holds \d+ bytes, but 40x30 pixels, 3 channel\(s\) of 8 bits need 3600/],
  ];
  // Bogus RLE row counts: every count says 1000 bytes.
  const bogus = good.slice();
  const countsAt = 26 + 4 + 4 + 4 + 2;
  for (let r = 0; r < 3 * height; r++) bogus.set([0x03, 0xe8], countsAt + r * 2);
  cases.push(['bogus RLE row counts', bogus, /RLE row lengths add up to 90000 bytes/]);
  // Counts of the right total that split the rows wrongly: rows no longer decode to one row each.
  const shifted = good.slice();
  const first = (shifted[countsAt]! << 8) | shifted[countsAt + 1]!;
  const second = (shifted[countsAt + 2]! << 8) | shifted[countsAt + 3]!;
  shifted.set([(first + 1) >> 8, (first + 1) & 255, (second - 1) >> 8, (second - 1) & 255], countsAt);
  cases.push(['RLE rows that do not decode', shifted, /row 1 of channel 1 does not decode to 40 bytes/]);
  // 50 bytes that declare 7000x7000: refused from the header and the file size, before any pixel is allocated.
  const huge = Uint8Array.from([...header.slice(0, 14), 0, 0, 0x1b, 0x58, 0, 0, 0x1b, 0x58, ...header.slice(22, 26), ...new Uint8Array(12), 0, 1, ...new Uint8Array(10)]);
  assert.equal(huge.length, 50);
  cases.push(['50 bytes declaring 7000x7000', huge, /7000x7000 pixels, 3 channel\(s\) of 8 bits need at least \d+ even when compressed/]);

  for (const [what, bytes, message] of cases) {
    const error = await rejection(() => decode(bytes, `${what}.psd`));
    assert.equal(error.code, 'INPUT_CORRUPT', `${what}: ${error.message}`);
    assert.match(error.message, /is truncated or corrupt/, what);
    assert.match(error.message, message, what);
  }
  // A composite that Photoshop did not write ("Maximize compatibility" off): said so, not shown blank.
  const noComposite = buildPsd({ width, height, mode: 3, depth: 8, planes: [0, 0, 0].map(() => plane(width, height, 8, () => 255)), resources: new Map([[1057, Uint8Array.from([0, 0, 0, 1, 0])]]) });
  const missing = await rejection(() => decode(noComposite, 'layers-only.psd'));
  assert.equal(missing.code, 'INPUT_NOT_IMAGE');
  assert.match(missing.hint ?? '', /Maximize PSD compatibility/);
});

test('the CLI renders a frame of a CMYK PSD and refuses a header-only PSD with exit 3', async () => {
  const { BIN, ensureBuilt } = await import('../cli/build.js');
  ensureBuilt();
  const dir = tempFolder('paints-undo-psd-cli-');
  const header = fixture('rgb8-rle.psd').slice(0, 40);
  writeFileSync(join(dir, 'empty.psd'), header);
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, PAINTS_UNDO_DEBUG: '' } });
  const ok = run(['frame', join(FIXTURES, 'cmyk8-rle.psd'), '--step', '300', '-o', 'out.png']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /CMYK colours of the PSD to sRGB/);
  const refused = run(['frame', 'empty.psd', '--step', '300', '-o', 'out2.png']);
  assert.equal(refused.status, 3, refused.stderr);
  assert.match(refused.stderr, /^paints-undo: error INPUT_CORRUPT: The PSD empty\.psd is truncated or corrupt/m);
});
