/** The layers job: a layer decomposition of the artwork, as a layered PSD or a folder of PNG layers. */
import type { LayerStack } from '../../core/backend.js';
import type { RgbImage } from '../../core/image.js';
import type { Provenance } from '../../io/provenance.js';
import { provenanceFor, withBackend, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { optionalSignal, outputSummary } from '../output.js';

export type LayersJob = JobOf<'layers'>;

export interface LayersResult {
  readonly stack: LayerStack;
  /** The finished artwork (the input flattened on white), used as the PSD composite. */
  readonly composite: RgbImage;
  readonly provenance: Provenance;
}

export async function renderLayers(job: LayersJob, env: JobEnvironment): Promise<LayersResult> {
  const source = await env.resolveImage(job.image);
  return withBackend(env, job.backend, 'layers', 'export layers', async ({ backend, signal, report }) => {
    const stack = await backend.layers({ source, seed: job.seed }, { signal, onProgress: report });
    return { stack, composite: source.image, provenance: provenanceFor(backend, job.seed, source.id) };
  });
}

export const layersKind: JobKindModule<LayersJob> = {
  fileName: (job) => (job.format === 'psd' ? 'layers.psd' : undefined),
  capability: () => 'layers',
  images: (job) => [job.image],
  subject: (job) => job.image,
  needsFfmpeg: false,
  async write(job, output, env) {
    const atomic = await import('../../io/atomic.js');
    const psd = await import('../../io/psd.js');
    if (job.format === 'psd') {
      const target = await atomic.ensureWritableFile(output);
      const result = await renderLayers(job, env);
      await atomic.writeFileAtomic(target, await psd.encodeLayeredPsd(result.stack, result.composite, result.provenance), optionalSignal(env.signal));
      return outputSummary(job, [target], result.provenance, result.composite);
    }
    await atomic.ensureFolder(output);
    const result = await renderLayers(job, env);
    const files = await psd.writeLayerPngs(output, result.stack, result.composite, result.provenance, env.signal);
    return outputSummary(job, files, result.provenance, result.composite);
  },
};
