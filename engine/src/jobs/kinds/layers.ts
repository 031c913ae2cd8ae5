/** The layers job: a layer decomposition of the artwork, as a layered PSD or a folder of PNG layers. */
import type { LayerStack } from '../../core/backend.js';
import type { Image8, RgbImage, RgbaImage } from '../../core/image.js';
import type { Provenance } from '../../io/provenance.js';
import { provenanceFor, withBackend, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { optionalSignal, outputSummary } from '../output.js';

export type LayersJob = JobOf<'layers'>;

export interface LayersResult {
  readonly stack: LayerStack;
  /** The finished artwork, used as the PSD composite: the input, with its transparency when it had some. */
  readonly composite: Image8;
  readonly provenance: Provenance;
}

export async function renderLayers(job: LayersJob, env: JobEnvironment): Promise<LayersResult> {
  const source = await env.resolveImage(job.image);
  return withBackend(env, job.backend, 'layers', 'export layers', async ({ backend, signal, report }) => {
    const stack = await backend.layers({ source, seed: job.seed }, { signal, onProgress: report });
    const provenance = provenanceFor(backend, job.seed, source.id);
    if (!source.alpha) return { stack, composite: source.image, provenance };
    // Layers are made on white paper; a transparent input (a character cut out) keeps its transparency
    // in every layer and in the composite, as it would in the artist's own file.
    return { stack: { ...stack, layers: stack.layers.map((l) => ({ ...l, image: withinAlpha(l.image, source.alpha!) })) }, composite: unflatten(source.image, source.alpha), provenance };
  });
}

/** `image` shown only where the input was: its alpha times the input's. */
function withinAlpha(image: RgbaImage, alpha: Uint8Array): RgbaImage {
  if (image.width * image.height !== alpha.length) return image;
  const data = image.data.slice();
  for (let i = 0; i < alpha.length; i++) data[4 * i + 3] = Math.round((data[4 * i + 3]! * alpha[i]!) / 255);
  return { ...image, data };
}

/** The input as it was before decoding flattened it on white: c = (flat - 255 (1 - a)) / a, with its alpha. */
function unflatten(flat: RgbImage, alpha: Uint8Array): RgbaImage {
  const data = new Uint8Array(alpha.length * 4);
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i]! / 255;
    for (let c = 0; c < 3; c++) data[4 * i + c] = a === 0 ? 0 : Math.max(0, Math.min(255, Math.round((flat.data[3 * i + c]! - 255 * (1 - a)) / a)));
    data[4 * i + 3] = alpha[i]!;
  }
  return { width: flat.width, height: flat.height, channels: 4, data };
}

export const layersKind: JobKindModule<LayersJob> = {
  fileName: (job) => (job.format === 'psd' ? 'layers.psd' : undefined),
  capability: () => 'layers',
  images: (job) => [job.image],
  subject: (job) => job.image,
  needsFfmpeg: false,
  // 2: a PNG export has its manifest (layers.json) beside the layers.
  resultFormat: 2,
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
