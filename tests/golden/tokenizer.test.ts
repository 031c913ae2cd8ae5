import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ClipTokenizer } from '../../models/src/tokenizer/clip.js';
import { GOLDEN_DIR, casesOf, componentFolder, loadManifest, openCase } from './golden.js';

const manifest = loadManifest();

for (const [name, goldenCase] of casesOf(manifest, 'tokenizer')) {
  const prompts = z
    .object({ prompts: z.array(z.string()), bpe_tokens: z.array(z.array(z.string())).optional() })
    .parse(JSON.parse(readFileSync(join(GOLDEN_DIR, String(goldenCase.prompts_file)), 'utf8')));
  const tensors = openCase(goldenCase);
  for (const output of Object.keys(goldenCase.outputs)) {
    // out_ids_<suffix> pairs with the component tokenizer_<suffix>.
    const suffix = output.replace(/^out_ids_/, '');
    const component = goldenCase.components.find((c) => c === `tokenizer_${suffix}`);
    test(`${name}: ${output} exact for ${prompts.prompts.length} prompts`, () => {
      assert.ok(component, `no tokenizer component for ${output} in case ${name}`);
      const tokenizer = ClipTokenizer.fromFolder(componentFolder(manifest, component));
      const want = tensors.int64(output);
      const [rows, width] = goldenCase.outputs[output]?.shape ?? [];
      assert.equal(rows, prompts.prompts.length);
      prompts.prompts.forEach((prompt, i) => {
        const got = tokenizer.encode(prompt);
        const expected = Array.from(want.subarray(i * (width ?? 0), (i + 1) * (width ?? 0)), Number);
        assert.deepEqual(got, expected, `prompt ${i} ${JSON.stringify(prompt)}`);
      });
    });
  }
  if (prompts.bpe_tokens !== undefined) {
    const bpe = prompts.bpe_tokens;
    test(`${name}: BPE tokens of the sd15 tokenizer`, () => {
      const tokenizer = ClipTokenizer.fromFolder(componentFolder(manifest, 'tokenizer_sd15'));
      prompts.prompts.forEach((prompt, i) => assert.deepEqual(tokenizer.tokenize(prompt), bpe[i], `prompt ${i}`));
    });
  }
}
