/**
 * The multi-frame 3D UNet (diffusers_vdm.unet.UNet3DModel: VideoCrafter/DynamiCrafter lineage, edited by
 * the PaintsUndo authors). Frames are folded into the batch ("(b t) c h w") except inside temporal layers.
 * - ResBlock: 2-D res block with the time(+fs) embedding, then `temopral_conv` (sic): 4 x (GroupNorm ->
 *   SiLU -> Conv3d (3,1,1)) + identity;
 * - SpatialTransformer: self-attention, then cross-attention to the text tokens plus, through
 *   to_k_ip/to_v_ip, to the frame's image tokens scaled by (tanh(alpha) + 1);
 * - TemporalTransformer: two self-attentions along t per pixel (the relative-position tables exist in
 *   the checkpoint but the official forward never reads them), GEGLU feed-forward;
 * - init_attn: a TemporalTransformer with hard-coded 8 heads after input_blocks[0] (Conv1d projections);
 * - timestep and fs embeddings are cat([cos, sin]) sinusoids of width model_channels.
 * Every size comes from config.json and is checked against the weights' shapes.
 */
import { z } from 'zod';
import { GraphBuilder } from '../graph/builder.js';
import type { ComputeDtype } from '../graph/builder.js';
import type { BuiltGraph } from '../graph/clip-text.js';
import { attention, conv2d, gelu, groupNorm, layerNorm, linear, silu, timestepEmbedding } from '../graph/nn.js';
import type { Ctx } from '../graph/nn.js';
import { fromTokens, toTokens, upsample } from '../graph/blocks.js';
import { Weights } from '../graph/weights.js';
import type { WeightProblem, WeightSource } from '../graph/weights.js';
import { configError } from './config.js';
import { fromVideo, groupNorm5d, temporalConv, toVideo } from './layers.js';

export const Unet3dConfigSchema = z
  .object({
    in_channels: z.number().int().positive(),
    model_channels: z.number().int().positive(),
    out_channels: z.number().int().positive(),
    num_res_blocks: z.number().int().positive(),
    attention_resolutions: z.array(z.number().int().positive()),
    channel_mult: z.array(z.number().int().positive()).min(1),
    conv_resample: z.boolean().default(true),
    dims: z.literal(2).default(2),
    context_dim: z.number().int().positive(),
    use_scale_shift_norm: z.literal(false).default(false),
    resblock_updown: z.literal(false).default(false),
    num_heads: z.number().int().default(-1),
    num_head_channels: z.number().int().default(-1),
    transformer_depth: z.number().int().positive().default(1),
    use_linear: z.boolean().default(false),
    temporal_conv: z.boolean().default(false),
    tempspatial_aware: z.literal(false).default(false),
    temporal_attention: z.boolean().default(true),
    use_relative_position: z.boolean().default(true),
    use_causal_attention: z.literal(false).default(false),
    temporal_length: z.number().int().positive(),
    addition_attention: z.boolean().default(false),
    temporal_selfatt_only: z.literal(true).default(true),
    image_cross_attention: z.literal(true),
    image_cross_attention_scale_learnable: z.boolean().default(false),
    default_fs: z.number().int().default(4),
    fs_condition: z.boolean().default(false),
  })
  .loose();
export type Unet3dConfig = z.infer<typeof Unet3dConfigSchema>;

/** init_attn's TemporalTransformer is built with n_heads=8 in the official code, whatever the config. */
const INIT_ATTN_HEADS = 8;
const RELATIVE_TABLE = /\.attn[12]\.relative_position_[kv]\.embeddings_table$/;

interface UnetCtx extends Ctx {
  readonly frames: number;
  readonly config: Unet3dConfig;
  /** Time (+fs) embedding per frame, [(b t), 4 * model_channels]. */
  readonly emb: string;
  readonly embDim: number;
  readonly textContext: string;
  readonly imageContext: string;
  /** Temporal transformer prefixes and their head width, for the relative-position table check. */
  readonly temporal: { prefix: string; dHead: number }[];
}

