/**
 * The image projection of the multi-frame model (diffusers_vdm.projection.Resampler): a perceiver that
 * turns the CLIP-vision tokens of the two key frames into `video_length` x `num_queries` image-context
 * tokens for the 3D UNet's image cross-attention.
 */
import { z } from 'zod';
import { GraphBuilder } from '../graph/builder.js';
import type { ComputeDtype } from '../graph/builder.js';
import type { BuiltGraph } from '../graph/clip-text.js';
import { attention, gelu, layerNorm, linear } from '../graph/nn.js';
import type { Ctx } from '../graph/nn.js';
import { Weights } from '../graph/weights.js';
import type { WeightSource } from '../graph/weights.js';

export const ResamplerConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    depth: z.number().int().positive(),
    dim_head: z.number().int().positive(),
    heads: z.number().int().positive(),
    num_queries: z.number().int().positive(),
    embedding_dim: z.number().int().positive(),
    output_dim: z.number().int().positive(),
    ff_mult: z.number().positive(),
    video_length: z.number().int().positive(),
    input_frames_length: z.number().int().positive(),
  })
  .loose();
export type ResamplerConfig = z.infer<typeof ResamplerConfigSchema>;

/** nn.LayerNorm default. */
const LN_EPS = 1e-5;

/**
 * Inputs: image_embeds float32 [batch, input_frames_length, tokens, embedding_dim].
 * Output: image_context float32 [batch, video_length, num_queries, output_dim].
 */
export function buildResampler(config: ResamplerConfig, source: WeightSource, dtype: ComputeDtype): BuiltGraph {
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, source);
  const ctx: Ctx = { g, w };
  const { dim, heads, embedding_dim: E, video_length: frames, num_queries: queries, output_dim: out } = config;
  const T = config.input_frames_length;
  const inner = config.dim_head * heads;
  const ffInner = Math.trunc(dim * config.ff_mult);
  const latentsCount = queries * frames;

  let x = g.input('image_embeds', 'float32', ['batch', T, 'tokens', E]);
  if (dtype === 'float16') x = g.op('Cast', [x], { to: 10 });
  x = g.op('Add', [x, w.get('input_pos', [1, T, 1, E])]);
  x = g.op('Reshape', [x, g.ints([0, -1, E])]);
  x = linear(ctx, x, 'proj_in', E, dim);

  const batch = g.op('Slice', [g.op('Shape', [x]), g.ints([0]), g.ints([1])]);
  let latents = g.op('Expand', [
    w.get('latents', [1, latentsCount, dim]),
    g.op('Concat', [batch, g.ints([latentsCount, dim])], { axis: 0 }),
  ]);

  for (let i = 0; i < config.depth; i++) {
    const p = `layers.${i}.0`;
    const xn = layerNorm(ctx, x, `${p}.norm1`, dim, LN_EPS);
    const ln = layerNorm(ctx, latents, `${p}.norm2`, dim, LN_EPS);
    const q = linear(ctx, ln, `${p}.to_q`, dim, inner, false);
    const kv = linear(ctx, g.op('Concat', [xn, ln], { axis: 1 }), `${p}.to_kv`, dim, inner * 2, false);
    const [k, v] = g.opMulti('Split', [kv, g.ints([inner, inner])], 2, { axis: -1 }) as [string, string];
    // softmax((q s)(k s)^T), s = dim_head^-1/4, equals the usual 1/sqrt(dim_head) scaling.
    const a = attention(ctx, q, k, v, heads, config.dim_head);
    latents = g.op('Add', [linear(ctx, a, `${p}.to_out`, inner, dim, false), latents]);
    const f = `layers.${i}.1`;
    const h = linear(ctx, layerNorm(ctx, latents, `${f}.0`, dim, LN_EPS), `${f}.1`, dim, ffInner, false);
    latents = g.op('Add', [linear(ctx, gelu(ctx, h), `${f}.3`, ffInner, dim, false), latents]);
  }

  let y = layerNorm(ctx, linear(ctx, latents, 'proj_out', dim, out), 'norm_out', out, LN_EPS);
  y = g.op('Reshape', [y, g.ints([0, frames, queries, out])]);
  if (dtype === 'float16') y = g.op('Cast', [y], { to: 1 });
  g.output(y, 'image_context', 'float32', ['batch', frames, queries, out]);
  return { builder: g, weights: w, inputs: ['image_embeds'], outputs: ['image_context'] };
}
