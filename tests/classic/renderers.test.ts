/**
 * The classic backend's warm renderers (views.ts RendererCache) under a share of the engine's memory
 * budget: they make room in their own least recently used entries before a new one, count what other
 * threads hold against themselves, give memory back on request, and a renderer made again renders the
 * same pixels.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLedger } from '../../engine/src/core/memory.js';
import { preparePlan } from '../../engine/src/core/replay.js';
import { planTimeline } from '../../engine/src/backends/classic/planner.js';
import { frameAt, RendererCache } from '../../engine/src/backends/classic/views.js';
import { loadSample, SAMPLES } from './helpers.js';

test('renderers stay within the engine-wide share: LRU eviction, other threads counted, release on request', async () => {
  const source = await loadSample(SAMPLES[0]!, 160);
  const plan = preparePlan(planTimeline(source, 7));
  const { width, height, layers } = plan.timeline;
  // What one full-size renderer of this plan holds (views.ts rendererBytes: RGBA layers, composite, curved view, artwork).
  const one = width * height * (4 * layers.length + 9);
  const ledger = new MemoryLedger(Math.floor(2.5 * one), 2);
  const thread = ledger.thread(0);
  const cache = new RendererCache(thread.share());
  const other = new MemoryLedger(ledger.budgetBytes, ledger.buffer).thread(1).share();

  const a = cache.renderer('a', plan, undefined);
  const b = cache.renderer('b', plan, undefined);
  assert.equal(cache.heldBytes, 2 * one);
  assert.equal(ledger.held(0), 2 * one, 'the ledger sees what the cache holds');
  assert.equal(cache.renderer('a', plan, undefined), a, 'a hit is the same renderer, and is now the most recent');
  cache.renderer('c', plan, undefined);
  assert.equal(cache.heldBytes, 2 * one, 'a third does not fit: the least recently used (b) made room');
  assert.notEqual(cache.renderer('b', plan, undefined), b, 'b was evicted and is made again');
  // Held now, oldest first: c, b (a went when b came back).

  other.adjust(one);
  cache.renderer('d', plan, undefined);
  assert.equal(cache.heldBytes, one, 'another thread holds one renderer: this cache keeps only the newest');
  assert.ok(ledger.total() <= ledger.budgetBytes);

  const before = await frameAt(cache.renderer('d', plan, undefined), 400, undefined);
  assert.equal(thread.release(1), one, 'a release frees whole renderers');
  assert.equal(cache.heldBytes, 0);
  assert.equal(ledger.held(0), 0);
  const again = await frameAt(cache.renderer('d', plan, undefined), 400, undefined);
  assert.ok(Buffer.from(again.data).equals(Buffer.from(before.data)), 'a renderer made again renders the same pixels');

  other.adjust(5 * one);
  const big = cache.renderer('e', plan, undefined);
  assert.ok(big, 'a renderer is made even when the others hold more than the budget');
  assert.equal(cache.heldBytes, one, 'only the new one is held');
  cache.clear();
  assert.equal(ledger.held(0), 0, 'clear gives everything back');
});
