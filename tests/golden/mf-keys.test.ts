/**
 * The full-size key lists of the real multi-frame checkpoints (../shared/golden/keys/) must pass the same
 * builders' shape checks with the real configs stored next to them, and a wrong config or checkpoint must
 * be reported precisely (the 3D UNet and resampler configs there are inferred, not read from the real files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatProblem } from '../../models/src/graph/weights.js';
import { MULTI_FRAME_SNAPSHOT, checkMultiFrameKeyList } from '../../models/src/multi-frame/manifest.js';
import { GOLDEN_DIR, loadManifest } from './golden.js';

const KeyFileSchema = z.object({ config: z.record(z.string(), z.unknown()), keys: z.record(z.string(), z.array(z.number().int())) }).loose();
const manifest = loadManifest();

function keyFile(name: string): z.infer<typeof KeyFileSchema> {
  const entry = manifest.real_model_keys[name];
  assert.ok(entry, `the golden manifest has no real_model_keys.${name}`);
  return KeyFileSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, entry.file), 'utf8')));
}

for (const spec of MULTI_FRAME_SNAPSHOT.components) {
  if (spec.kind === 'clip-tokenizer') continue;
  const kind = spec.kind;
  test(`real multi-frame ${spec.folder} key list (${spec.keyList}) passes the loader's shape checks`, () => {
    const file = keyFile(spec.keyList);
    assert.deepEqual(checkMultiFrameKeyList(kind, file.config, file.keys).map(formatProblem), []);
  });
}

test('3D UNet: a config that disagrees with the weights is reported tensor by tensor', () => {
  const file = keyFile('mf_unet');
  // A checkpoint with 16-frame relative-position tables while the config says none, and a wider context.
  const keys = {
    ...file.keys,
    'init_attn.0.transformer_blocks.0.attn1.relative_position_k.embeddings_table': [33, 64],
  };
  const problems = checkMultiFrameKeyList('mf-unet', { ...file.config, context_dim: 768 }, keys).map(formatProblem);
  assert.ok(
    problems.includes('tensor input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight has shape [320, 1024], expected [320, 768]'),
    problems.slice(0, 5).join('\n'),
  );
  assert.ok(problems.includes('unexpected tensor init_attn.0.transformer_blocks.0.attn1.relative_position_k.embeddings_table [33, 64] (not used by the model described by config.json)'));
});

test('Resampler and VAE: missing tensors and wrong sizes are named', () => {
  const projection = keyFile('mf_projection');
  const keys = { ...projection.keys };
  delete keys['layers.3.1.3.weight'];
  const problems = checkMultiFrameKeyList('mf-projection', { ...projection.config, num_queries: 8 }, keys).map(formatProblem);
  assert.ok(problems.includes('missing tensor layers.3.1.3.weight (expected shape [1024, 4096])'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('tensor latents has shape [1, 256, 1024], expected [1, 128, 1024]')), problems.join('\n'));

  const vae = keyFile('mf_vae');
  const vaeProblems = checkMultiFrameKeyList('mf-vae', vae.config, { ...vae.keys, 'post_quant_conv.weight': [8, 4, 1, 1] }).map(formatProblem);
  assert.deepEqual(vaeProblems, ['tensor post_quant_conv.weight has shape [8, 4, 1, 1], expected [4, 4, 1, 1]']);
});

test('an unsupported config is refused with the offending fields', () => {
  const file = keyFile('mf_unet');
  assert.throws(() => checkMultiFrameKeyList('mf-unet', { ...file.config, image_cross_attention: false, temporal_length: 'x' }, file.keys), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /image_cross_attention/);
    assert.match(error.message, /temporal_length/);
    return true;
  });
});
