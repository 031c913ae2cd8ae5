/**
 * The structural invariants every renderer relies on, checked once where a timeline enters rendering.
 */
import { OPERATION_COUNT } from './steps.js';
import type { Timeline } from './timeline.js';

/** Checks the structural invariants every renderer relies on; throws with a precise message. */
export function validateTimeline(t: Timeline): void {
  if (t.operations.length !== OPERATION_COUNT) {
    throw new RangeError(`a timeline has exactly ${OPERATION_COUNT} operations, this one has ${t.operations.length}`);
  }
  if (!(t.planScale > 0)) throw new RangeError(`planScale must be > 0, got ${t.planScale}`);
  const f = t.finished;
  if (f.width !== t.width || f.height !== t.height || f.data.length !== t.width * t.height * 3) {
    throw new RangeError(`the finished artwork must be ${t.width}x${t.height} RGB, it is ${f.width}x${f.height} with ${f.data.length} bytes`);
  }
  t.operations.forEach((op, i) => {
    if ('layer' in op && (op.layer < 0 || op.layer >= t.layers.length || !Number.isInteger(op.layer))) {
      throw new RangeError(`operation ${i} names layer ${op.layer}, but there are ${t.layers.length} layers`);
    }
    const stamp = op.kind === 'reveal' ? op.stamp : op.kind === 'transform' ? op.region : null;
    if (stamp && stamp.alpha.length !== stamp.width * stamp.height) {
      throw new RangeError(`operation ${i} has a ${stamp.width}x${stamp.height} stamp with ${stamp.alpha.length} values`);
    }
    if (stamp && (!Number.isInteger(stamp.x) || !Number.isInteger(stamp.y))) {
      throw new RangeError(`operation ${i} has a stamp at (${stamp.x}, ${stamp.y}); stamps sit on whole plan pixels`);
    }
  });
}
