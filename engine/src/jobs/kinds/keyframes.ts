/** The keyframes job: several steps of the process at once, as a folder of step-NNNN.png files. */
import { join } from 'node:path';
import type { Keyframe } from '../../core/backend.js';
import type { Provenance } from '../../io/provenance.js';
import { provenanceFor, withBackend, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { outputSummary, writeAll } from '../output.js';

export type KeyframesJob = JobOf<'keyframes'>;

export interface KeyframesResult {
  readonly keyframes: readonly Keyframe[];
  /** Provenance without a step; each keyframe's file adds its own step. */
  readonly provenance: Provenance;
}

export async function renderKeyframes(job: KeyframesJob, env: JobEnvironment): Promise<KeyframesResult> {
  const source = await env.resolveImage(job.image);
  return withBackend(env, job.backend, 'keyframes', 'render keyframes', async ({ backend, signal, report }) => {
    const keyframes = await backend.keyframes({ source, steps: job.steps, seed: job.seed }, { signal, onProgress: report });
    return { keyframes, provenance: provenanceFor(backend, job.seed, source.id) };
  });
}

export const keyframesKind: JobKindModule<KeyframesJob> = {
  fileName: () => undefined,
  capability: () => 'keyframes',
  images: (job) => [job.image],
  subject: (job) => job.image,
  needsFfmpeg: false,
  async write(job, output, env) {
    const atomic = await import('../../io/atomic.js');
    const { encodePng, keyframeFileName } = await import('../../io/png.js');
    const folder = await atomic.ensureFolder(output);
    const result = await renderKeyframes(job, env);
    const files = await writeAll(
      result.keyframes.map((k) => ({ path: join(folder, keyframeFileName(k.step)), data: () => encodePng(k.image, { ...result.provenance, step: k.step }) })),
      env.signal,
    );
    return outputSummary(job, files, result.provenance, result.keyframes[0]?.image);
  },
};
