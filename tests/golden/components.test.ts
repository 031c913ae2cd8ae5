/**
 * CLIP text, VAE and UNet golden cases through the same loader the backend uses (components.ts), on
 * CPU in float32. Batch > 1 is the stored batch; batch 1 re-runs the first item alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClipTextEncoder, Unet, Vae } from '../../models/src/components.js';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import { assertClose, casesOf, componentFolder, loadManifest, openCase, shapeOf, toleranceFor } from './golden.js';

const manifest = loadManifest();
let runtime: OrtRuntime;
before(() => {
  runtime = OrtRuntime.start();
});
after(async () => {
  await runtime.dispose();
});

function dims4(shape: number[]): [number, number, number, number] {
  assert.equal(shape.length, 4);
  return shape as [number, number, number, number];
}

/** The first item of a batch tensor. */
function first(data: Float32Array, shape: number[]): Float32Array {
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  return data.slice(0, per);
}

for (const [name, c] of casesOf(manifest, 'clip_text_sd15')) {
  test(`${name}: last_hidden_state, batch ${shapeOf(c, 'in_ids')[0]} and 1`, async () => {
    const component = c.components.find((x) => x.startsWith('clip_text'));
    assert.ok(component);
    const t = openCase(c);
    const encoder = await ClipTextEncoder.load(runtime, componentFolder(manifest, component), 'cpu');
    try {
      const idsShape = shapeOf(c, 'in_ids');
      const ids = Array.from(t.int64('in_ids'), Number);
      const rows = Array.from({ length: idsShape[0] ?? 0 }, (_, i) => ids.slice(i * (idsShape[1] ?? 0), (i + 1) * (idsShape[1] ?? 0)));
      const want = t.float32('out_last_hidden_state');
      const tol = toleranceFor(c, 'out_last_hidden_state');
      assertClose(await encoder.encode(rows), want, tol, `${name} batch ${rows.length}`);
      assertClose(await encoder.encode(rows.slice(0, 1)), first(want, shapeOf(c, 'out_last_hidden_state')), tol, `${name} batch 1`);
    } finally {
      await encoder.release();
    }
  });
}

// Both attention forms: the plain graph (CPU default) and com.microsoft.MultiHeadAttention (CUDA default).
const ATTENTION = [false, true] as const;

for (const [name, c] of casesOf(manifest, 'sd_vae')) for (const fusedAttention of ATTENTION) {
  test(`${name}: encode mode / scaled and decode, batch ${shapeOf(c, 'in_x')[0]} and 1${fusedAttention ? ', fused attention' : ''}`, async () => {
    const component = c.components[0];
    assert.ok(component);
    const t = openCase(c);
    const vae = await Vae.load(runtime, componentFolder(manifest, component), 'cpu', { fusedAttention });
    try {
      const xShape = dims4(shapeOf(c, 'in_x'));
      const zShape = dims4(shapeOf(c, 'in_z'));
      const mode = await vae.encode(t.float32('in_x'), xShape);
      assertClose(mode, t.float32('out_latent_mode'), toleranceFor(c, 'out_latent_mode'), `${name} latent_mode`);
      const scaling = Number(c.scaling_factor ?? vae.config.scaling_factor);
      assert.equal(scaling, vae.config.scaling_factor);
      assertClose(mode.map((v) => Math.fround(v * scaling)), t.float32('out_latent_scaled'), toleranceFor(c, 'out_latent_scaled'), `${name} latent_scaled`);
      const decoded = await vae.decode(t.float32('in_z'), zShape);
      assertClose(decoded, t.float32('out_decoded'), toleranceFor(c, 'out_decoded'), `${name} decoded`);
      const one = await vae.decode(first(t.float32('in_z'), zShape), [1, zShape[1], zShape[2], zShape[3]]);
      assertClose(one, first(t.float32('out_decoded'), shapeOf(c, 'out_decoded')), toleranceFor(c, 'out_decoded'), `${name} decoded batch 1`);
    } finally {
      await vae.release();
    }
  });
}

for (const [name, c] of casesOf(manifest, 'sf_unet')) for (const fusedAttention of ATTENTION) {
  test(`${name}: eps with concat and coded conds, batch ${shapeOf(c, 'in_sample')[0]} and 1${fusedAttention ? ', fused attention' : ''}`, async () => {
    const component = c.components[0];
    assert.ok(component);
    const t = openCase(c);
    const unet = await Unet.load(runtime, componentFolder(manifest, component), 'cpu', { fusedAttention });
    try {
      const dims = dims4(shapeOf(c, 'in_sample'));
      const ctxShape = shapeOf(c, 'in_encoder_hidden_states') as [number, number, number];
      const concatDims = dims4(shapeOf(c, 'in_concat_conds'));
      const timesteps = Array.from(t.int64('in_timestep'), Number);
      const coded = Array.from(t.int64('in_coded_conds'), Number);
      const want = t.float32('out_eps');
      const tol = toleranceFor(c, 'out_eps');
      const eps = await unet.run({
        sample: t.float32('in_sample'),
        dims,
        timesteps,
        context: t.float32('in_encoder_hidden_states'),
        contextDims: ctxShape,
        concat: t.float32('in_concat_conds'),
        concatDims,
        coded,
      });
      assertClose(eps, want, tol, `${name} batch ${dims[0]}`);
      // Batch 1: the last item (different timestep and operation step than the first).
      const k = dims[0] - 1;
      const per = dims[1] * dims[2] * dims[3];
      const ctxPer = ctxShape[1] * ctxShape[2];
      const concatPer = concatDims[1] * concatDims[2] * concatDims[3];
      const concatIndex = concatDims[0] === 1 ? 0 : k;
      const one = await unet.run({
        sample: t.float32('in_sample').slice(k * per, (k + 1) * per),
        dims: [1, dims[1], dims[2], dims[3]],
        timesteps: [timesteps[k] ?? 0],
        context: t.float32('in_encoder_hidden_states').slice(k * ctxPer, (k + 1) * ctxPer),
        contextDims: [1, ctxShape[1], ctxShape[2]],
        concat: t.float32('in_concat_conds').slice(concatIndex * concatPer, (concatIndex + 1) * concatPer),
        concatDims: [1, concatDims[1], concatDims[2], concatDims[3]],
        coded: [coded[coded.length === 1 ? 0 : k] ?? 0],
      });
      assertClose(one, want.slice(k * per, (k + 1) * per), tol, `${name} batch 1`);
    } finally {
      await unet.release();
    }
  });
}
