/**
 * The single-frame PaintsUndo UNet: diffusers UNet2DConditionModel (SD1.5 layout) plus the two official
 * hooks of gradio_app.py:
 *  - unet_add_concat_conds: conv_in takes cat([sample, concat_conds], dim=1); config.json still says
 *    in_channels 4, so the extra channel count comes from the conv_in weight;
 *  - unet_add_coded_conds: emb = time_embedding(t) + add_embedding(Timesteps(P, flip, 0)(operation_step)),
 *    with P and the embedding width read from the add_embedding weights (1280 in the real model).
 * `attention_head_dim` of SD1.x configs is the number of heads.
 */
import { z } from 'zod';
import { PaintsUndoError } from '../../../engine/src/core/errors.js';
import { GraphBuilder } from './builder.js';
import type { ComputeDtype } from './builder.js';
import { downsample, resnet, transformer2d, upsample } from './blocks.js';
import { conv2d, groupNorm, linear, silu, timestepEmbedding } from './nn.js';
import type { Ctx } from './nn.js';
import type { BuiltGraph } from './clip-text.js';
import { GROUPS_DIVIDE_CHANNELS, configCount, configSize, groupsDivideChannels } from './config.js';
import { Weights } from './weights.js';
import type { WeightSource } from './weights.js';

export interface GraphOptions {
  /** Use com.microsoft.MultiHeadAttention (see nn.ts Ctx.fusedAttention). */
  readonly fusedAttention?: boolean;
}

const perBlock = z.union([configSize(), z.array(configSize()).max(16)]);

export const UnetConfigSchema = z
  .object({
    in_channels: configSize(),
    out_channels: configSize(),
    block_out_channels: z.array(configSize()).min(1).max(16),
    layers_per_block: configCount(),
    down_block_types: z.array(z.enum(['CrossAttnDownBlock2D', 'DownBlock2D'])),
    up_block_types: z.array(z.enum(['CrossAttnUpBlock2D', 'UpBlock2D'])),
    mid_block_type: z.literal('UNetMidBlock2DCrossAttn').default('UNetMidBlock2DCrossAttn'),
    attention_head_dim: perBlock,
    num_attention_heads: perBlock.nullable().default(null),
    cross_attention_dim: configSize(),
    norm_num_groups: configSize(),
    norm_eps: z.number().positive(),
    flip_sin_to_cos: z.boolean(),
    freq_shift: z.number(),
    act_fn: z.literal('silu').default('silu'),
    conv_in_kernel: z.number().int().positive().max(15).default(3),
    conv_out_kernel: z.number().int().positive().max(15).default(3),
    downsample_padding: z.literal(1).default(1),
    mid_block_scale_factor: z.literal(1).default(1),
    transformer_layers_per_block: z.union([configCount(), z.array(configCount()).max(16)]).default(1),
    use_linear_projection: z.literal(false).default(false),
    only_cross_attention: z.literal(false).default(false),
    upcast_attention: z.boolean().default(false),
    resnet_time_scale_shift: z.literal('default').default('default'),
    time_embedding_type: z.literal('positional').default('positional'),
    time_embedding_dim: configSize().nullable().default(null),
    addition_embed_type: z.null().default(null),
    class_embed_type: z.null().default(null),
    center_input_sample: z.literal(false).default(false),
  })
  .loose()
  .refine(groupsDivideChannels, GROUPS_DIVIDE_CHANNELS);
export type UnetConfig = z.infer<typeof UnetConfigSchema>;

function list(value: number | number[], n: number, name: string): number[] {
  if (typeof value === 'number') return new Array<number>(n).fill(value);
  if (value.length !== n) throw configError(`${name} has ${value.length} entries for ${n} blocks`);
  return value;
}

function configError(message: string): PaintsUndoError {
  return new PaintsUndoError('MODEL_MISSING', `unet/config.json: ${message}.`, {
    hint: 'The UNet config does not describe a model this backend supports; download the official snapshot again.',
  });
}

/**
 * Inputs: sample [B, in_channels, h, w], timestep int64 [B], encoder_hidden_states [B, L, cross_dim],
 * concat_conds [B, extra, h, w], coded_conds int64 [B]. Output eps float32 [B, out_channels, h, w].
 */
