/** The frame job: the artwork `step` operation steps before it was finished, as one PNG (at `size` on the long side, if given). */
import { fitLongSide, type RgbImage } from '../../core/image.js';
import type { Provenance } from '../../io/provenance.js';
import { provenanceFor, withBackend, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { optionalSignal, outputSummary } from '../output.js';

export type FrameJob = JobOf<'frame'>;

export interface FrameResult {
  readonly image: RgbImage;
  readonly provenance: Provenance;
}

export async function renderFrame(job: FrameJob, env: JobEnvironment): Promise<FrameResult> {
  const source = await env.resolveImage(job.image);
  return withBackend(env, job.backend, 'frame', 'render single frames', async ({ backend, signal, report }) => {
    const image = fitLongSide(await backend.frame({ source, step: job.step, seed: job.seed, size: job.size }, { signal, onProgress: report }), job.size);
    return { image, provenance: provenanceFor(backend, job.seed, source.id, { step: job.step }) };
  });
}

export const frameKind: JobKindModule<FrameJob> = {
  fileName: () => 'frame.png',
  capability: () => 'frame',
  images: (job) => [job.image],
  subject: (job) => job.image,
  needsFfmpeg: false,
  async write(job, output, env) {
    const atomic = await import('../../io/atomic.js');
    const { encodePng } = await import('../../io/png.js');
    const target = await atomic.ensureWritableFile(output);
    const result = await renderFrame(job, env);
    await atomic.writeFileAtomic(target, await encodePng(result.image, result.provenance), optionalSignal(env.signal));
    return outputSummary(job, [target], result.provenance, result.image);
  },
};
