/**
 * Config/weights consistency errors of the multi-frame components. The real 3D UNet and resampler
 * configs are inferred (not read from the published checkpoint), so every size is taken from the
 * snapshot's config.json and any disagreement with the weights is reported precisely.
 */

import { PaintsUndoError } from '../../../engine/src/core/errors.js';
import { readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod';
import { readSafetensorsHeader } from '../safetensors.js';
import { sourceFromHeader } from '../graph/weights.js';
import type { WeightSource } from '../graph/weights.js';
import type { WeightProblem } from '../graph/weights.js';

export function configError(label: string, why: string): PaintsUndoError {
  return new PaintsUndoError('MODEL_MISSING', `${label} does not match its config.json: ${why}.`, {
    hint: 'Download the model again, or run `paints-undo models verify <dir>` for the full report.',
    details: { file: label, problem: why },
  });
}

/** The multi-frame snapshot saves every component as config.json + model.safetensors (PyTorchModelHubMixin / transformers). */
export const MF_WEIGHTS_FILE = 'model.safetensors';

export function readComponentConfig<T>(folder: string, schema: z.ZodType<T>): T {
  const path = join(folder, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new PaintsUndoError('MODEL_MISSING', `Cannot read ${path}.`, {
      hint: 'Run `paints-undo models verify <dir>` to see which files are missing and how to download them.',
      details: { path },
      cause,
    });
  }
  return parseConfig(raw, schema, path);
}

/** Validates a parsed config.json; `label` names it in the error (a path or a component). */
export function parseConfig<T>(raw: unknown, schema: z.ZodType<T>, label: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new PaintsUndoError('MODEL_MISSING', `${label} is not a config this model supports (${problems.join('; ')}).`, {
      hint: 'Check that the folder is the right component of lllyasviel/paints_undo_multi_frame.',
      details: { config: label, problems },
    });
  }
  return parsed.data;
}

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