export function buildUnet(config: UnetConfig, source: WeightSource, dtype: ComputeDtype, options: GraphOptions = {}): BuiltGraph {
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, source);
  const ctx: Ctx = { g, w, fusedAttention: options.fusedAttention === true };
  const ch = config.block_out_channels;
  const n = ch.length;
  if (config.down_block_types.length !== n || config.up_block_types.length !== n) {
    throw configError(`down_block_types/up_block_types must have ${n} entries like block_out_channels`);
  }
  const heads = list(config.num_attention_heads ?? config.attention_head_dim, n, 'attention_head_dim');
  const tlayers = list(config.transformer_layers_per_block, n, 'transformer_layers_per_block');
  const groups = config.norm_num_groups;
  const eps = config.norm_eps;
  const first = ch[0] ?? 0;
  const last = ch[n - 1] ?? 0;
  const tembDim = config.time_embedding_dim ?? first * 4;

  // Concat hook: the extra conv_in channels (4 in the real model) are only visible in the weights.
  const convInShape = w.shapeOf('conv_in.weight');
  const totalIn = convInShape?.[1] ?? config.in_channels * 2;
  const concatChannels = totalIn - config.in_channels;
  if (concatChannels <= 0) throw configError(`conv_in.weight has ${totalIn} input channels; the concat hook needs more than in_channels ${config.in_channels}`);
  // Coded hook: Timesteps(P) -> TimestepEmbedding(P, E); E must equal the time-embedding width to be added.
  const addShape = w.shapeOf('add_embedding.linear_1.weight');
  const codedProj = addShape?.[1] ?? 256;

  const sample = g.input('sample', 'float32', ['batch', config.in_channels, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['batch']);
  const contextIn = g.input('encoder_hidden_states', 'float32', ['batch', 'tokens', config.cross_attention_dim]);
  // The hooks repeat concat_conds / coded_conds along the batch: a batch of 1 is broadcast here.
  const concatIn = g.input('concat_conds', 'float32', ['concat_batch', concatChannels, 'height', 'width']);
  const codedIn = g.input('coded_conds', 'int64', ['coded_batch']);
  const batch = g.op('Slice', [g.op('Shape', [sample]), g.ints([0]), g.ints([1])]);
  const concatB = g.op('Expand', [concatIn, g.op('Concat', [batch, g.ints([1, 1, 1])], { axis: 0 })]);
  const coded = g.op('Expand', [codedIn, batch]);
  const cast = (x: string): string => (dtype === 'float16' ? g.op('Cast', [x], { to: 10 }) : x);
  const context = cast(contextIn);

  const tEmb = timestepEmbedding(ctx, timestep, first, config.flip_sin_to_cos, config.freq_shift);
  let emb = linear(ctx, silu(ctx, linear(ctx, tEmb, 'time_embedding.linear_1', first, tembDim)), 'time_embedding.linear_2', tembDim, tembDim);
  const cEmb = timestepEmbedding(ctx, coded, codedProj, true, 0);
  const aug = linear(ctx, silu(ctx, linear(ctx, cEmb, 'add_embedding.linear_1', codedProj, tembDim)), 'add_embedding.linear_2', tembDim, tembDim);
  emb = g.op('Add', [emb, aug]);
  const temb = { value: emb, channels: tembDim };

  let x = g.op('Concat', [cast(sample), cast(concatB)], { axis: 1 });
  x = conv2d(ctx, x, 'conv_in', totalIn, first, config.conv_in_kernel);
  const skips: { value: string; channels: number }[] = [{ value: x, channels: first }];

  let prev = first;
  config.down_block_types.forEach((type, i) => {
    const out = ch[i] ?? 0;
    for (let j = 0; j < config.layers_per_block; j++) {
      x = resnet(ctx, x, `down_blocks.${i}.resnets.${j}`, j === 0 ? prev : out, out, { groups, eps, temb });
      if (type === 'CrossAttnDownBlock2D') {
        x = transformer2d(ctx, x, `down_blocks.${i}.attentions.${j}`, out, context, {
          heads: heads[i] ?? 1,
          groups,
          crossDim: config.cross_attention_dim,
          layers: tlayers[i] ?? 1,
        });
      }
      skips.push({ value: x, channels: out });
    }
    if (i < n - 1) {
      x = downsample(ctx, x, `down_blocks.${i}.downsamplers.0`, out, false);
      skips.push({ value: x, channels: out });
    }
    prev = out;
  });

  x = resnet(ctx, x, 'mid_block.resnets.0', last, last, { groups, eps, temb });
  x = transformer2d(ctx, x, 'mid_block.attentions.0', last, context, {
    heads: heads[n - 1] ?? 1,
    groups,
    crossDim: config.cross_attention_dim,
    layers: tlayers[n - 1] ?? 1,
  });
  x = resnet(ctx, x, 'mid_block.resnets.1', last, last, { groups, eps, temb });

  const reversed = [...ch].reverse();
  const reversedHeads = [...heads].reverse();
  const reversedLayers = [...tlayers].reverse();
  prev = reversed[0] ?? 0;
  config.up_block_types.forEach((type, i) => {
    const out = reversed[i] ?? 0;
    for (let j = 0; j < config.layers_per_block + 1; j++) {
      const skip = skips.pop();
      if (skip === undefined) throw configError('the up blocks consume more skip connections than the down blocks produce');
      const inChannels = (j === 0 ? prev : out) + skip.channels;
      x = g.op('Concat', [x, skip.value], { axis: 1 });
      x = resnet(ctx, x, `up_blocks.${i}.resnets.${j}`, inChannels, out, { groups, eps, temb });
      if (type === 'CrossAttnUpBlock2D') {
        x = transformer2d(ctx, x, `up_blocks.${i}.attentions.${j}`, out, context, {
          heads: reversedHeads[i] ?? 1,
          groups,
          crossDim: config.cross_attention_dim,
          layers: reversedLayers[i] ?? 1,
        });
      }
    }
    // Upsample to the size of the next skip connection (diffusers' upsample_size for odd sizes).
    if (i < n - 1) x = upsample(ctx, x, `up_blocks.${i}.upsamplers.0`, out, skips[skips.length - 1]?.value);
    prev = out;
  });

  x = silu(ctx, groupNorm(ctx, x, 'conv_norm_out', first, groups, eps));
  x = conv2d(ctx, x, 'conv_out', first, config.out_channels, config.conv_out_kernel);
  if (dtype === 'float16') x = g.op('Cast', [x], { to: 1 });
  g.output(x, 'eps', 'float32', ['batch', config.out_channels, 'height', 'width']);
  return { builder: g, weights: w, inputs: ['sample', 'timestep', 'encoder_hidden_states', 'concat_conds', 'coded_conds'], outputs: ['eps'] };
}
