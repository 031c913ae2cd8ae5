import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHalf } from '../../models/src/graph/builder.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { dpmpp2mStep, gaussianNoise, karrasSigmas, sampleDpmpp2m, sigmaTable } from '../../models/src/sampler/kdiffusion.js';

test('gaussian noise: deterministic per seed, different across seeds, standard normal moments', () => {
  const a = gaussianNoise(12345, 100_001);
  assert.deepEqual(gaussianNoise(12345, 10), a.slice(0, 10));
  assert.notDeepEqual(gaussianNoise(12346, 10), a.slice(0, 10));
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  // 100k draws: the standard error of the mean is ~0.003 and of the variance ~0.0045.
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  assert.ok(a.every(Number.isFinite));
});

test('Karras sigmas run from sigma_max down to sigma_min, then 0', () => {
  const table = sigmaTable();
  const s = karrasSigmas(table, 5);
  assert.equal(s.length, 6);
  assert.equal(s[5], 0);
  assert.ok(Math.abs((s[0] ?? 0) - (table.sigmas[999] ?? 0)) < 1e-3 * (table.sigmas[999] ?? 1));
  assert.ok(Math.abs((s[4] ?? 0) - (table.sigmas[0] ?? 0)) < 1e-4);
  for (let i = 1; i < 5; i++) assert.ok((s[i] ?? 0) < (s[i - 1] ?? 0));
});

test('the last DPM-Solver++ step (sigma_next = 0) returns the denoised estimate', () => {
  const x = Float32Array.from([5, -3]);
  const d = Float32Array.from([0.25, 0.5]);
  const sigmas = Float32Array.from([2, 1, 0]);
  assert.deepEqual(Array.from(dpmpp2mStep(x, d, Float32Array.from([9, 9]), sigmas, 1)), [0.25, 0.5]);
});

test('the sampler checks cancellation before every model evaluation', async () => {
  const controller = new AbortController();
  let calls = 0;
  await assert.rejects(
    sampleDpmpp2m(new Float32Array(2), Float32Array.from([3, 2, 1, 0]), async (x) => {
      calls++;
      if (calls === 2) controller.abort();
      return x;
    }, { signal: controller.signal }),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'CANCELLED',
  );
  assert.equal(calls, 2);
});

test('float16 conversion rounds to nearest even and handles the ranges', () => {
  assert.equal(toHalf(1), 0x3c00);
  assert.equal(toHalf(-2), 0xc000);
  assert.equal(toHalf(65504), 0x7bff);
  assert.equal(toHalf(1e6), 0x7c00);
  assert.equal(toHalf(0.1), 0x2e66);
  assert.equal(toHalf(2 ** -24), 0x0001);
  assert.equal(toHalf(1e-9), 0);
  assert.equal(toHalf(1 + 2 ** -11), 0x3c00); // halfway: ties to even
});