function resBlock(ctx: UnetCtx, x: string, prefix: string, inCh: number, outCh: number): string {
  const { g } = ctx;
  let h = conv2d(ctx, silu(ctx, groupNorm(ctx, x, `${prefix}.in_layers.0`, inCh, 32, 1e-5)), `${prefix}.in_layers.2`, inCh, outCh, 3);
  const e = linear(ctx, silu(ctx, ctx.emb), `${prefix}.emb_layers.1`, ctx.embDim, outCh);
  h = g.op('Add', [h, g.op('Unsqueeze', [e, g.ints([2, 3])])]);
  h = conv2d(ctx, silu(ctx, groupNorm(ctx, h, `${prefix}.out_layers.0`, outCh, 32, 1e-5)), `${prefix}.out_layers.3`, outCh, outCh, 3);
  const skip = inCh === outCh ? x : conv2d(ctx, x, `${prefix}.skip_connection`, inCh, outCh, 1);
  h = g.op('Add', [skip, h]);
  if (!ctx.config.temporal_conv) return h;
  const t = `${prefix}.temopral_conv`;
  const video = toVideo(ctx, h, ctx.frames, outCh);
  let c = video;
  for (const [i, conv] of [[1, 2], [2, 3], [3, 3], [4, 3]] as const) {
    c = temporalConv(ctx, silu(ctx, groupNorm5d(ctx, c, `${t}.conv${i}.0`, outCh, 32, 1e-5)), `${t}.conv${i}.${conv}`, outCh, outCh, 3);
  }
  return fromVideo(ctx, g.op('Add', [video, c]), outCh);
}

/** GEGLU feed-forward (ff.net.0.proj -> x * gelu(gate) -> ff.net.2), inner = 4 * dim. */
function geglu(ctx: Ctx, x: string, prefix: string, dim: number): string {
  const { g } = ctx;
  const inner = dim * 4;
  const proj = linear(ctx, x, `${prefix}.net.0.proj`, dim, inner * 2);
  const [value, gate] = g.opMulti('Split', [proj, g.ints([inner, inner])], 2, { axis: -1 }) as [string, string];
  return linear(ctx, g.op('Mul', [value, gelu(ctx, gate)]), `${prefix}.net.2`, inner, dim);
}

function selfAttention(ctx: Ctx, x: string, prefix: string, dim: number, heads: number, dHead: number): string {
  const inner = heads * dHead;
  const q = linear(ctx, x, `${prefix}.to_q`, dim, inner, false);
  const k = linear(ctx, x, `${prefix}.to_k`, dim, inner, false);
  const v = linear(ctx, x, `${prefix}.to_v`, dim, inner, false);
  return linear(ctx, attention(ctx, q, k, v, heads, dHead), `${prefix}.to_out.0`, inner, dim);
}

function spatialTransformer(ctx: UnetCtx, x: string, prefix: string, ch: number, heads: number, dHead: number): string {
  const { g, config } = ctx;
  const inner = heads * dHead;
  const D = config.context_dim;
  let t = toTokens(ctx, groupNorm(ctx, x, `${prefix}.norm`, ch, 32, 1e-6));
  t = projIn(ctx, t, `${prefix}.proj_in`, ch, inner, config.use_linear);
  for (let i = 0; i < config.transformer_depth; i++) {
    const p = `${prefix}.transformer_blocks.${i}`;
    t = g.op('Add', [selfAttention(ctx, layerNorm(ctx, t, `${p}.norm1`, inner, 1e-5), `${p}.attn1`, inner, heads, dHead), t]);
    const n2 = layerNorm(ctx, t, `${p}.norm2`, inner, 1e-5);
    const q = linear(ctx, n2, `${p}.attn2.to_q`, inner, inner, false);
    const text = attention(
      ctx,
      q,
      linear(ctx, ctx.textContext, `${p}.attn2.to_k`, D, inner, false),
      linear(ctx, ctx.textContext, `${p}.attn2.to_v`, D, inner, false),
      heads,
      dHead,
    );
    let image = attention(
      ctx,
      q,
      linear(ctx, ctx.imageContext, `${p}.attn2.to_k_ip`, D, inner, false),
      linear(ctx, ctx.imageContext, `${p}.attn2.to_v_ip`, D, inner, false),
      heads,
      dHead,
    );
    if (config.image_cross_attention_scale_learnable) {
      // image_cross_attention_scale (1.0) * (tanh(alpha) + 1)
      image = g.op('Mul', [image, g.op('Add', [g.op('Tanh', [ctx.w.get(`${p}.attn2.alpha`, [])]), g.scalar(1)])]);
    }
    t = g.op('Add', [linear(ctx, g.op('Add', [text, image]), `${p}.attn2.to_out.0`, inner, inner), t]);
    t = g.op('Add', [geglu(ctx, layerNorm(ctx, t, `${p}.norm3`, inner, 1e-5), `${p}.ff`, inner), t]);
  }
  t = projIn(ctx, t, `${prefix}.proj_out`, inner, ch, config.use_linear);
  return g.op('Add', [fromTokens(ctx, t, x), x]);
}

