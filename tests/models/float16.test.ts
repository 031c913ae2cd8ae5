/**
 * The float16 graphs (what CUDA runs) checked on CPU, where onnxruntime runs float16 nodes through
 * inserted casts: this proves the graphs are well-typed and that weights rounded to float16 with
 * float32 softmax/normalisation stay close to the float32 golden outputs. It is not a CUDA precision
 * test. Bound: 2% of the largest output magnitude (float16 keeps 11 significant bits, about 5e-4
 * relative per rounding, compounded over the tiny models' dozens of layers; measured 0.1-0.6%).
 */
import { test } from 'node:test';
import { openWeights, readConfig } from '../../models/src/components.js';
import { ClipTextConfigSchema, buildClipText } from '../../models/src/graph/clip-text.js';
import { UnetConfigSchema, buildUnet } from '../../models/src/graph/unet.js';
import { VaeConfigSchema, buildVaeDecoder, buildVaeEncoder } from '../../models/src/graph/vae.js';
import { float32Tensor, int64Tensor } from '../../models/src/runtime/onnxruntime.js';
import { assertFloat16Near, float16Runner } from './float16-helpers.js';
import { casesOf, componentFolder, loadManifest, openCase, shapeOf } from '../golden/golden.js';

const manifest = loadManifest();
const run = float16Runner();
const assertNear = assertFloat16Near;

for (const [name, c] of casesOf(manifest, 'sf_unet')) {
  test(`float16 UNet graph with fused attention, as CUDA runs it (${name})`, async () => {
    const folder = componentFolder(manifest, c.components[0] ?? '');
    const t = openCase(c);
    const built = buildUnet(readConfig(folder, UnetConfigSchema), openWeights(folder), 'float16', { fusedAttention: true });
    const eps = await run(built, folder, {
      sample: float32Tensor(t.float32('in_sample'), shapeOf(c, 'in_sample')),
      timestep: int64Tensor(t.int64('in_timestep'), shapeOf(c, 'in_timestep')),
      encoder_hidden_states: float32Tensor(t.float32('in_encoder_hidden_states'), shapeOf(c, 'in_encoder_hidden_states')),
      concat_conds: float32Tensor(t.float32('in_concat_conds'), shapeOf(c, 'in_concat_conds')),
      coded_conds: int64Tensor(t.int64('in_coded_conds'), shapeOf(c, 'in_coded_conds')),
    }, 'eps');
    assertNear(eps, t.float32('out_eps'), name);
  });
}

for (const [name, c] of casesOf(manifest, 'clip_text_sd15')) {
  test(`float16 CLIP text graph (${name})`, async () => {
    const folder = componentFolder(manifest, c.components.find((x) => x.startsWith('clip_text')) ?? '');
    const t = openCase(c);
    const built = buildClipText(readConfig(folder, ClipTextConfigSchema), openWeights(folder), 'float16');
    const out = await run(built, folder, { input_ids: int64Tensor(t.int64('in_ids'), shapeOf(c, 'in_ids')) }, 'last_hidden_state');
    assertNear(out, t.float32('out_last_hidden_state'), name);
  });
}

for (const [name, c] of casesOf(manifest, 'sd_vae')) {
  test(`float16 VAE graphs (${name})`, async () => {
    const folder = componentFolder(manifest, c.components[0] ?? '');
    const t = openCase(c);
    const config = readConfig(folder, VaeConfigSchema);
    const mode = await run(buildVaeEncoder(config, openWeights(folder), 'float16'), folder, { pixels: float32Tensor(t.float32('in_x'), shapeOf(c, 'in_x')) }, 'latent_mode');
    assertNear(mode, t.float32('out_latent_mode'), `${name} encode`);
    const decoded = await run(buildVaeDecoder(config, openWeights(folder), 'float16'), folder, { latents: float32Tensor(t.float32('in_z'), shapeOf(c, 'in_z')) }, 'sample');
    assertNear(decoded, t.float32('out_decoded'), `${name} decode`);
  });
}
