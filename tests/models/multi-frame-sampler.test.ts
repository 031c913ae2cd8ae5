import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ddimStep,
  directionCoefficient,
  sampleDynamicTsnr,
  samplerSchedule,
  uniformTrailingTimesteps,
} from '../../models/src/multi-frame/sampler.js';
import { f16round } from '../../models/src/multi-frame/float16.js';
import { GaussianNoise } from '../../models/src/multi-frame/noise.js';
import type { Precision } from '../../models/src/multi-frame/float16.js';

function nanStepCounts(precision: Precision, clamp: boolean): number[] {
  const bad: number[] = [];
  for (let steps = 1; steps <= 60; steps++) {
    const s = samplerSchedule(steps);
    const nan = s.sigmas.some((sigma, i) => Number.isNaN(directionCoefficient(s.alphasPrev[i]!, sigma, precision, clamp)));
    if (nan) bad.push(steps);
  }
  return bad;
}

test('f16round rounds to the nearest half, ties to even, with subnormals and overflow', () => {
  assert.equal(f16round(1), 1);
  assert.equal(f16round(1 + 2 ** -11), 1); // tie -> even mantissa
  assert.equal(f16round(1 + 3 * 2 ** -11), 1 + 2 ** -9); // tie -> even (up)
  assert.equal(f16round(0.1), 0.0999755859375);
  assert.equal(f16round(2 ** -25), 0); // half of the smallest subnormal ties to 0
  assert.equal(f16round(3 * 2 ** -25), 2 ** -23);
  assert.equal(f16round(65504), 65504);
  assert.equal(f16round(65519), 65504);
  assert.equal(f16round(65520), Infinity);
  assert.equal(f16round(-0.3333), -0.333251953125);
});

test('the unclamped official arithmetic gives NaN for the step counts the issue lists', () => {
  // This reproduces the bug the clamp fixes, so the sweep below is known to exercise it.
  assert.deepEqual(nanStepCounts('float32', false), [6, 11, 14, 15, 20, 23, 25]);
  const half = nanStepCounts('float16', false);
  for (const s of [4, 5, 8, 22, 23, 24, 25, 26, 27, 28, 29, 30]) assert.ok(half.includes(s), `float16 ${s} steps`);
});

test('with the clamp, every step count 1..60 gives finite coefficients in float32 and float16', () => {
  assert.deepEqual(nanStepCounts('float32', true), []);
  assert.deepEqual(nanStepCounts('float16', true), []);
});

test('a whole chain of every step count 1..60 stays finite in both precisions', () => {
  const size = 64;
  for (const precision of ['float32', 'float16'] as const) {
    for (let steps = 1; steps <= 60; steps++) {
      const schedule = samplerSchedule(steps);
      const noise = new GaussianNoise(steps);
      let x = noise.sample(size);
      for (let i = 0; i < steps; i++) {
        // A bounded pseudo model output: the chain must stay finite whatever the network says.
        const v = Float32Array.from(x, (value) => Math.tanh(value));
        x = ddimStep(schedule, steps - 1 - i, x, v, noise.sample(size), precision);
      }
      assert.ok(x.every(Number.isFinite), `${precision}, ${steps} steps`);
    }
  }
});

test('uniformTrailingTimesteps matches numpy (half-to-even rounding) and rejects bad counts', () => {
  assert.deepEqual(uniformTrailingTimesteps(3), [332, 666, 999]);
  assert.deepEqual(uniformTrailingTimesteps(1), [999]);
  // 62.5 multiples: 937.5 rounds to 938 (even), 812.5 to 812.
  assert.deepEqual(uniformTrailingTimesteps(16).slice(-3), [874, 937, 999]);
  assert.equal(uniformTrailingTimesteps(50).length, 50);
  assert.throws(() => uniformTrailingTimesteps(0), /Expected an integer from 1 to 1000 for steps but received 0/);
  assert.throws(() => uniformTrailingTimesteps(2.5), /for steps/);
});

test('sampleDynamicTsnr draws x_T then one noise per step, calls the model with t descending, and cancels', async () => {
  const seen: number[] = [];
  let draws = 0;
  const noise = new GaussianNoise(7);
  const result = await sampleDynamicTsnr({
    size: 8,
    steps: 4,
    model: async (x, t) => {
      seen.push(t);
      return new Float32Array(x.length);
    },
    noise: (n) => {
      draws++;
      return noise.sample(n);
    },
  });
  assert.deepEqual(seen, [999, 749, 499, 249]);
  assert.equal(draws, 5);
  assert.ok(result.every(Number.isFinite));

  const controller = new AbortController();
  await assert.rejects(
    sampleDynamicTsnr({
      size: 8,
      steps: 4,
      model: async (x) => {
        controller.abort();
        return new Float32Array(x.length);
      },
      noise: (n) => new Float32Array(n),
      signal: controller.signal,
    }),
    { code: 'CANCELLED' },
  );
});

test('GaussianNoise is reproducible per seed and roughly standard normal', () => {
  const a = new GaussianNoise(123).sample(20000);
  const b = new GaussianNoise(123).sample(20000);
  const c = new GaussianNoise(124).sample(20000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  assert.ok(Math.abs(mean) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
});
