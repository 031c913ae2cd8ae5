import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { evaluateFolder, formatReport, listImages, type Planner } from '../../engine/src/eval/run.js';
import { readPngText } from '../../engine/src/io/png.js';
import { H, W, finalImage, syntheticTimeline, type Variant } from './synthetic.js';

let folder: string;

/** A planner that ignores the image and returns a hand-built process (the input must be finalImage()). */
function plannerOf(variant: Variant): Planner {
  return () => syntheticTimeline(variant);
}

before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'paints-undo-eval-run-'));
  const final = finalImage();
  await writeFile(join(folder, 'grid.png'), await sharp(final.data, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer());
  await writeFile(join(folder, 'notes.txt'), 'not an image, and not picked up');
});

test('a folder of good processes passes, with a sheet per image carrying provenance', async () => {
  const sheets = join(folder, 'sheets');
  const report = await evaluateFolder(folder, { sheetDir: sheets, sheetFrames: 4 }, { planner: plannerOf('good') });
  assert.equal(report.images.length, 1);
  const image = report.images[0]!;
  assert.equal(image.pass, true);
  assert.equal(image.width, W);
  assert.ok(image.sheet && existsSync(image.sheet));
  assert.match(readPngText(new Uint8Array(await readFile(image.sheet))).get('Description') ?? '', /reconstruction/);
  assert.equal(report.pass, true);
  assert.ok(report.totals.every((t) => t.failed === 0));
  const text = formatReport(report);
  assert.match(text, /grid\.png {2}128x96 {2}lineart/);
  assert.match(text, /^PASS: 1 image\(s\), every threshold met \(seed 12345\)\.$/m);
});

test('a failing process fails the report and says where to look', async () => {
  const report = await evaluateFolder(folder, { seed: 7 }, { planner: plannerOf('idle') });
  assert.equal(report.pass, false);
  assert.equal(report.seed, 7);
  const idle = report.totals.find((t) => t.id === 'idle');
  assert.deepEqual({ passed: idle?.passed, failed: idle?.failed }, { passed: 0, failed: 1 });
  const text = formatReport(report);
  assert.match(text, /idle ops\s+6\.01%\s+<= 2\.00%\s+FAIL/);
  assert.match(text, /idle ops: 60 \(flats 60\); e\.g\. steps /);
  assert.match(text, /^FAIL: 1 of 1 image\(s\)/m);
});

test('an unreadable image is a failed row, not an aborted run', async () => {
  const mixed = await mkdtemp(join(tmpdir(), 'paints-undo-eval-mixed-'));
  await writeFile(join(mixed, 'a.png'), await readFile(join(folder, 'grid.png')));
  await writeFile(join(mixed, 'b.jpg'), Buffer.from('definitely not a jpeg'));
  const report = await evaluateFolder(mixed, {}, { planner: plannerOf('good') });
  assert.deepEqual(
    report.images.map((i) => i.pass),
    [true, false],
  );
  assert.match(report.images[1]!.error?.code ?? '', /^INPUT_/);
  assert.match(formatReport(report), /b\.jpg: could not be evaluated: INPUT_/);
});

test('folders without images and bad options are refused with what to do', async () => {
  const empty = join(folder, 'empty');
  await mkdir(empty);
  await assert.rejects(listImages(empty), (e: unknown) => e instanceof PaintsUndoError && e.code === 'INPUT_NOT_FOUND' && /holds no images/.test(e.message));
  await assert.rejects(listImages(join(folder, 'missing')), (e: unknown) => e instanceof PaintsUndoError && e.code === 'INPUT_NOT_FOUND');
  assert.deepEqual(await listImages(join(folder, 'grid.png')), [join(folder, 'grid.png')]);
  await assert.rejects(
    evaluateFolder(folder, { seed: -1, size: 10 }, { planner: plannerOf('good') }),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'INVALID_OPTION' && /seed/.test(e.message) && /size/.test(e.message),
  );
});

test('an unwritable sheet folder stops the run before any image, as an output error', async () => {
  const blocker = join(folder, 'a-file');
  await writeFile(blocker, 'in the way');
  await assert.rejects(
    evaluateFolder(folder, { sheetDir: join(blocker, 'sheets') }, { planner: plannerOf('good') }),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'OUTPUT_NOT_WRITABLE',
  );
});
