/** Flag parsing shared by the commands (no process spawned). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toStepList } from '../../engine/src/cli/options.js';

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
