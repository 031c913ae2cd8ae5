/**
 * The `sf_sampler` golden case: the whole official gradio_app.process() on the tiny models. Checked
 * piece by piece (tables, sigmas, timestep look-ups, preprocessing, VAE, prompts), then the sampler with
 * the teacher-forced one-step check (stored x[i] -> one model evaluation -> denoised[i]) and the update
 * arithmetic x[i] -> x[i+1], then the free-running chain and the decode through the same pipeline code
 * the backend uses.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ClipTextEncoder, Unet, Vae } from '../../models/src/components.js';
import { generateKeyframes, imageToTensor, tensorToImage } from '../../models/src/pipeline/single-frame.js';
import { resizeAndCenterCrop } from '../../models/src/preprocess/resize.js';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import {
  PAINTS_UNDO_SCHEDULE,
  cfgDenoiser,
  dpmpp2mStep,
  samplerSigmas,
  sigmaTable,
  timestepFor,
} from '../../models/src/sampler/kdiffusion.js';
import { ClipTokenizer } from '../../models/src/tokenizer/clip.js';
import type { GoldenCase } from './golden.js';
import { assertClose, casesOf, componentFolder, loadManifest, openCase, shapeOf, teacherForcedTolerance, toleranceFor } from './golden.js';

const manifest = loadManifest();
let runtime: OrtRuntime;
before(() => {
  runtime = OrtRuntime.start();
});
after(async () => {
  await runtime.dispose();
});

function component(c: GoldenCase, prefix: string): string {
  const name = c.components.find((x) => x.startsWith(prefix));
  assert.ok(name, `case has no ${prefix}* component`);
  return componentFolder(manifest, name);
}

/** cfg of the official call, stated in the case's function description ("cfg=3.0"). */
function cfgOf(c: GoldenCase): number {
  const match = /\bcfg=([0-9.]+)/.exec(String(c.function));
  assert.ok(match?.[1], 'the case function does not state cfg=...');
  return Number(match[1]);
}

