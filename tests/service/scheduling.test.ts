/**
 * The scheduling policy (service/scheduling.ts pickNext), decided on described worker states: here, a
 * worker that is free but still writing an earlier job's files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobInput } from '../../engine/src/core/job.js';
import { pickNext, type SchedulableJob, type WorkerState } from '../../engine/src/service/scheduling.js';

// Both prefer worker 0 (service/scheduling.ts homeWorker).
const IMAGE = 'a'.repeat(64);
const OTHER = 'c'.repeat(64);

function waiting(input: JobInput, priority: SchedulableJob['priority'] = input.kind === 'frame' ? 'interactive' : 'batch'): { jobs: SchedulableJob[] } {
  return { jobs: [{ priority, device: 'cpu', input }] };
}

const frame = (image: string, step: number): JobInput => ({ kind: 'frame', image, step, seed: 12345, backend: 'classic' });
const keyframes = (image: string): JobInput => ({ kind: 'keyframes', image, steps: [500, 999], seed: 12345, backend: 'classic' });

function state(writing: readonly number[], sharedImages: readonly string[] = []): WorkerState {
  return {
    gpuBusy: false,
    busyWithInteractive: () => false,
    planShared: (input) => 'image' in input && sharedImages.includes(input.image),
    preparingAhead: () => undefined,
    writing: (worker) => writing.includes(worker),
  };
}

test('a worker still writing files takes a frame whose plan is shared, and nothing that could hold its thread longer', () => {
  // Worker 0 is open but writing; worker 1 is busy (not open).
  assert.deepEqual(pickNext([waiting(frame(IMAGE, 5))], [0], 2, state([0], [IMAGE])), { index: 0, worker: 0 });
  assert.equal(pickNext([waiting(frame(OTHER, 5))], [0], 2, state([0], [IMAGE])), undefined, 'a frame that may have to plan waits');
  assert.equal(pickNext([waiting(keyframes(IMAGE))], [0], 1, state([0], [IMAGE])), undefined, 'a batch job waits, even on a one-worker pool');
  // Behind a waiting job that cannot go there, a brief one still can.
  assert.deepEqual(pickNext([waiting(frame(OTHER, 5)), waiting(frame(IMAGE, 9))], [0], 2, state([0], [IMAGE])), { index: 1, worker: 0 });
});

test('work that is not brief goes to a worker that writes nothing, even away from its preferred one', () => {
  assert.deepEqual(pickNext([waiting(frame(OTHER, 5))], [0, 1], 2, state([0], [IMAGE])), { index: 0, worker: 1 });
  // A batch job never takes the last idle worker; one that only writes does not count as idle.
  assert.equal(pickNext([waiting(keyframes(OTHER))], [0, 1], 2, state([0])), undefined);
  assert.deepEqual(pickNext([waiting(keyframes(OTHER))], [0, 1], 2, state([])), { index: 0, worker: 0 });
});
