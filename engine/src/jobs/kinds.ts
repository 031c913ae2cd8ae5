/**
 * The table of job kinds: one row per kind, each a module in jobs/kinds/. The mapped type makes a kind
 * added to core/job.ts's JobInputSchema a compile error here until its row exists.
 */
import type { JobInput, JobKind } from '../core/job.js';
import type { JobKindModule, JobOf } from './kind.js';
import { encodeKind } from './kinds/encode.js';
import { frameKind } from './kinds/frame.js';
import { interpolateKind } from './kinds/interpolate.js';
import { keyframesKind } from './kinds/keyframes.js';
import { layersKind } from './kinds/layers.js';
import { timelapseKind } from './kinds/timelapse.js';

export const JOB_KINDS: { readonly [K in JobKind]: JobKindModule<JobOf<K>> } = {
  frame: frameKind,
  keyframes: keyframesKind,
  interpolate: interpolateKind,
  timelapse: timelapseKind,
  layers: layersKind,
  encode: encodeKind,
};

/** The module of `job`'s kind. */
export function jobKindOf(job: JobInput): JobKindModule<JobInput> {
  // Sound by JOB_KINDS' type: the row of kind K takes exactly JobOf<K>, and `job` is of kind `job.kind`.
  // TypeScript cannot correlate the two through the union, hence the cast.
  return JOB_KINDS[job.kind] as unknown as JobKindModule<JobInput>;
}
