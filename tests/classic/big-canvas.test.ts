/**
 * A 4096 px canvas, made in the test: frames at any step, at a slider's preview size and at full size,
 * equal the unoptimised reference renderer (tests/core/reference-renderer.ts) within one level.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quietContext } from '../../engine/src/core/backend.js';
import { maxAbsDifference, type RgbImage } from '../../engine/src/core/image.js';
import type { PreparedPlan } from '../../engine/src/core/replay.js';
import { createClassicBackend } from '../../engine/src/backends/classic/index.js';
import { referenceFrame } from '../core/reference-renderer.js';
import { fromSvg } from './helpers.js';

const SIZE = 4096;

/** Outlined shapes over a gradient sky: line art, flats and shading at every scale. */
function bigIllustration(): string {
  const shapes: string[] = [];
  for (let i = 0; i < 14; i++) {
    const x = 300 + ((i * 977) % 3400);
    const y = 400 + ((i * 613) % 3200);
    const r = 180 + ((i * 131) % 420);
    const hue = (i * 47) % 360;
    shapes.push(`<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${hue},60%,62%)" stroke="#1b1b22" stroke-width="${10 + (i % 4) * 6}"/>`);
    shapes.push(`<rect x="${x - r / 3}" y="${y - r / 5}" width="${r / 1.5}" height="${r / 2.5}" fill="hsl(${(hue + 120) % 360},45%,45%)" stroke="#1b1b22" stroke-width="8"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}">
<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#cfe3f5"/><stop offset="1" stop-color="#f6dcc4"/></linearGradient></defs>
<rect width="${SIZE}" height="${SIZE}" fill="url(#sky)"/>${shapes.join('')}</svg>`;
}

function rows(image: RgbImage, y0: number, y1: number): RgbImage {
  return { width: image.width, height: y1 - y0, channels: 3, data: image.data.subarray(y0 * image.width * 3, y1 * image.width * 3) };
}

test('a 4096 px canvas renders any step like the reference renderer, at preview size and at full size', async () => {
  const source = await fromSvg(bigIllustration());
  assert.equal(source.image.width, SIZE);
  const backend = createClassicBackend();
  try {
    const context = quietContext();
    const preview = 640;
    await backend.frame({ source, step: 999, seed: 3, size: preview }, context);
    const plan = backend.exportPlan!(source.id, 3)!.data as PreparedPlan;
    // Scrubbing order: jumps back and forth, each frame from the previous one's tiles.
    for (const step of [0, 998, 37, 420, 419, 777, 5]) {
      const fast = await backend.frame({ source, step, seed: 3, size: preview }, context);
      assert.equal(Math.max(fast.width, fast.height), preview);
      const reference = referenceFrame(plan.timeline, step, preview);
      const diff = maxAbsDifference(fast, reference);
      assert.ok(diff <= 1, `step ${step} at ${preview} px differs by ${diff}`);
    }
    // Full size: a band of rows through the middle, checked pixel by pixel.
    const full = await backend.frame({ source, step: 300, seed: 3 }, context);
    assert.deepEqual([full.width, full.height], [SIZE, SIZE]);
    const band: [number, number] = [2000, 2048];
    const diff = maxAbsDifference(rows(full, ...band), referenceFrame(plan.timeline, 300, undefined, band));
    assert.ok(diff <= 1, `step 300 at full size differs by ${diff}`);
  } finally {
    await backend.dispose();
  }
});