/** nn.Linear, or the equivalent kernel-1 Conv1d/Conv2d of the non-linear variant ([out, in, 1...]). */
function projIn(ctx: Ctx, x: string, prefix: string, inCh: number, outCh: number, useLinear: boolean, convRank = 2): string {
  if (useLinear) return linear(ctx, x, prefix, inCh, outCh);
  const { g, w } = ctx;
  const weight = g.op('Reshape', [w.get(`${prefix}.weight`, [outCh, inCh, ...new Array<number>(convRank).fill(1)]), g.ints([outCh, inCh])]);
  const flat = g.op('Reshape', [x, g.ints([-1, inCh])]);
  const y = g.op('Gemm', [flat, weight, w.get(`${prefix}.bias`, [outCh])], { transB: 1 });
  const lead = g.op('Slice', [g.op('Shape', [x]), g.ints([0]), g.ints([-1])]);
  return g.op('Reshape', [y, g.op('Concat', [lead, g.ints([outCh])], { axis: 0 })]);
}

/** TemporalTransformer over frames [(b t), c, h, w]: attention along t for every pixel. */
function temporalTransformer(ctx: UnetCtx, x: string, prefix: string, ch: number, heads: number, dHead: number, useLinear: boolean): string {
  const { g, config } = ctx;
  const T = ctx.frames;
  const inner = heads * dHead;
  ctx.temporal.push({ prefix, dHead });
  const video = toVideo(ctx, x, T, ch); // [b, c, T, h, w]
  const normed = groupNorm5d(ctx, video, `${prefix}.norm`, ch, 32, 1e-6);
  // 'b c t h w -> (b h w) t c'
  let t = g.op('Reshape', [g.op('Transpose', [normed], { perm: [0, 3, 4, 2, 1] }), g.ints([-1, T, ch])]);
  t = projIn(ctx, t, `${prefix}.proj_in`, ch, inner, useLinear, 1);
  for (let i = 0; i < config.transformer_depth; i++) {
    const p = `${prefix}.transformer_blocks.${i}`;
    t = g.op('Add', [selfAttention(ctx, layerNorm(ctx, t, `${p}.norm1`, inner, 1e-5), `${p}.attn1`, inner, heads, dHead), t]);
    t = g.op('Add', [selfAttention(ctx, layerNorm(ctx, t, `${p}.norm2`, inner, 1e-5), `${p}.attn2`, inner, heads, dHead), t]);
    t = g.op('Add', [geglu(ctx, layerNorm(ctx, t, `${p}.norm3`, inner, 1e-5), `${p}.ff`, inner), t]);
  }
  t = projIn(ctx, t, `${prefix}.proj_out`, inner, ch, useLinear, 1);
  // '(b h w) t c -> b c t h w'
  const shape = g.op('Shape', [video]);
  const bhw = g.op('Gather', [shape, g.ints([0, 3, 4])], { axis: 0 });
  const back = g.op('Reshape', [t, g.op('Concat', [bhw, g.ints([T, ch])], { axis: 0 })]);
  const out = g.op('Add', [g.op('Transpose', [back], { perm: [0, 4, 3, 1, 2] }), video]);
  return fromVideo(ctx, out, ch);
}

function headsFor(config: Unet3dConfig, ch: number, label: string): { heads: number; dHead: number } {
  if (config.num_head_channels !== -1) {
    if (ch % config.num_head_channels !== 0) throw configError(label, `width ${ch} is not a multiple of num_head_channels ${config.num_head_channels}`);
    return { heads: ch / config.num_head_channels, dHead: config.num_head_channels };
  }
  if (config.num_heads <= 0 || ch % config.num_heads !== 0) throw configError(label, `width ${ch} cannot be split into num_heads ${config.num_heads}`);
  return { heads: config.num_heads, dHead: ch / config.num_heads };
}

/**
 * Inputs: x [b, out_channels, frames, h, w], timesteps int64 [b], context_text [b, L, context_dim],
 * context_img [b, frames, N, context_dim], concat_cond [b, in_channels - out_channels, frames, h, w],
 * fs int64 [b] (when fs_condition). Output: y [b, out_channels, frames, h, w] (v-prediction).
 */
