/** The interpolate job: in-between frames from one state of an artwork to a later one, as a folder of PNGs. */
import { join } from 'node:path';
import { PaintsUndoError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import type { Provenance } from '../../io/provenance.js';
import { provenanceFor, withBackend, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { outputSummary, writeAll } from '../output.js';

export type InterpolateJob = JobOf<'interpolate'>;

export interface InterpolationResult {
  readonly frames: readonly RgbImage[];
  readonly provenance: Provenance;
}

export async function renderInterpolation(job: InterpolateJob, env: JobEnvironment): Promise<InterpolationResult> {
  const [from, to] = await Promise.all([env.resolveImage(job.from), env.resolveImage(job.to)]);
  if (from.image.width !== to.image.width || from.image.height !== to.image.height) {
    throw new PaintsUndoError('INVALID_OPTION', `Both images must have the same size, but from is ${from.image.width}x${from.image.height} and to is ${to.image.width}x${to.image.height}.`, {
      hint: 'Export both states of the artwork at the same size.',
    });
  }
  return withBackend(env, job.backend, 'interpolate', 'interpolate between frames', async ({ backend, signal, report }) => {
    const frames = await backend.interpolate({ from, to, frames: job.frames, seed: job.seed }, { signal, onProgress: report });
    return { frames, provenance: provenanceFor(backend, job.seed, to.id) };
  });
}

export const interpolateKind: JobKindModule<InterpolateJob> = {
  fileName: () => undefined,
  capability: () => 'interpolate',
  images: (job) => [job.from, job.to],
  subject: (job) => job.to,
  needsFfmpeg: false,
  async write(job, output, env) {
    const atomic = await import('../../io/atomic.js');
    const { encodePng } = await import('../../io/png.js');
    const folder = await atomic.ensureFolder(output);
    const result = await renderInterpolation(job, env);
    const files = await writeAll(
      result.frames.map((f, i) => ({ path: join(folder, `frame-${String(i + 1).padStart(4, '0')}.png`), data: () => encodePng(f, result.provenance) })),
      env.signal,
    );
    return outputSummary(job, files, result.provenance, result.frames[0]);
  },
};