for (const [name, c] of casesOf(manifest, 'sf_sampler')) {
  const t = openCase(c);
  const prompts = z.object({ prompt: z.string(), n_prompt: z.string() }).parse(c);
  const steps = shapeOf(c, 'out_step_sigma')[0] ?? 0;
  const [height, width] = shapeOf(c, 'out_fg') as [number, number, number];
  const xShape = shapeOf(c, 'out_step_x');
  const batch = xShape[1] ?? 0;
  const per = xShape.slice(2).reduce((a, b) => a * b, 1);
  const latentDims = xShape.slice(1) as [number, number, number, number];

  test(`${name}: sigma tables, Karras sigmas and timestep look-ups`, () => {
    const table = sigmaTable(PAINTS_UNDO_SCHEDULE);
    assertClose(table.sigmas, t.float32('out_sigmas_table'), toleranceFor(c, 'out_sigmas_table'), 'sigmas table');
    assertClose(table.logSigmas, t.float32('out_log_sigmas_table'), toleranceFor(c, 'out_log_sigmas_table'), 'log sigmas table');
    // Tight too: the tables are pure float32 arithmetic.
    assertClose(table.sigmas, t.float32('out_sigmas_table'), { atol: 0, rtol: 1e-6 }, 'sigmas table (tight)');
    const lookups = Array.from(t.float32('in_lookup_sigmas'), (s) => timestepFor(s, table));
    assert.deepEqual(lookups, Array.from(t.int64('out_lookup_t'), Number));
    const sigmas = samplerSigmas(table, steps);
    assertClose(sigmas, t.float32('out_sigmas'), { atol: 0, rtol: 1e-6 }, 'karras sigmas');
    assertClose(sigmas.slice(0, steps), t.float32('out_step_sigma'), { atol: 0, rtol: 1e-6 }, 'step sigmas');
    assert.deepEqual(Array.from(sigmas.slice(0, steps), (s) => timestepFor(s, table)), Array.from(t.int64('out_step_t'), Number));
  });

  test(`${name}: preprocessing, VAE concat condition and prompt embeddings`, async () => {
    const [ih, iw] = shapeOf(c, 'in_fg_image');
    const fg = resizeAndCenterCrop({ width: iw ?? 0, height: ih ?? 0, channels: 3, data: t.uint8('in_fg_image') }, width, height);
    assert.ok(Buffer.from(fg.data).equals(Buffer.from(t.uint8('out_fg'))), 'resize_and_center_crop differs from out_fg');
    const vae = await Vae.load(runtime, component(c, 'sd_vae'), 'cpu');
    const clip = await ClipTextEncoder.load(runtime, component(c, 'clip_text'), 'cpu');
    try {
      const mode = await vae.encode(imageToTensor(fg), [1, 3, height, width]);
      const scaled = mode.map((v) => Math.fround(v * vae.config.scaling_factor));
      assertClose(scaled, t.float32('out_concat_conds'), toleranceFor(c, 'out_concat_conds'), 'concat_conds');
      const tokenizer = ClipTokenizer.fromFolder(component(c, 'tokenizer'));
      const text = await clip.encode([tokenizer.encode(prompts.prompt), tokenizer.encode(prompts.n_prompt)]);
      const n = clip.length * clip.hidden;
      assertClose(text.slice(0, n), t.float32('out_conds'), toleranceFor(c, 'out_conds'), 'conds');
      assertClose(text.slice(n), t.float32('out_unconds'), toleranceFor(c, 'out_unconds'), 'unconds');
      // Decode of the stored final latents, then the uint8 conversion.
      const latents = t.float32('out_latents').map((v) => Math.fround(v / vae.config.scaling_factor));
      const pixels = await vae.decode(latents, latentDims);
      assertClose(pixels, t.float32('out_pixels_float'), toleranceFor(c, 'out_pixels_float'), 'pixels float');
      const stored = t.float32('out_pixels_float');
      const u8 = t.uint8('out_pixels_u8');
      for (let b = 0; b < batch; b++) {
        const img = tensorToImage(stored, b, width, height);
        assert.ok(Buffer.from(img.data).equals(Buffer.from(u8.subarray(b * img.data.length, (b + 1) * img.data.length))), `pytorch2numpy of item ${b}`);
      }
    } finally {
      await vae.release();
      await clip.release();
    }
  });

  test(`${name}: teacher-forced one step per sampler step, and the DPM-Solver++(2M) update`, async () => {
    const unet = await Unet.load(runtime, component(c, 'sf_unet'), 'cpu');
    try {
      const table = sigmaTable(PAINTS_UNDO_SCHEDULE);
      const sigmas = samplerSigmas(table, steps);
      const conds = t.float32('out_conds');
      const unconds = t.float32('out_unconds');
      const ctxShape = shapeOf(c, 'out_conds');
      const tokenFloats = conds.length;
      const context = new Float32Array(2 * batch * tokenFloats);
      for (let b = 0; b < batch; b++) {
        context.set(conds, b * tokenFloats);
        context.set(unconds, (batch + b) * tokenFloats);
      }
      const coded = Array.from(t.int64('in_coded_conds'), Number);
      const [, ch, lh, lw] = latentDims;
      const denoiser = cfgDenoiser(
        (xIn, ts, n) =>
          unet.run({
            sample: xIn,
            dims: [n, ch, lh, lw],
            timesteps: new Array<number>(n).fill(ts),
            context,
            contextDims: [n, ctxShape[1] ?? 0, ctxShape[2] ?? 0],
            concat: t.float32('out_concat_conds'),
            concatDims: shapeOf(c, 'out_concat_conds') as [number, number, number, number],
            coded: [...coded, ...coded],
          }),
        table,
        cfgOf(c),
        batch,
      );
      const xs = t.float32('out_step_x');
      const ds = t.float32('out_step_denoised');
      const tf = teacherForcedTolerance(c, 'out_step_denoised') ?? toleranceFor(c, 'out_step_denoised');
      const stepSize = batch * per;
      for (let i = 0; i < steps; i++) {
        const x = xs.slice(i * stepSize, (i + 1) * stepSize);
        const d = await denoiser(x, sigmas[i] ?? 0, i);
        assertClose(d, ds.slice(i * stepSize, (i + 1) * stepSize), tf, `teacher-forced denoised, step ${i}`);
        const next = dpmpp2mStep(x, ds.slice(i * stepSize, (i + 1) * stepSize), i === 0 ? undefined : ds.slice((i - 1) * stepSize, i * stepSize), sigmas, i);
        const want = i + 1 < steps ? xs.slice((i + 1) * stepSize, (i + 2) * stepSize) : t.float32('out_latents');
        assertClose(next, want, toleranceFor(c, i + 1 < steps ? 'out_step_x' : 'out_latents'), `update x[${i}] -> x[${i + 1}]`);
      }
      // Initial latents: zeros + noise * sigmas[0], the same noise for every item.
      const noise = t.float32('in_noise');
      const x0 = xs.slice(0, stepSize);
      const want0 = new Float32Array(stepSize);
      for (let b = 0; b < batch; b++) for (let k = 0; k < per; k++) want0[b * per + k] = Math.fround((noise[k] ?? 0) * (sigmas[0] ?? 0));
      assertClose(want0, x0, toleranceFor(c, 'out_step_x'), 'initial latents');
    } finally {
      await unet.release();
    }
  });

  test(`${name}: the whole process() through the pipeline (free-running chain, batch ${batch})`, async () => {
    const [ih, iw] = shapeOf(c, 'in_fg_image');
    const models = {
      tokenizer: ClipTokenizer.fromFolder(component(c, 'tokenizer')),
      textEncoder: await ClipTextEncoder.load(runtime, component(c, 'clip_text'), 'cpu'),
      vae: await Vae.load(runtime, component(c, 'sd_vae'), 'cpu'),
      unet: await Unet.load(runtime, component(c, 'sf_unet'), 'cpu'),
    };
    try {
      const seen: number[] = [];
      const result = await generateKeyframes(models, { width: iw ?? 0, height: ih ?? 0, channels: 3, data: t.uint8('in_fg_image') }, {
        prompt: prompts.prompt,
        negativePrompt: prompts.n_prompt,
        operationSteps: Array.from(t.int64('in_coded_conds'), Number),
        width,
        height,
        steps,
        cfg: cfgOf(c),
        noise: t.float32('in_noise'),
        hooks: { onStep: ({ i }) => seen.push(i) },
      });
      assert.deepEqual(seen, Array.from({ length: steps }, (_, i) => i));
      assertClose(result.latents, t.float32('out_latents'), toleranceFor(c, 'out_latents'), 'free-running latents');
      // Pixels from our own latents: the chain's drift (atol above) passes through the decoder, so use the case-wide atol.
      const tol = { atol: (c.tolerance as { atol: number }).atol, rtol: (c.tolerance as { rtol: number }).rtol };
      assertClose(result.pixels, t.float32('out_pixels_float'), tol, 'pixels');
      // The backend splits the UNet batch to bound memory: the same chain, one sample per call.
      const split = await generateKeyframes(models, { width: iw ?? 0, height: ih ?? 0, channels: 3, data: t.uint8('in_fg_image') }, {
        prompt: prompts.prompt,
        negativePrompt: prompts.n_prompt,
        operationSteps: Array.from(t.int64('in_coded_conds'), Number),
        width,
        height,
        steps,
        cfg: cfgOf(c),
        noise: t.float32('in_noise'),
        unetBatch: 1,
      });
      assertClose(split.latents, result.latents, toleranceFor(c, 'out_latents'), 'latents with unetBatch 1');
      const u8 = t.uint8('out_pixels_u8');
      result.images.forEach((img, b) => {
        const want = u8.subarray(b * img.data.length, (b + 1) * img.data.length);
        const worst = want.reduce((m, v, k) => Math.max(m, Math.abs(v - (img.data[k] ?? 0))), 0);
        assert.ok(worst <= 1, `image ${b}: a pixel differs by ${worst}`);
      });
    } finally {
      await models.textEncoder.release();
      await models.vae.release();
      await models.unet.release();
    }
  });
}