export function buildUnet3d(config: Unet3dConfig, source: WeightSource, dtype: ComputeDtype, frames: number): BuiltGraph {
  const label = source.label;
  const mc = config.model_channels;
  const concatCh = config.in_channels - config.out_channels;
  if (concatCh <= 0) throw configError(label, `in_channels ${config.in_channels} leaves no room for the concat condition next to out_channels ${config.out_channels}`);
  if (config.addition_attention && config.num_head_channels <= 0) throw configError(label, 'addition_attention needs num_head_channels');

  // Relative-position tables: checked after the build against the temporal layers that own them.
  const tables = new Map<string, readonly number[]>();
  const tensors = new Map(source.tensors);
  for (const [name, entry] of source.tensors) {
    if (RELATIVE_TABLE.test(name)) {
      tables.set(name, entry.shape);
      tensors.delete(name);
    }
  }
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, { ...source, tensors });
  const cast16 = (v: string): string => (dtype === 'float16' ? g.op('Cast', [v], { to: 10 }) : v);

  const x = g.input('x', 'float32', ['batch', config.out_channels, frames, 'h', 'w']);
  const timesteps = g.input('timesteps', 'int64', ['batch']);
  const text = g.input('context_text', 'float32', ['batch', 'text_tokens', config.context_dim]);
  const img = g.input('context_img', 'float32', ['batch', frames, 'image_tokens', config.context_dim]);
  const concat = g.input('concat_cond', 'float32', ['batch', concatCh, frames, 'h', 'w']);
  const fs = config.fs_condition ? g.input('fs', 'int64', ['batch']) : undefined;

  const base: Ctx = { g, w };
  const embDim = mc * 4;
  let emb = linear(base, silu(base, linear(base, timestepEmbedding(base, timesteps, mc, true, 0), 'time_embed.0', mc, embDim)), 'time_embed.2', embDim, embDim);
  if (fs !== undefined) {
    const fsEmb = linear(base, silu(base, linear(base, timestepEmbedding(base, fs, mc, true, 0), 'fps_embedding.0', mc, embDim)), 'fps_embedding.2', embDim, embDim);
    emb = g.op('Add', [emb, fsEmb]);
  }
  // repeat_interleave over frames: [b, E] -> [(b t), E].
  const perFrame = (v: string, tail: number[]): string =>
    g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [v, g.ints([1])]), g.ints([1, frames, ...tail.map(() => 1)])]), g.ints([-1, ...tail])]);
  emb = perFrame(emb, [embDim]);
  const textContext = g.op('Expand', [g.op('Unsqueeze', [cast16(text), g.ints([1])]), g.ints([1, frames, 1, 1])]);
  const ctx: UnetCtx = {
    g,
    w,
    frames,
    config,
    emb,
    embDim,
    textContext: g.op('Reshape', [textContext, g.op('Concat', [g.ints([-1]), g.op('Slice', [g.op('Shape', [text]), g.ints([1]), g.ints([3])])], { axis: 0 })]),
    // 'b t l c -> (b t) l c'
    imageContext: g.op('Reshape', [cast16(img), g.op('Concat', [g.ints([-1]), g.op('Slice', [g.op('Shape', [img]), g.ints([2]), g.ints([4])])], { axis: 0 })]),
    temporal: [],
  };

  let h = fromVideo(ctx, g.op('Concat', [cast16(x), cast16(concat)], { axis: 1 }), config.in_channels);
  h = conv2d(ctx, h, 'input_blocks.0.0', config.in_channels, mc, 3);
  if (config.addition_attention) {
    h = temporalTransformer(ctx, h, 'init_attn.0', mc, INIT_ATTN_HEADS, config.num_head_channels, false);
  }
  const skips: { value: string; ch: number }[] = [{ value: h, ch: mc }];
  let ch = mc;
  let ds = 1;
  let block = 1;
  const attentionAt = (res: number): boolean => config.attention_resolutions.includes(res);
  const attend = (value: string, prefix: string, width: number): string => {
    const { heads, dHead } = headsFor(config, width, label);
    let out = spatialTransformer(ctx, value, `${prefix}.1`, width, heads, dHead);
    if (config.temporal_attention) out = temporalTransformer(ctx, out, `${prefix}.2`, width, heads, dHead, config.use_linear);
    return out;
  };
  config.channel_mult.forEach((mult, level) => {
    for (let r = 0; r < config.num_res_blocks; r++) {
      const prefix = `input_blocks.${block}`;
      h = resBlock(ctx, h, `${prefix}.0`, ch, mult * mc);
      ch = mult * mc;
      if (attentionAt(ds)) h = attend(h, prefix, ch);
      skips.push({ value: h, ch });
      block++;
    }
    if (level !== config.channel_mult.length - 1) {
      const op = `input_blocks.${block}.0.op`;
      h = config.conv_resample
        ? conv2d(ctx, h, op, ch, ch, 3, { stride: 2, pad: 1 })
        : g.op('AveragePool', [h], { kernel_shape: [2, 2], strides: [2, 2] });
      skips.push({ value: h, ch });
      block++;
      ds *= 2;
    }
  });

  {
    const { heads, dHead } = headsFor(config, ch, label);
    h = resBlock(ctx, h, 'middle_block.0', ch, ch);
    h = spatialTransformer(ctx, h, 'middle_block.1', ch, heads, dHead);
    let last = 2;
    if (config.temporal_attention) {
      h = temporalTransformer(ctx, h, 'middle_block.2', ch, heads, dHead, config.use_linear);
      last = 3;
    }
    h = resBlock(ctx, h, `middle_block.${last}`, ch, ch);
  }

  block = 0;
  [...config.channel_mult.entries()].reverse().forEach(([level, mult]) => {
    for (let i = 0; i <= config.num_res_blocks; i++) {
      const skip = skips.pop();
      if (skip === undefined) throw configError(label, 'the output blocks need more skip connections than the input blocks made');
      const prefix = `output_blocks.${block}`;
      h = resBlock(ctx, g.op('Concat', [h, skip.value], { axis: 1 }), `${prefix}.0`, ch + skip.ch, mult * mc);
      ch = mult * mc;
      let next = 1;
      if (attentionAt(ds)) {
        h = attend(h, prefix, ch);
        next = config.temporal_attention ? 3 : 2;
      }
      if (level !== 0 && i === config.num_res_blocks) {
        h = config.conv_resample
          ? upsample(ctx, h, `${prefix}.${next}`, ch)
          : g.op('Resize', [h, '', g.constant('float32', [1, 1, 2, 2], [4])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
        ds = Math.floor(ds / 2);
      }
      block++;
    }
  });

  h = conv2d(ctx, silu(ctx, groupNorm(ctx, h, 'out.0', ch, 32, 1e-5)), 'out.2', mc, config.out_channels, 3);
  let y = toVideo(ctx, h, frames, config.out_channels);
  if (dtype === 'float16') y = g.op('Cast', [y], { to: 1 });
  g.output(y, 'y', 'float32', ['batch', config.out_channels, frames, 'h', 'w']);

  w.problems.push(...relativeTableProblems(config, ctx.temporal, tables));
  const inputs = ['x', 'timesteps', 'context_text', 'context_img', 'concat_cond', ...(fs !== undefined ? ['fs'] : [])];
  return { builder: g, weights: w, inputs, outputs: ['y'] };
}

/** Present and well-shaped tables for every temporal attention when use_relative_position; none otherwise. */
function relativeTableProblems(
  config: Unet3dConfig,
  temporal: readonly { prefix: string; dHead: number }[],
  tables: ReadonlyMap<string, readonly number[]>,
): WeightProblem[] {
  const problems: WeightProblem[] = [];
  const expected = new Map<string, readonly number[]>();
  if (config.use_relative_position) {
    for (const { prefix, dHead } of temporal) {
      for (let i = 0; i < config.transformer_depth; i++) {
        for (const attn of ['attn1', 'attn2']) {
          for (const kv of ['k', 'v']) {
            expected.set(`${prefix}.transformer_blocks.${i}.${attn}.relative_position_${kv}.embeddings_table`, [2 * config.temporal_length + 1, dHead]);
          }
        }
      }
    }
  }
  for (const [name, shape] of expected) {
    const actual = tables.get(name);
    if (actual === undefined) problems.push({ kind: 'missing', name, expected: shape });
    else if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) problems.push({ kind: 'shape', name, expected: shape, actual });
  }
  for (const [name, actual] of tables) if (!expected.has(name)) problems.push({ kind: 'unexpected', name, actual });
  return problems;
}
