/**
 * The tagger path of the backend with a stand-in ONNX tagger (the golden case's stub: fixed probabilities
 * for a 6-row tag CSV, described in manifest.cases.preprocess.wd14_stub_note) saved where a user puts the
 * real one: the backend opens it through the runtime, feeds the 448x448 BGR input and formats the tags.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createSingleFrameBackend } from '../../models/src/backends/single-frame.js';
import { GraphBuilder } from '../../models/src/graph/builder.js';
import { WD14_TAGGER } from '../../models/src/manifest.js';
import { casesOf, loadManifest } from '../golden/golden.js';
import { tinyModelsDir } from './tiny-models.js';

const manifest = loadManifest();
const [, preprocess] = casesOf(manifest, 'preprocess')[0] ?? [];
const stub = z.string().parse(preprocess?.wd14_stub_note);
const want = Object.values(z.record(z.string(), z.string()).parse(preprocess?.wd14_tag_strings));
const probs = z.array(z.number()).parse(JSON.parse(/probabilities (\[[^\]]*\])/.exec(stub)?.[1] ?? 'null'));
const rows = (/tag CSV \((.*?)\); thresholds/.exec(stub)?.[1] ?? '').split(';').map((cell) => {
  const at = cell.trim().lastIndexOf(':');
  return [cell.trim().slice(0, at), cell.trim().slice(at + 1)] as const;
});

function standInTagger(size: number): Uint8Array {
  const g = new GraphBuilder('float32');
  const x = g.input('input_1:0', 'float32', [1, size, size, 3]);
  // Depends on the input (so the feed is checked) but always returns the stub's probabilities.
  const zero = g.op('Mul', [g.op('ReduceSum', [x], { keepdims: 0 }), g.scalar(0)]);
  g.output(g.op('Add', [g.floats(probs, [1, probs.length]), zero]), 'predictions_sigmoid', 'float32', [1, probs.length]);
  return g.toBytes('wd14-stand-in');
}

const dir = tinyModelsDir();
mkdirSync(join(dir, WD14_TAGGER.folder));
writeFileSync(join(dir, WD14_TAGGER.folder, WD14_TAGGER.onnx), standInTagger(WD14_TAGGER.inputSize));
writeFileSync(join(dir, WD14_TAGGER.folder, WD14_TAGGER.csv), ['tag_id,name,category,count', ...rows.map(([n, c], i) => `${i},${n},${c},1`)].join('\n'));
const backend = createSingleFrameBackend({ modelsDir: dir, device: 'cpu', warn: () => undefined });
after(() => backend.dispose());

test('without a prompt setting the backend asks the installed WD14 tagger', async () => {
  assert.ok(want.length > 0 && rows.length === probs.length);
  const image = { width: 40, height: 30, channels: 3 as const, data: new Uint8Array(40 * 30 * 3).fill(90) };
  for (const expected of want) assert.equal(await backend.prompt(image), expected);
});

test('a tagger file onnxruntime cannot load is MODEL_MISSING with what to do, and is tried again once replaced', async () => {
  const damaged = tinyModelsDir();
  const folder = join(damaged, WD14_TAGGER.folder);
  mkdirSync(folder);
  writeFileSync(join(folder, WD14_TAGGER.onnx), 'garbage');
  writeFileSync(join(folder, WD14_TAGGER.csv), ['tag_id,name,category,count', ...rows.map(([n, c], i) => `${i},${n},${c},1`)].join('\n'));
  const broken = createSingleFrameBackend({ modelsDir: damaged, device: 'cpu', warn: () => undefined });
  try {
    const image = { width: 40, height: 30, channels: 3 as const, data: new Uint8Array(40 * 30 * 3).fill(90) };
    await assert.rejects(broken.prompt(image), (error: unknown) => {
      const e = error as { code?: string; message?: string; hint?: string };
      return e.code === 'MODEL_MISSING' && /The WD14 tagger in .* cannot be loaded/.test(e.message ?? '') && /PAINTS_UNDO_PROMPT/.test(e.hint ?? '');
    });
    writeFileSync(join(folder, WD14_TAGGER.onnx), standInTagger(WD14_TAGGER.inputSize));
    assert.equal(await broken.prompt(image), want[0]);
  } finally {
    await broken.dispose();
  }
});
