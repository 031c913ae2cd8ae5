import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { SourceImage } from '../../engine/src/core/backend.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { parseOrThrow, JobInputSchema, type JobInput, type JobKind } from '../../engine/src/core/job.js';
import { decodeImageBuffer } from '../../engine/src/io/decode.js';
import { JOB_KINDS, jobKindOf } from '../../engine/src/jobs/kinds.js';
import { outputKindOf, preflight, runJob, type JobEnvironment } from '../../engine/src/jobs/run.js';
import { tempFolder, testCard } from './helpers.js';

const dir = tempFolder();
let a: SourceImage;
let b: SourceImage;

async function decodeCard(seed: number): Promise<SourceImage> {
  const card = testCard(96, 64, seed);
  const png = await sharp(Buffer.from(card.data), { raw: { width: 96, height: 64, channels: 3 } }).png().toBuffer();
  return (await decodeImageBuffer(png)).source;
}

before(async () => {
  [a, b] = await Promise.all([decodeCard(1), decodeCard(2)]);
});

const env = (): JobEnvironment => ({
  resolveImage: (id) => {
    const found = [a, b].find((s) => s.id === id);
    if (!found) throw new PaintsUndoError('INPUT_NOT_FOUND', `unknown image ${id}`);
    return found;
  },
});

/** One small job of every kind; the record type makes a new kind without an example a compile error. */
function examples(): Record<JobKind, Record<string, unknown>[]> {
  return {
    frame: [{ kind: 'frame', image: a.id, step: 500 }],
    keyframes: [{ kind: 'keyframes', image: a.id, steps: [900, 100] }],
    interpolate: [{ kind: 'interpolate', from: a.id, to: b.id, frames: 2 }],
    timelapse: [{ kind: 'timelapse', image: a.id, format: 'gif', frames: 3, hold: 0 }],
    layers: [
      { kind: 'layers', image: a.id, format: 'psd' },
      { kind: 'layers', image: a.id, format: 'png' },
    ],
    encode: [{ kind: 'encode', images: [a.id, b.id, a.id], format: 'gif', hold: 0 }],
  };
}

test('every job kind has a row, and writes what its row says: one file of its file name, or a folder', async () => {
  const all = examples();
  assert.deepEqual(Object.keys(JOB_KINDS).sort(), Object.keys(all).sort());
  for (const [kind, fields] of Object.entries(all)) {
    for (const [i, raw] of fields.entries()) {
      const job: JobInput = parseOrThrow(JobInputSchema, raw);
      const row = jobKindOf(job);
      const name = row.fileName(job);
      const output = join(dir, name === undefined ? `${kind}-${i}` : `${kind}-${i}-${name}`);
      await preflight(job, output);
      const result = await runJob(job, output, env());
      assert.equal(result.kind, kind);
      assert.ok(result.files.length > 0, `${kind} wrote files`);
      if (name !== undefined) {
        assert.equal(outputKindOf(job), 'file');
        assert.deepEqual(result.files, [output], `${kind} writes its one file at the output path`);
                assert.ok(statSync(output).isFile());
      } else {
        assert.equal(outputKindOf(job), 'folder');
        assert.ok(statSync(output).isDirectory());
        for (const file of result.files) assert.equal(join(file, '..'), output, `${kind} writes inside its folder`);
      }
      // What the service learns from the row: the images read, and the one the job is about.
      const images = row.images(job);
      assert.ok(images.includes(row.subject(job)));
      assert.equal(new Set(images).size, images.length, 'distinct images');
    }
  }
});

test('a job kind needing no backend operation names none; an encode with a lead-in needs the timelapse', () => {
  const encode = parseOrThrow(JobInputSchema, { kind: 'encode', images: ['0'.repeat(64)] });
  assert.equal(jobKindOf(encode).capability(encode), undefined);
  const leadIn = parseOrThrow(JobInputSchema, { kind: 'encode', images: ['0'.repeat(64)], leadIn: 3 });
  assert.equal(jobKindOf(leadIn).capability(leadIn), 'timelapse');
  const frame = parseOrThrow(JobInputSchema, { kind: 'frame', image: '0'.repeat(64), step: 1 });
  assert.equal(jobKindOf(frame).capability(frame), 'frame');
});
