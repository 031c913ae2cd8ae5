import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flattenOnWhite, type RgbaImage } from '../../engine/src/core/image.js';

/** The definition: each pixel blended onto white with rounding, one byte at a time. */
function flattenedByDefinition(image: RgbaImage): Uint8Array {
  const out = new Uint8Array(image.width * image.height * 3);
  for (let p = 0; p < image.width * image.height; p++) {
    const a = image.data[p * 4 + 3]!;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round((image.data[p * 4 + c]! * a + 255 * (255 - a)) / 255);
  }
  return out;
}

/** Opaque areas with transparent holes and soft edges, as exported artwork has; odd sizes leave a tail past the last word. */
function artwork(width: number, height: number, seed: number): RgbaImage {
  let state = seed;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[i + c] = Math.floor(random() * 256);
      const d = Math.hypot(x - width / 2, y - height / 2) / (Math.min(width, height) / 3);
      data[i + 3] = d < 0.8 ? 255 : d > 1.2 ? (random() < 0.5 ? 0 : 255) : Math.floor(random() * 256);
    }
  }
  return { width, height, channels: 4, data };
}

test('flattenOnWhite gives the rounded blend onto white for every pixel, opaque runs and partial alpha alike', () => {
  for (const [width, height, seed] of [[64, 48, 1], [37, 23, 2], [3, 1, 3], [1, 1, 4]] as const) {
    const image = artwork(width, height, seed);
    assert.deepEqual(flattenOnWhite(image).data, flattenedByDefinition(image), `${width}x${height}`);
  }
});

test('flattenOnWhite writes into the memory it is given, also at offsets that are not word-aligned', () => {
  const image = artwork(33, 17, 5);
  const expected = flattenedByDefinition(image);
  const shared = new Uint8Array(new SharedArrayBuffer(33 * 17 * 3));
  assert.equal(flattenOnWhite(image, shared).data, shared);
  assert.deepEqual(shared, expected);
  const unalignedIn = new Uint8Array(image.data.length + 1).subarray(1);
  unalignedIn.set(image.data);
  const unalignedOut = new Uint8Array(expected.length + 3).subarray(3);
  assert.deepEqual(flattenOnWhite({ ...image, data: unalignedIn }, unalignedOut).data, expected);
  assert.throws(() => flattenOnWhite(image, new Uint8Array(10)), /expected 1683/);
});
