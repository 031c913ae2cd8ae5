import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTags, parseTagCsv, resizeLanczos } from '../../models/src/tagger/wd14.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';

const CSV = 'tag_id,name,category,count\n9999,general,9,1\n1,1girl,0,5\n2,":d",0,3\n3,solo_(focus),0,2\n4,miku,4,1\n';

test('general and character thresholds are strict (>) and characters come first', () => {
  const rows = parseTagCsv(CSV);
  assert.equal(rows[2]?.name, ':d');
  assert.equal(formatTags(rows, [1, 0.9, 0.35, 0.36, 0.86]), 'miku, 1girl, solo \\(focus\\)');
  assert.equal(formatTags(rows, [1, 0.9, 0.36, 0.2, 0.85]), '1girl, :d');
});

test('excluded tags are dropped by their raw name', () => {
  assert.equal(formatTags(parseTagCsv(CSV), [1, 0.9, 0.9, 0.9, 0.9], { exclude: 'solo_(focus), 1girl' }), 'miku, :d');
});

test('a malformed CSV row names the row and the fix', () => {
  assert.throws(() => parseTagCsv('h\nonly-one-cell'), (e: unknown) => e instanceof PaintsUndoError && /row 2/.test(e.message) && e.hint !== undefined);
});

test('LANCZOS keeps a flat image flat and the size it was asked for', () => {
  const data = new Uint8Array(30 * 20 * 3).fill(77);
  const out = resizeLanczos({ width: 30, height: 20, channels: 3, data }, 13, 41);
  assert.equal(out.data.length, 13 * 41 * 3);
  assert.ok(out.data.every((v) => v === 77));
});
