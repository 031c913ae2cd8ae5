/**
 * What a component's config.json may say. Its sizes and counts drive the graph builders' loops and the
 * tensors onnxruntime allocates, so they are bounded: far above any released Stable Diffusion or CLIP
 * model, far below what would exhaust memory while a damaged or forged config is built or loaded.
 */
import { z } from 'zod';
import { PaintsUndoError } from '../../../engine/src/core/errors.js';

/** A width, channel count or length: SD1.5's largest is 1280 channels, CLIP's 3072. */
export const configSize = (): z.ZodNumber => z.number().int().positive().max(65_536);
/** A number of layers, heads or blocks per stage. */
export const configCount = (): z.ZodNumber => z.number().int().positive().max(256);
/** A tokenizer vocabulary (CLIP: 49,408). */
export const configVocab = (): z.ZodNumber => z.number().int().positive().max(1_000_000);

/** GroupNorm splits each stage's channels into norm_num_groups equal groups (VAE and UNet configs). */
export function groupsDivideChannels(config: { readonly block_out_channels: readonly number[]; readonly norm_num_groups: number }): boolean {
  return config.block_out_channels.every((channels) => channels % config.norm_num_groups === 0);
}
export const GROUPS_DIVIDE_CHANNELS = { message: 'every block_out_channels must be divisible by norm_num_groups', path: ['norm_num_groups'] };

/** `label`'s weights and its config.json do not fit together (MODEL_MISSING: the files are what is wrong). */
export function configError(label: string, why: string): PaintsUndoError {
  return new PaintsUndoError('MODEL_MISSING', `${label} does not match its config.json: ${why}.`, {
    hint: 'Download the model again, or run `paints-undo models verify <dir>` for the full report.',
    details: { file: label, problem: why },
  });
}
