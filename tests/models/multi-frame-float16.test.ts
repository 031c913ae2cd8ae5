/**
 * The multi-frame float16 graphs (what CUDA runs) checked on CPU, where onnxruntime runs float16 nodes
 * through inserted casts: the graphs are well-typed and, with float32 softmax/normalisation, stay close
 * to the float32 golden outputs. Not a CUDA precision test. Bound as for the single-frame graphs: 2% of
 * the largest output magnitude.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClipVisionConfigSchema, buildClipVision, positionIds } from '../../models/src/multi-frame/clip-vision.js';
import { readConfig } from '../../models/src/components.js';
import { openComponentWeights } from '../../models/src/multi-frame/config.js';
import { clipVisionPreprocess } from '../../models/src/multi-frame/preprocess.js';
import { ResamplerConfigSchema, buildResampler } from '../../models/src/multi-frame/projection.js';
import { Unet3dConfigSchema, buildUnet3d } from '../../models/src/multi-frame/unet3d.js';
import { VideoVaeConfigSchema, buildVideoVaeDecoder } from '../../models/src/multi-frame/vae.js';
import { float32Tensor, int64Tensor } from '../../models/src/runtime/onnxruntime.js';
import type { TensorData } from '../../models/src/runtime/onnxruntime.js';
import { assertFloat16Near, float16Runner } from './float16-helpers.js';
import { casesOf, componentFolder, loadManifest, openCase, shapeOf } from '../golden/golden.js';

const manifest = loadManifest();
const run = float16Runner();
const assertNear = assertFloat16Near;

function folderOf(component: string | undefined): string {
  assert.ok(component);
  return componentFolder(manifest, component);
}

for (const [name, c] of casesOf(manifest, 'mf_projection')) {
  test(`float16 resampler graph (${name})`, async () => {
    const folder = folderOf(c.components[0]);
    const t = openCase(c);
    const built = buildResampler(readConfig(folder, ResamplerConfigSchema), openComponentWeights(folder), 'float16');
    const got = await run(built, folder, { image_embeds: float32Tensor(t.float32('in_x'), shapeOf(c, 'in_x')) }, 'image_context');
    assertNear(got, t.float32('out_y'), name);
  });
}

for (const [name, c] of casesOf(manifest, 'mf_clip_vision')) {
  test(`float16 CLIP-vision graph (${name}, all-zero frames)`, async () => {
    const folder = folderOf(c.components[0]);
    const t = openCase(c);
    const config = readConfig(folder, ClipVisionConfigSchema);
    const output = Object.keys(c.outputs).find((o) => o.startsWith('out_embeds_zeros_'));
    assert.ok(output);
    const [n, h, w] = shapeOf(c, `in_frames_u8_${output.replace('out_embeds_zeros_', '')}`) as [number, number, number];
    const pixels = clipVisionPreprocess(new Float32Array(n * 3 * h * w), n, h, w);
    const ids = positionIds(pixels.height / config.patch_size, pixels.width / config.patch_size);
    const got = await run(buildClipVision(config, openComponentWeights(folder), 'float16'), folder, {
      pixel_values: float32Tensor(pixels.data, [n, 3, pixels.height, pixels.width]),
      position_ids: int64Tensor(ids, [ids.length]),
    }, 'last_hidden_state');
    assertNear(got, t.float32(output), name);
  });
}

for (const [name, c] of casesOf(manifest, 'mf_vae')) {
  test(`float16 video VAE decoder graph (${name})`, async () => {
    const folder = folderOf(c.components[0]);
    const t = openCase(c);
    const dims = shapeOf(c, 'in_latents');
    const built = buildVideoVaeDecoder(readConfig(folder, VideoVaeConfigSchema), openComponentWeights(folder), 'float16', dims[2] ?? 16);
    const feeds: Record<string, TensorData> = { latents: float32Tensor(t.float32('in_latents'), dims) };
    for (const o of Object.keys(c.outputs).filter((x) => x.startsWith('out_hidden_'))) {
      feeds[`context_${o.replace('out_hidden_', '')}`] = float32Tensor(t.float32(o), shapeOf(c, o));
    }
    assertNear(await run(built, folder, feeds, 'pixels'), t.float32('out_pixels'), name);
  });
}

for (const [name, c] of casesOf(manifest, 'mf_unet')) {
  test(`float16 3D UNet graph (${name}, first sample)`, async () => {
    const folder = folderOf(c.components[0]);
    const t = openCase(c);
    // Batch 1: float16 on the CPU runs through casts and is slow.
    const first = (tensor: string): Float32Array => {
      const all = t.float32(tensor);
      return all.subarray(0, all.length / (shapeOf(c, tensor)[0] ?? 1));
    };
    const one = (tensor: string): number[] => [1, ...shapeOf(c, tensor).slice(1)];
    const dims = one('in_x');
    const built = buildUnet3d(readConfig(folder, Unet3dConfigSchema), openComponentWeights(folder), 'float16', dims[2] ?? 16);
    const got = await run(built, folder, {
      x: float32Tensor(first('in_x'), dims),
      timesteps: int64Tensor(t.int64('in_timesteps').subarray(0, 1), [1]),
      context_text: float32Tensor(first('in_context_text'), one('in_context_text')),
      context_img: float32Tensor(first('in_context_img'), one('in_context_img')),
      concat_cond: float32Tensor(first('in_concat_cond'), one('in_concat_cond')),
      fs: int64Tensor(t.int64('in_fs').subarray(0, 1), [1]),
    }, 'y');
    assertNear(got, first('out_y'), name);
  });
}
