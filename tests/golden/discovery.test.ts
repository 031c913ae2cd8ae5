import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CASE_OWNERS, GOLDEN_DIR, caseKind, loadManifest } from './golden.js';

test('every golden case has a known owner (unknown kinds fail loudly)', () => {
  const manifest = loadManifest();
  const unknown = Object.keys(manifest.cases).filter((name) => caseKind(name) === undefined);
  assert.deepEqual(unknown, [], `golden cases of unknown kind: ${unknown.join(', ')}; add them to CASE_OWNERS`);
  for (const [name, c] of Object.entries(manifest.cases)) {
    assert.ok(existsSync(join(GOLDEN_DIR, c.file)), `case ${name}: ${c.file} is missing`);
  }
});

test('caseKind recognises variants and rejects unknown kinds', () => {
  assert.equal(caseKind('sf_unet'), 'sf_unet');
  assert.equal(caseKind('sf_unet_fp16'), 'sf_unet');
  assert.equal(caseKind('brand_new_kind'), undefined);
  assert.ok(Object.values(CASE_OWNERS).includes('single-frame'));
});
