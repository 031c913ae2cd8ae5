/**
 * The engine-wide memory budget (core/memory.ts): every thread's caches add to one ledger in shared
 * memory, a cache's allowance is the budget less what the others hold, and idle threads release what is
 * over the budget, least recently used first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLedger, releases } from '../../engine/src/core/memory.js';

const MB = 1024 * 1024;

test('a cache may hold the budget less what other threads hold, read through the shared buffer', () => {
  const ledger = new MemoryLedger(100 * MB, 3);
  // Another thread sees the same buffer through a ledger of its own.
  const elsewhere = new MemoryLedger(100 * MB, ledger.buffer);
  const a = ledger.thread(0).share();
  const b = elsewhere.thread(2).share();
  assert.equal(a.allowance(), 100 * MB, 'nothing held yet: the whole budget');
  b.adjust(30 * MB);
  a.adjust(20 * MB);
  assert.equal(ledger.held(2), 30 * MB);
  assert.equal(elsewhere.total(), 50 * MB, 'both threads see the total');
  assert.equal(a.allowance(), 70 * MB, 'own 20 MB count towards its allowance, the other 30 MB do not');
  assert.equal(b.allowance(), 80 * MB);
  a.adjust(-20 * MB);
  assert.equal(ledger.held(0), 0);
  assert.equal(ledger.excess(), 0);
  ledger.reset(2);
  assert.equal(elsewhere.total(), 0, 'a stopped thread holds nothing');
});

test('two caches of one thread share its slot, and each counts only the other against itself', () => {
  const ledger = new MemoryLedger(100 * MB, 1);
  const thread = ledger.thread(0);
  const first = thread.share();
  const second = thread.share();
  first.adjust(40 * MB);
  second.adjust(25 * MB);
  assert.equal(ledger.held(0), 65 * MB);
  assert.equal(first.allowance(), 75 * MB);
  assert.equal(second.allowance(), 60 * MB);
});

test('growing past the budget asks for a release, growing within it or shrinking does not', () => {
  const ledger = new MemoryLedger(100 * MB, 2);
  let asked = 0;
  const share = ledger.thread(1, () => asked++).share();
  share.adjust(90 * MB);
  assert.equal(asked, 0);
  share.adjust(20 * MB);
  assert.equal(asked, 1, 'over the budget');
  assert.equal(ledger.excess(), 10 * MB);
  share.adjust(-5 * MB);
  assert.equal(asked, 1, 'shrinking never asks');
  assert.throws(() => ledger.thread(2), /no memory slot 2/);
});

test('a release asks the caches of the thread in turn until enough is freed', () => {
  const ledger = new MemoryLedger(100 * MB, 1);
  const thread = ledger.thread(0);
  const asked: number[] = [];
  const held = [30 * MB, 50 * MB, 40 * MB];
  for (let i = 0; i < held.length; i++) {
    thread.share().onRelease((bytes) => {
      asked.push(i);
      const freed = Math.min(bytes, held[i]!);
      held[i]! -= freed;
      return freed;
    });
  }
  assert.equal(thread.release(60 * MB), 60 * MB);
  assert.deepEqual(asked, [0, 1], 'the third cache is not asked: the first two freed enough');
  assert.deepEqual(held, [0, 20 * MB, 40 * MB]);
  assert.equal(thread.release(500 * MB), 60 * MB, 'asked for more than is held: everything goes');
});

test('idle threads release the excess, least recently used first; busy ones and empty ones are not asked', () => {
  const threads = [
    { slot: 0, held: 300, idle: true, lastUsed: 50 },
    { slot: 1, held: 900, idle: false, lastUsed: 10 },
    { slot: 2, held: 200, idle: true, lastUsed: 20 },
    { slot: 3, held: 0, idle: true, lastUsed: 0 },
    { slot: 4, held: 400, idle: true, lastUsed: 90 },
  ];
  assert.deepEqual(releases(0, threads), [], 'within the budget: nothing');
  assert.deepEqual(releases(150, threads), [{ slot: 2, bytes: 150 }]);
  assert.deepEqual(releases(450, threads), [
    { slot: 2, bytes: 200 },
    { slot: 0, bytes: 250 },
  ]);
  assert.deepEqual(
    releases(5000, threads),
    [
      { slot: 2, bytes: 200 },
      { slot: 0, bytes: 300 },
      { slot: 4, bytes: 400 },
    ],
    'at most what each holds; the busy thread keeps its 900',
  );
});
