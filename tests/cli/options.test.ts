/** Flag parsing shared by the commands (no process spawned). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toStepList } from '../../engine/src/cli/options.js';
import { resolveLayersFormat } from '../../engine/src/cli/commands/layers.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';

test('--steps takes lists, inclusive ranges in either direction and "all"; anything else reaches the schema as text', () => {
  assert.deepEqual(toStepList('400, 600,800'), [400, 600, 800]);
  assert.deepEqual(toStepList('997-999,5'), [997, 998, 999, 5]);
  assert.deepEqual(toStepList('3-1'), [3, 2, 1]);
  const all = toStepList('all');
  assert.equal(all.length, 1000);
  assert.deepEqual([all[0], all[999]], [0, 999]);
  assert.deepEqual(toStepList('ALL').length, 1000);
  assert.deepEqual(toStepList('12,x,1-'), [12, 'x', '1-']);
  // Each step once, in the order first named, so every step plus a repeat is still the 1000 steps.
  assert.deepEqual(toStepList('400,400,600,400'), [400, 600]);
  assert.equal(toStepList('all,0').length, 1000);
  const back = toStepList('999-0,5');
  assert.deepEqual([back.length, back[0], back[999]], [1000, 999, 0]);
  // A huge range stops early; the job schema then refuses the count and names the first bad step.
  assert.ok(toStepList('0-99999999').length <= 2001);
});

test('layers: the format from --format and -o; a file name for layer PNGs, or a .psd with --format png, is refused; a folder takes the PSD', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pu-layers-format-'));
  try {
    mkdirSync(join(dir, 'v1.2'));
    assert.equal(await resolveLayersFormat(undefined, undefined), 'psd');
    assert.equal(await resolveLayersFormat('art.psd', undefined), 'psd');
    assert.equal(await resolveLayersFormat('art-layers/', undefined), 'png');
    assert.equal(await resolveLayersFormat('art-layers', undefined), 'png');
    // An existing folder (a dot in its name included) or a name ending in a slash takes the PSD under its default name.
    assert.equal(await resolveLayersFormat(join(dir, 'v1.2'), 'psd'), 'psd');
    assert.equal(await resolveLayersFormat('later/', 'psd'), 'psd');
    assert.equal(await resolveLayersFormat(join(dir, 'v1.2'), undefined), 'png');
    await assert.rejects(resolveLayersFormat('art.png', undefined), (e: unknown) => e instanceof PaintsUndoError && e.code === 'INVALID_OPTION' && /art\.png is a file name, but layer PNGs are written into a folder/.test(e.message) && /art-layers\/.*art\.psd/.test(e.hint ?? ''));
    await assert.rejects(resolveLayersFormat('x.PSD', 'png'), /x\.PSD ends in \.psd but --format is png/);
    await assert.rejects(resolveLayersFormat('art-layers', 'psd'), /is a folder name but --format is psd/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
