/**
 * The full-size key and shape lists of the real checkpoints (../shared/golden/keys/) must be accepted by
 * the same builders' shape checks that load the models, with the real configs stored next to them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatProblem } from '../../models/src/graph/weights.js';
import { SINGLE_FRAME_SNAPSHOT } from '../../models/src/manifest.js';
import { checkKeyList } from '../../models/src/verify.js';
import { GOLDEN_DIR, loadManifest } from './golden.js';

const KeyFileSchema = z.object({ config: z.record(z.string(), z.unknown()), keys: z.record(z.string(), z.array(z.number().int())) }).loose();
const manifest = loadManifest();

for (const spec of SINGLE_FRAME_SNAPSHOT.components) {
  if (spec.kind === 'clip-tokenizer') continue;
  const entry = manifest.real_model_keys[spec.keyList];
  test(`real ${spec.folder} key list (${spec.keyList}) passes the loader's shape checks`, () => {
    assert.ok(entry, `the golden manifest has no real_model_keys.${spec.keyList}`);
    const keyFile = KeyFileSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, entry.file), 'utf8')));
    const problems = checkKeyList(spec.kind as Exclude<typeof spec.kind, 'clip-tokenizer'>, keyFile.config, keyFile.keys);
    assert.deepEqual(problems.map(formatProblem), []);
  });
}

test('a key list with a wrong shape and a missing tensor is reported precisely', () => {
  const entry = manifest.real_model_keys.sf_unet;
  assert.ok(entry);
  const keyFile = KeyFileSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, entry.file), 'utf8')));
  const keys: Record<string, number[]> = { ...keyFile.keys, 'conv_out.weight': [4, 320, 3, 1] };
  delete keys['mid_block.attentions.0.proj_out.bias'];
  const problems = checkKeyList('sf-unet', keyFile.config, keys).map(formatProblem);
  assert.deepEqual(problems.sort(), [
    'missing tensor mid_block.attentions.0.proj_out.bias (expected shape [1280])',
    'tensor conv_out.weight has shape [4, 320, 3, 1], expected [4, 320, 3, 3]',
  ]);
});
