/**
 * Adds the official-model backends to the engine's backend registry. Importing this module is enough;
 * the heavy model code loads only when a job asks for the backend. Settings come from the environment
 * (validated here, at the boundary), since the job contract carries no model-specific options:
 *   PAINTS_UNDO_MODELS    models folder
 *   PAINTS_UNDO_DEVICE    auto (default) | cpu | cuda
 *   PAINTS_UNDO_SF_STEPS  sampler steps, 1..100 (default 50, as the official app)
 *   PAINTS_UNDO_SF_SIZE   WIDTHxHEIGHT, multiples of 8 (default: the bucket nearest the image, around 512x640)
 *   PAINTS_UNDO_PROMPT    the prompt (default: written by the WD14 tagger when installed, else empty)
 *   PAINTS_UNDO_FUSED_ATTENTION  1 | 0: com.microsoft.MultiHeadAttention in the UNet/VAE (default: 1 on CUDA, 0 on CPU)
 */
import { z } from 'zod';
import { registerBackend } from '../../../engine/src/backends/registry.js';
import { invalidOption } from '../../../engine/src/core/errors.js';
import type { SingleFrameBackendOptions } from './single-frame.js';

const SizeSchema = z
  .string()
  .regex(/^\d+x\d+$/)
  .transform((v) => v.split('x').map(Number) as [number, number])
  .refine(([w, h]) => w >= 8 && h >= 8 && w % 8 === 0 && h % 8 === 0 && w <= 2048 && h <= 2048);

const EnvSchema = z.object({
  PAINTS_UNDO_DEVICE: z.enum(['auto', 'cpu', 'cuda']).optional(),
  PAINTS_UNDO_SF_STEPS: z.coerce.number().int().min(1).max(100).optional(),
  PAINTS_UNDO_SF_SIZE: SizeSchema.optional(),
  PAINTS_UNDO_PROMPT: z.string().max(2000).optional(),
  PAINTS_UNDO_FUSED_ATTENTION: z.enum(['0', '1']).optional(),
});

const EXPECTED: Record<string, string> = {
  PAINTS_UNDO_DEVICE: 'one of auto, cpu, cuda',
  PAINTS_UNDO_SF_STEPS: 'an integer 1..100',
  PAINTS_UNDO_SF_SIZE: 'WIDTHxHEIGHT in multiples of 8, e.g. 512x640',
  PAINTS_UNDO_PROMPT: 'a prompt of at most 2000 characters',
  PAINTS_UNDO_FUSED_ATTENTION: '0 or 1',
};

/** The backend options the environment asks for; throws INVALID_OPTION naming the variable. */
export function singleFrameOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SingleFrameBackendOptions {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const key = String(parsed.error.issues[0]?.path[0] ?? 'environment');
    throw invalidOption(key, EXPECTED[key] ?? 'a valid value', env[key]);
  }
  const e = parsed.data;
  return {
    ...(e.PAINTS_UNDO_DEVICE === undefined ? {} : { device: e.PAINTS_UNDO_DEVICE }),
    ...(e.PAINTS_UNDO_SF_STEPS === undefined ? {} : { steps: e.PAINTS_UNDO_SF_STEPS }),
    ...(e.PAINTS_UNDO_SF_SIZE === undefined ? {} : { size: { width: e.PAINTS_UNDO_SF_SIZE[0], height: e.PAINTS_UNDO_SF_SIZE[1] } }),
    ...(e.PAINTS_UNDO_PROMPT === undefined ? {} : { prompt: e.PAINTS_UNDO_PROMPT }),
    ...(e.PAINTS_UNDO_FUSED_ATTENTION === undefined ? {} : { fusedAttention: e.PAINTS_UNDO_FUSED_ATTENTION === '1' }),
  };
}

registerBackend({
  id: 'paintsundo-single',
  module: import.meta.url,
  displayName: 'PaintsUndo single-frame model (official weights)',
  description:
    'The official PaintsUndo single-frame model on onnxruntime (CUDA when installed, else CPU): frames and keyframes. Needs the model download, see `paints-undo models verify`.',
  create: async () => {
    const options = singleFrameOptionsFromEnv();
    const { createSingleFrameBackend } = await import('./single-frame.js');
    return createSingleFrameBackend(options);
  },
});

registerBackend({
  id: 'paintsundo',
  module: import.meta.url,
  displayName: 'PaintsUndo (official single-frame + multi-frame models)',
  description:
    'The whole official PaintsUndo pipeline: key frames from the single-frame model, the video model between them; timelapses and interpolation. Needs both model downloads and a GPU (PAINTS_UNDO_ALLOW_CPU=1 to run on the CPU anyway).',
  create: async () => {
    // Settings: the single-frame ones above for the key frames, plus multi-frame/env.ts for the video stage.
    const { device, ...singleFrame } = singleFrameOptionsFromEnv();
    const { multiFrameOptionsFromEnv } = await import('../multi-frame/env.js');
    const video = multiFrameOptionsFromEnv();
    const { createPaintsUndoBackend } = await import('../multi-frame/backend.js');
    return createPaintsUndoBackend({ ...video, singleFrame, ...(device === undefined ? {} : { device }) });
  },
});
