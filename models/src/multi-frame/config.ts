/**
 * Config/weights consistency errors of the multi-frame components. The real 3D UNet and resampler
 * configs are inferred (not read from the published checkpoint), so every size is taken from the
 * snapshot's config.json and any disagreement with the weights is reported precisely.
 */

import { PaintsUndoError } from '../../../engine/src/core/errors.js';
import { realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readSafetensorsHeader } from '../safetensors.js';
import { sourceFromHeader } from '../graph/weights.js';
import type { WeightSource } from '../graph/weights.js';
import type { WeightProblem } from '../graph/weights.js';

export { configError } from '../graph/config.js';

/** The multi-frame snapshot saves every component as config.json + model.safetensors (PyTorchModelHubMixin / transformers). */
export const MF_WEIGHTS_FILE = 'model.safetensors';

export function openComponentWeights(folder: string): WeightSource {
  const path = join(folder, MF_WEIGHTS_FILE);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (cause) {
    throw new PaintsUndoError('MODEL_MISSING', `No ${MF_WEIGHTS_FILE} in ${folder}.`, {
      hint: 'Run `paints-undo models verify <dir>` to see which files are missing and how to download them.',
      details: { folder },
      cause,
    });
  }
  return sourceFromHeader(readSafetensorsHeader(real), `${basename(folder)}/${MF_WEIGHTS_FILE}`);
}

/**
 * Checkpoint tensors the official forward pass never reads (e.g. CLIP's post_layernorm, the VAE's
 * post_quant_conv on the video decode path, the 3D UNet's relative-position tables). They are checked
 * for presence and shape here and removed from the source, so the graph holds no dead initializers and
 * `Weights.assertComplete` does not report them as unexpected.
 */
export function setAsideUnused(
  source: WeightSource,
  unused: Readonly<Record<string, readonly number[]>>,
): { readonly source: WeightSource; readonly problems: WeightProblem[] } {
  const problems: WeightProblem[] = [];
  const tensors = new Map(source.tensors);
  for (const [name, expected] of Object.entries(unused)) {
    const entry = tensors.get(name);
    if (entry === undefined) {
      problems.push({ kind: 'missing', name, expected });
      continue;
    }
    const ok = entry.shape.length === expected.length && expected.every((d, i) => d === -1 || d === entry.shape[i]);
    if (!ok) problems.push({ kind: 'shape', name, expected, actual: entry.shape });
    tensors.delete(name);
  }
  return { source: { ...source, tensors }, problems };
}
