/**
 * Settings of the "paintsundo" backend from the environment (the job contract carries no model-specific
 * options), validated here at the boundary:
 *   PAINTS_UNDO_VIDEO_STEPS     video sampler steps, 1..100 (default 50, as the official app)
 *   PAINTS_UNDO_VIDEO_SIZE      WIDTHxHEIGHT in multiples of 64 (default: the official bucket nearest the image)
 *   PAINTS_UNDO_KEYFRAME_STEPS  comma-separated operation steps (default 400,600,800,900,950,999)
 *   PAINTS_UNDO_ALLOW_CPU       1 = run on the CPU although it takes hours
 * plus the single-frame settings (PAINTS_UNDO_DEVICE, PAINTS_UNDO_SF_*, PAINTS_UNDO_PROMPT) for the key frames.
 */
import { z } from 'zod';
import { invalidOption } from '../../../engine/src/core/errors.js';
import { MAX_STEP } from '../../../engine/src/core/steps.js';
import type { PaintsUndoBackendOptions } from './backend.js';

const EnvSchema = z.object({
  PAINTS_UNDO_VIDEO_STEPS: z.coerce.number().int().min(1).max(100).optional(),
  PAINTS_UNDO_VIDEO_SIZE: z
    .string()
    .regex(/^\d+x\d+$/)
    .transform((v) => v.split('x').map(Number) as [number, number])
    .refine(([w, h]) => w >= 64 && h >= 64 && w % 64 === 0 && h % 64 === 0 && w <= 2048 && h <= 2048)
    .optional(),
  PAINTS_UNDO_KEYFRAME_STEPS: z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .transform((v) => v.split(',').map(Number))
    .refine((steps) => steps.length <= 20 && steps.every((s) => s >= 1 && s <= MAX_STEP))
    .optional(),
  PAINTS_UNDO_ALLOW_CPU: z.enum(['0', '1']).optional(),
});

const EXPECTED: Record<string, string> = {
  PAINTS_UNDO_VIDEO_STEPS: 'an integer 1..100',
  PAINTS_UNDO_VIDEO_SIZE: 'WIDTHxHEIGHT in multiples of 64, e.g. 512x320',
  PAINTS_UNDO_KEYFRAME_STEPS: `1 to 20 comma-separated operation steps 1..${MAX_STEP}, e.g. 400,600,800,900,950,999`,
  PAINTS_UNDO_ALLOW_CPU: '0 or 1',
};

/** The video-stage options the environment asks for; throws INVALID_OPTION naming the variable. */
export function multiFrameOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<PaintsUndoBackendOptions, 'singleFrame' | 'device'> {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const key = String(parsed.error.issues[0]?.path[0] ?? 'environment');
    throw invalidOption(key, EXPECTED[key] ?? 'a valid value', env[key]);
  }
  const e = parsed.data;
  return {
    ...(e.PAINTS_UNDO_VIDEO_STEPS === undefined ? {} : { steps: e.PAINTS_UNDO_VIDEO_STEPS }),
    ...(e.PAINTS_UNDO_VIDEO_SIZE === undefined ? {} : { bucket: [e.PAINTS_UNDO_VIDEO_SIZE[1], e.PAINTS_UNDO_VIDEO_SIZE[0]] as const }),
    ...(e.PAINTS_UNDO_KEYFRAME_STEPS === undefined ? {} : { keyframeSteps: e.PAINTS_UNDO_KEYFRAME_STEPS }),
    ...(e.PAINTS_UNDO_ALLOW_CPU === '1' ? { allowCpu: true } : {}),
  };
}
