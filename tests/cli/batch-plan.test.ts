/**
 * How a batch finds its inputs and names its outputs, on real folders: recursion mirrored in the output,
 * one file reached twice taken once, earlier results inside the batch's own output folders left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandInputs, isBatch } from '../../engine/src/cli/batch/inputs.js';
import { planOutputs } from '../../engine/src/cli/batch/plan.js';
import { tempFolder } from '../io/helpers.js';

const dir = tempFolder('paints-undo-batch-plan-');
const touch = (...parts: string[]): void => writeFileSync(join(dir, ...parts), 'x');

mkdirSync(join(dir, 'art', '2024', 'spring'), { recursive: true });
mkdirSync(join(dir, 'art', '.cache'));
touch('art', 'a.png');
touch('art', 'notes.txt');
touch('art', '.hidden.png');
touch('art', '.cache', 'c.png');
touch('art', '2024', 'b.JPG');
touch('art', '2024', 'spring', 'c.webp');
symlinkSync(join(dir, 'art', '2024'), join(dir, 'art', 'linked'));
touch('odd[1].png');

test('isBatch: several arguments, a folder or a pattern; one existing file is a single job even with glob characters', async () => {
  assert.equal(await isBatch([join(dir, 'art', 'a.png')]), false);
  assert.equal(await isBatch([join(dir, 'odd[1].png')]), false);
  assert.equal(await isBatch([join(dir, 'missing.png')]), false, 'a missing file is a single job that reports it');
  assert.equal(await isBatch([join(dir, 'art')]), true);
  assert.equal(await isBatch([join(dir, 'art', '*.png')]), true);
  assert.equal(await isBatch([join(dir, 'art', 'a.png'), join(dir, 'odd[1].png')]), true);
});

test('a folder gives the images directly in it; --recursive those below too, mirrored, each file once', async () => {
  const flat = await expandInputs([join(dir, 'art')], { recursive: false });
  assert.deepEqual(flat.inputs.map((i) => [i.path, i.subfolder]), [[join(dir, 'art', 'a.png'), '']]);
  const deep = await expandInputs([join(dir, 'art'), join(dir, 'art', 'a.png')], { recursive: true });
  assert.deepEqual(
    deep.inputs.map((i) => [i.path.slice(dir.length + 1), i.subfolder]),
    [
      ['art/a.png', ''],
      ['art/2024/b.JPG', '2024'],
      ['art/2024/spring/c.webp', join('2024', 'spring')],
    ],
    'no hidden files, no text files, and the symlinked folder does not add its files again',
  );
  const plan = await planOutputs(deep.inputs, join(dir, 'out'), { kind: 'file', extension: '.mp4' });
  assert.deepEqual(plan.planned.map((p) => p.output.slice(dir.length + 1)), ['out/a.mp4', 'out/2024/b.mp4', 'out/2024/spring/c.mp4']);
  assert.ok(plan.planned.every((p) => !p.done));
});

test('arguments that give nothing are reported, the rest still run', async () => {
  mkdirSync(join(dir, 'empty'));
  const result = await expandInputs([join(dir, 'empty'), join(dir, 'art', '*.gif'), join(dir, 'nope.png'), join(dir, 'art', 'a.png')], { recursive: false });
  assert.equal(result.inputs.length, 1);
  assert.deepEqual(
    result.unmatched.map((u) => [u.error.code, u.error.message.replace(dir, '<dir>')]),
    [
      ['INPUT_NOT_FOUND', 'The folder <dir>/empty holds no images directly in it.'],
      ['INPUT_NOT_FOUND', 'No image matches the pattern <dir>/art/*.gif.'],
      ['INPUT_NOT_FOUND', 'The input <dir>/nope.png does not exist.'],
    ],
  );
});

test('results of an earlier run inside the batch\'s own output folders are left out; a finished output marks its input done', async () => {
  const root = join(dir, 'studio');
  mkdirSync(join(root, 'cat'), { recursive: true });
  writeFileSync(join(root, 'cat.png'), 'x');
  writeFileSync(join(root, 'dog.png'), 'x');
  // keyframes with -o studio wrote studio/cat/step-0400.png last time.
  writeFileSync(join(root, 'cat', 'step-0400.png'), 'x');
  const { inputs } = await expandInputs([join(root, '**/*.png')], { recursive: false });
  assert.equal(inputs.length, 3);
  const plan = await planOutputs(inputs, root, { kind: 'folder' });
  assert.deepEqual(plan.leftOut.map((i) => i.path), [join(root, 'cat', 'step-0400.png')]);
  assert.deepEqual(plan.planned.map((p) => [p.output, p.done]), [
    [join(root, 'cat'), true],
    [join(root, 'dog'), false],
  ]);
});

test('an earlier run\'s GIF or PSD inside -o is left out when paints-undo wrote it; an artist\'s own file of that name still stops the batch', async () => {
  const { PROVENANCE_NOTICE } = await import('../../engine/src/io/provenance.js');
  const root = join(dir, 'gifs');
  mkdirSync(join(root, 'out'), { recursive: true });
  for (const name of ['cat.png', 'dog.png', 'owl.png']) writeFileSync(join(root, name), 'x');
  // Written by paints-undo last time: its notice in the metadata (as a GIF comment holds it, after the header).
  const ours = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(800), Buffer.from(PROVENANCE_NOTICE, 'latin1'), Buffer.alloc(10)]);
  writeFileSync(join(root, 'cat.gif'), ours);
  writeFileSync(join(root, 'out', 'dog.gif'), ours);
  // An artist's own GIF in the input folder, without the notice.
  writeFileSync(join(root, 'owl.gif'), Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(900)]));
  const rerun = async (pattern: string, out: string, recursive = false): Promise<Awaited<ReturnType<typeof planOutputs>>> =>
    planOutputs((await expandInputs([pattern], { recursive })).inputs, out, { kind: 'file', extension: '.gif' });

  // -o is the input folder: cat.gif is cat.png's earlier output; owl.gif is not ours and would be replaced.
  await assert.rejects(rerun(join(root, '*.*'), root), (error: Error & { code?: string }) => error.code === 'INVALID_OPTION' && /owl\.png would write .*owl\.gif, which is the input .*owl\.gif/.test(error.message));
  const withoutOwl = await rerun(join(root, '{cat,dog}.*'), root);
  assert.deepEqual(withoutOwl.leftOut.map((i) => i.path), [join(root, 'cat.gif')]);
  assert.deepEqual(withoutOwl.planned.map((p) => [p.output, p.done]), [
    [join(root, 'cat.gif'), true],
    [join(root, 'dog.gif'), false],
  ]);
  // -o a sub-folder of a recursive batch: its results are not inputs either.
  const sub = await rerun(join(root, 'out'), join(root, 'out'), true);
  assert.deepEqual(sub.leftOut.map((i) => i.path), [join(root, 'out', 'dog.gif')]);
  // Outside -o, a file paints-undo wrote is an input like any other.
  const elsewhere = await rerun(join(root, 'cat.gif'), join(root, 'out'));
  assert.deepEqual(elsewhere.planned.map((p) => p.output), [join(root, 'out', 'cat.gif')]);
});
