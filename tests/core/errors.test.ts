import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, PaintsUndoError, invalidOption } from '../../engine/src/core/errors.js';
import { JobInputSchema, parseOrThrow } from '../../engine/src/core/job.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const cliDoc = readFileSync(new URL('../../engine/CLI.md', import.meta.url), 'utf8');

test('every error code is documented for users in README.md and engine/CLI.md', () => {
  const errorsSection = readme.slice(readme.indexOf('## Errors'));
  for (const code of Object.keys(ERROR_CODES)) {
    assert.match(errorsSection, new RegExp('`' + code + '`'), `README.md "Errors" lacks ${code}`);
    assert.match(cliDoc, new RegExp(code), `engine/CLI.md lacks ${code}`);
  }
});

test('errors carry a code, a category and a hint', () => {
  const error = new PaintsUndoError('INPUT_NOT_FOUND', 'No file at a.png.', { hint: 'Check the path.' });
  assert.equal(error.code, 'INPUT_NOT_FOUND');
  assert.equal(error.category, 'input');
  assert.equal(error.hint, 'Check the path.');
  assert.equal(invalidOption('frames', 'positive integer', -3).message, 'Expected positive integer for frames but received -3 (number).');
});

test('job validation names every bad parameter at once', () => {
  assert.throws(
    () => parseOrThrow(JobInputSchema, { kind: 'timelapse', image: 'f'.repeat(64), frames: 1, fps: 'fast' }),
    (error: unknown) => {
      assert.ok(error instanceof PaintsUndoError);
      assert.equal(error.code, 'INVALID_OPTION');
      assert.match(error.message, /for frames but received 1 \(number\)/);
      assert.match(error.message, /for fps but received "fast" \(string\)/);
      return true;
    },
  );
  assert.throws(() => parseOrThrow(JobInputSchema, { kind: 'frame', image: 'f'.repeat(64), step: 1200 }), /for step but received 1200 \(number\)/);
  assert.throws(() => parseOrThrow(JobInputSchema, { kind: 'frame', image: 'nope', step: 1 }), /for image but received "nope"/);
  // Infinity and NaN (a CLI's "1e400", "NaN") are named as they are, not as JSON's null.
  assert.throws(() => parseOrThrow(JobInputSchema, { kind: 'timelapse', image: 'f'.repeat(64), fps: Infinity }), /Expected a finite number for fps but received Infinity \(number\)/);
});
