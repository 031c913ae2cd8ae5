import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ddimStep,
  dynamicTsnrTables,
  guidedModelOutput,
  samplerSchedule,
} from '../../models/src/multi-frame/sampler.js';
import { assertClose, casesOf, loadManifest, openCase, shapeOf, toleranceFor } from './golden.js';

const manifest = loadManifest();

/** float32 tables are computed from float64 maths and cast: allow one float32 ulp. */
const TABLE_TOLERANCE = { atol: 1e-12, rtol: 2 ** -23 };

for (const [name, goldenCase] of casesOf(manifest, 'mf_sampler')) {
  const tensors = openCase(goldenCase);
  const steps = shapeOf(goldenCase, 'out_step_t')[0] ?? 0;

  test(`${name}: dynamic-TSNR tables (zero terminal SNR, x0 scale)`, () => {
    const tables = dynamicTsnrTables();
    assertClose(tables.alphasCumprod, tensors.float32('out_alphas_cumprod_table'), TABLE_TOLERANCE, 'alphas_cumprod');
    assertClose(tables.sqrtAlphasCumprod, tensors.float32('out_sqrt_alphas_cumprod_table'), TABLE_TOLERANCE, 'sqrt_ac');
    assertClose(
      tables.sqrtOneMinusAlphasCumprod,
      tensors.float32('out_sqrt_one_minus_alphas_cumprod_table'),
      TABLE_TOLERANCE,
      'sqrt_1m_ac',
    );
    assertClose(tables.scaleArr, tensors.float32('out_scale_arr_table'), TABLE_TOLERANCE, 'scale_arr');
    assert.equal(tables.alphasCumprod[999], 0);
  });

  test(`${name}: trailing timesteps and DDIM sigmas for ${steps} steps`, () => {
    const schedule = samplerSchedule(steps);
    assert.deepEqual(schedule.timesteps, Array.from(tensors.int64('out_timesteps'), Number));
    assert.deepEqual(schedule.timestepsPrev, Array.from(tensors.int64('out_timesteps_prev'), Number));
    // The loop visits t descending.
    assert.deepEqual([...schedule.timesteps].reverse(), Array.from(tensors.int64('out_step_t'), Number));
    assertClose(schedule.alphas, tensors.float32('out_alphas'), TABLE_TOLERANCE, 'alphas');
    assertClose(schedule.alphasPrev, tensors.float32('out_alphas_prev'), TABLE_TOLERANCE, 'alphas_prev');
    assertClose(schedule.sigmas, tensors.float32('out_ddim_sigmas'), TABLE_TOLERANCE, 'sigmas');
  });

  test(`${name}: teacher-forced DDIM update x[i] -> x[i+1] and the final latents`, () => {
    const schedule = samplerSchedule(steps);
    const stepX = tensors.float32('out_step_x');
    const stepV = tensors.float32('out_step_model_output');
    const size = stepX.length / steps;
    assert.deepEqual(Array.from(stepX.subarray(0, size)), Array.from(tensors.float32('in_noise_init')), 'x_T is the initial noise');
    // A single float32 update reproduces the reference up to a few ulps of its operands.
    const tight = { atol: 1e-5, rtol: 1e-5 };
    for (let i = 0; i < steps; i++) {
      const index = steps - 1 - i;
      const next = ddimStep(
        schedule,
        index,
        stepX.subarray(i * size, (i + 1) * size),
        stepV.subarray(i * size, (i + 1) * size),
        tensors.float32(`in_noise_step${i}`),
      );
      assert.ok(next.every(Number.isFinite), `step ${i} produced a non-finite value`);
      const want = i + 1 < steps ? stepX.subarray((i + 1) * size, (i + 2) * size) : tensors.float32('out_latents');
      assertClose(next, want, tight, `x after step ${i}`);
    }
    // The case-wide free-running tolerance is documented too; the tight check above is stricter.
    assert.ok(toleranceFor(goldenCase, 'out_latents').atol >= tight.atol);
  });
}

test('guidedModelOutput: CFG then rescale_noise_cfg with unbiased per-sample std', () => {
  // Two samples of 4 values; hand-computed with numpy semantics.
  const pos = Float32Array.from([1, 2, 3, 4, 0, 0, 1, 1]);
  const neg = Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
  const out = guidedModelOutput(pos, neg, 2, 2, 0.7);
  // Sample 0: o = 2*pos = [2,4,6,8]; std(pos)/std(o) = 1/2 -> 0.7*o/2 + 0.3*o = 0.65*o.
  assertClose(out.subarray(0, 4), [1.3, 2.6, 3.9, 5.2], { atol: 1e-6, rtol: 1e-6 }, 'sample 0');
  // Sample 1: o = neg + 2*(pos-neg) = [-1,-1,1,1]; std(pos) = std(o)/2 -> the same 0.65 factor.
  assertClose(out.subarray(4), [-0.65, -0.65, 0.65, 0.65], { atol: 1e-6, rtol: 1e-6 }, 'sample 1');
});
