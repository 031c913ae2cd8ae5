/**
 * The authors' arbitrary-aspect CLIP-Vision encoder (diffusers_vdm ImprovedCLIPVisionModelWithProjection,
 * ViT-H/14 in the real model). Pixels are preprocessed on the CPU (preprocess.ts); the graph takes them
 * plus the position ids of the nearest-resized 16x16 position grid, so one graph serves every bucket.
 * Output: last_hidden_state (encoder output, no post_layernorm, no visual_projection).
 */
import { z } from 'zod';
import { GraphBuilder } from '../graph/builder.js';
import type { ComputeDtype } from '../graph/builder.js';
import type { BuiltGraph } from '../graph/clip-text.js';
import { attention, gelu, layerNorm, linear, quickGelu } from '../graph/nn.js';
import type { Ctx } from '../graph/nn.js';
import { Weights } from '../graph/weights.js';
import type { WeightSource } from '../graph/weights.js';
import { configError, setAsideUnused } from './config.js';

export const ClipVisionConfigSchema = z
  .object({
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_channels: z.number().int().positive().default(3),
    image_size: z.number().int().positive(),
    patch_size: z.number().int().positive(),
    projection_dim: z.number().int().positive(),
    hidden_act: z.enum(['quick_gelu', 'gelu']),
    layer_norm_eps: z.number().positive(),
  })
  .loose();
export type ClipVisionConfig = z.infer<typeof ClipVisionConfigSchema>;

/**
 * The official code hard-codes a 16x16 position grid ('(H W) C -> 1 C H W', H=16, W=16); it equals
 * image_size/patch_size of ViT-H/14 at 224 px. A config with another grid cannot run that code.
 */
export const POSITION_GRID = 16;

/**
 * Position ids for a gh x gw patch grid: 0 for the class token, then 1 + the nearest source cell of the
 * 16x16 grid, as torch `interpolate(mode='nearest')` picks it (src = floor(dst * in/out), float32 scale).
 */
export function positionIds(gh: number, gw: number): number[] {
  const src = (dst: number, out: number): number =>
    Math.min(Math.floor(Math.fround(dst * Math.fround(POSITION_GRID / out))), POSITION_GRID - 1);
  const ids = [0];
  for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) ids.push(1 + src(y, gh) * POSITION_GRID + src(x, gw));
  return ids;
}

/**
 * Inputs: pixel_values float32 [batch, 3, H, W] (H, W multiples of patch_size), position_ids int64
 * [1 + (H/p)(W/p)]. Output: last_hidden_state float32 [batch, tokens, hidden].
 */
export function buildClipVision(config: ClipVisionConfig, source: WeightSource, dtype: ComputeDtype): BuiltGraph {
  const D = config.hidden_size;
  // Present in the checkpoint, unused by encode_clip_vision (last_hidden_state only).
  const aside = setAsideUnused(source, {
    'vision_model.post_layernorm.weight': [D],
    'vision_model.post_layernorm.bias': [D],
    'visual_projection.weight': [config.projection_dim, D],
  });
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, aside.source);
  w.problems.push(...aside.problems);
  const ctx: Ctx = { g, w };
  const heads = config.num_attention_heads;
  const headDim = D / heads;
  const p = config.patch_size;
  if (!Number.isInteger(headDim)) throw configError(source.label, `hidden_size ${D} is not divisible by num_attention_heads ${heads}`);
  if (config.image_size / p !== POSITION_GRID) {
    throw configError(source.label, `image_size/patch_size is ${config.image_size / p}, the official encoder hard-codes a ${POSITION_GRID}x${POSITION_GRID} position grid`);
  }
  const positions = POSITION_GRID * POSITION_GRID + 1;
  const e = 'vision_model.embeddings';

  let pixels = g.input('pixel_values', 'float32', ['batch', config.num_channels, 'height', 'width']);
  const positionIdsInput = g.input('position_ids', 'int64', ['tokens']);
  if (dtype === 'float16') pixels = g.op('Cast', [pixels], { to: 10 });
  const patches = g.op('Conv', [pixels, w.get(`${e}.patch_embedding.weight`, [D, config.num_channels, p, p])], {
    kernel_shape: [p, p],
    strides: [p, p],
  });
  const tokens = g.op('Transpose', [g.op('Reshape', [patches, g.ints([0, D, -1])])], { perm: [0, 2, 1] });
  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.ints([0]), g.ints([1])]);
  const cls = g.op('Expand', [
    g.op('Reshape', [w.get(`${e}.class_embedding`, [D]), g.ints([1, 1, D])]),
    g.op('Concat', [batch, g.ints([1, D])], { axis: 0 }),
  ]);
  let x = g.op('Concat', [cls, tokens], { axis: 1 });
  x = g.op('Add', [x, g.op('Gather', [w.get(`${e}.position_embedding.weight`, [positions, D]), positionIdsInput], { axis: 0 })]);
  x = layerNorm(ctx, x, 'vision_model.pre_layrnorm', D, config.layer_norm_eps);

  const act = config.hidden_act === 'quick_gelu' ? quickGelu : gelu;
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const l = `vision_model.encoder.layers.${i}`;
    const h = layerNorm(ctx, x, `${l}.layer_norm1`, D, config.layer_norm_eps);
    const q = linear(ctx, h, `${l}.self_attn.q_proj`, D, D);
    const k = linear(ctx, h, `${l}.self_attn.k_proj`, D, D);
    const v = linear(ctx, h, `${l}.self_attn.v_proj`, D, D);
    x = g.op('Add', [x, linear(ctx, attention(ctx, q, k, v, heads, headDim), `${l}.self_attn.out_proj`, D, D)]);
    const h2 = layerNorm(ctx, x, `${l}.layer_norm2`, D, config.layer_norm_eps);
    const m = linear(ctx, act(ctx, linear(ctx, h2, `${l}.mlp.fc1`, D, config.intermediate_size)), `${l}.mlp.fc2`, config.intermediate_size, D);
    x = g.op('Add', [x, m]);
  }
  if (dtype === 'float16') x = g.op('Cast', [x], { to: 1 });
  g.output(x, 'last_hidden_state', 'float32', ['batch', 'tokens', D]);
  return { builder: g, weights: w, inputs: ['pixel_values', 'position_ids'], outputs: ['last_hidden_state'] };
}
