/**
 * diffusers AutoencoderKL (SD VAE): the encoder up to latent_dist.mode() (the mean half of quant_conv's
 * output) and the decoder from latents (post_quant_conv first). Scaling by `scaling_factor` is the
 * caller's job, as in the official code.
 */
import { z } from 'zod';
import { GraphBuilder } from './builder.js';
import type { ComputeDtype } from './builder.js';
import { downsample, resnet, spatialSelfAttention, upsample } from './blocks.js';
import { conv2d, groupNorm, silu } from './nn.js';
import type { Ctx } from './nn.js';
import type { BuiltGraph } from './clip-text.js';
import type { GraphOptions } from './unet.js';
import { GROUPS_DIVIDE_CHANNELS, configCount, configSize, groupsDivideChannels } from './config.js';
import { Weights } from './weights.js';
import type { WeightSource } from './weights.js';

export const VaeConfigSchema = z
  .object({
    in_channels: configSize(),
    out_channels: configSize(),
    latent_channels: configSize(),
    block_out_channels: z.array(configSize()).min(1).max(16),
    layers_per_block: configCount(),
    norm_num_groups: configSize(),
    act_fn: z.literal('silu'),
    down_block_types: z.array(z.literal('DownEncoderBlock2D')),
    up_block_types: z.array(z.literal('UpDecoderBlock2D')),
    scaling_factor: z.number().positive(),
    mid_block_add_attention: z.boolean().default(true),
    /** diffusers runs the VAE in float32 when set (the SD1.5 VAE overflows float16 in its decoder). */
    force_upcast: z.boolean().default(true),
  })
  .loose()
  .refine(groupsDivideChannels, GROUPS_DIVIDE_CHANNELS);
export type VaeConfig = z.infer<typeof VaeConfigSchema>;

/** The VAE uses eps 1e-6 in every GroupNorm. */
const EPS = 1e-6;

function midBlock(ctx: Ctx, x: string, prefix: string, channels: number, config: VaeConfig): string {
  const groups = config.norm_num_groups;
  let h = resnet(ctx, x, `${prefix}.resnets.0`, channels, channels, { groups, eps: EPS });
  if (config.mid_block_add_attention) h = spatialSelfAttention(ctx, h, `${prefix}.attentions.0`, channels, groups, EPS);
  return resnet(ctx, h, `${prefix}.resnets.1`, channels, channels, { groups, eps: EPS });
}

/** Input pixels float32 [B, in_channels, H, W] in [-1, 1]; output latent_mode float32 [B, latent, H/f, W/f]. */
export function buildVaeEncoder(config: VaeConfig, source: WeightSource, dtype: ComputeDtype, options: GraphOptions = {}): BuiltGraph {
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, source);
  encoderBody({ g, w, fusedAttention: options.fusedAttention === true }, config, true);
  // The decoder's tensors live in the same file: walk it without emitting so they count as expected, not unused.
  const scratch = new GraphBuilder('float32');
  decoderBody({ g: scratch, w: w.checkingOnly(scratch) }, config, false);
  return { builder: g, weights: w, inputs: ['pixels'], outputs: ['latent_mode'] };
}

/** Input latents float32 [B, latent, h, w] (unscaled); output sample float32 [B, out_channels, h*f, w*f]. */
export function buildVaeDecoder(config: VaeConfig, source: WeightSource, dtype: ComputeDtype, options: GraphOptions = {}): BuiltGraph {
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, source);
  decoderBody({ g, w, fusedAttention: options.fusedAttention === true }, config, true);
  const scratch = new GraphBuilder('float32');
  encoderBody({ g: scratch, w: w.checkingOnly(scratch) }, config, false);
  return { builder: g, weights: w, inputs: ['latents'], outputs: ['sample'] };
}

function encoderBody(ctx: Ctx, config: VaeConfig, emit: boolean): void {
  const { g } = ctx;
  const ch = config.block_out_channels;
  const groups = config.norm_num_groups;
  const first = ch[0] ?? 0;
  const last = ch[ch.length - 1] ?? 0;
  let x = g.input(emit ? 'pixels' : g.fresh('pixels'), 'float32', ['batch', config.in_channels, 'height', 'width']);
  if (g.dtype === 'float16') x = g.op('Cast', [x], { to: 10 });
  x = conv2d(ctx, x, 'encoder.conv_in', config.in_channels, first, 3);
  let prev = first;
  ch.forEach((out, i) => {
    for (let j = 0; j < config.layers_per_block; j++) {
      x = resnet(ctx, x, `encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? prev : out, out, { groups, eps: EPS });
    }
    if (i < ch.length - 1) x = downsample(ctx, x, `encoder.down_blocks.${i}.downsamplers.0`, out, true);
    prev = out;
  });
  x = midBlock(ctx, x, 'encoder.mid_block', last, config);
  x = silu(ctx, groupNorm(ctx, x, 'encoder.conv_norm_out', last, groups, EPS));
  const L = config.latent_channels;
  x = conv2d(ctx, x, 'encoder.conv_out', last, 2 * L, 3);
  x = conv2d(ctx, x, 'quant_conv', 2 * L, 2 * L, 1);
  let mode = g.op('Slice', [x, g.ints([0]), g.ints([L]), g.ints([1])]);
  if (g.dtype === 'float16') mode = g.op('Cast', [mode], { to: 1 });
  if (emit) g.output(mode, 'latent_mode', 'float32', ['batch', L, 'latent_height', 'latent_width']);
}

function decoderBody(ctx: Ctx, config: VaeConfig, emit: boolean): void {
  const { g } = ctx;
  const ch = config.block_out_channels;
  const groups = config.norm_num_groups;
  const L = config.latent_channels;
  const reversed = [...ch].reverse();
  const top = reversed[0] ?? 0;
  let x = g.input(emit ? 'latents' : g.fresh('latents'), 'float32', ['batch', L, 'latent_height', 'latent_width']);
  if (g.dtype === 'float16') x = g.op('Cast', [x], { to: 10 });
  x = conv2d(ctx, x, 'post_quant_conv', L, L, 1);
  x = conv2d(ctx, x, 'decoder.conv_in', L, top, 3);
  x = midBlock(ctx, x, 'decoder.mid_block', top, config);
  let prev = top;
  reversed.forEach((out, i) => {
    for (let j = 0; j < config.layers_per_block + 1; j++) {
      x = resnet(ctx, x, `decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? prev : out, out, { groups, eps: EPS });
    }
    if (i < reversed.length - 1) x = upsample(ctx, x, `decoder.up_blocks.${i}.upsamplers.0`, out);
    prev = out;
  });
  const first = ch[0] ?? 0;
  x = silu(ctx, groupNorm(ctx, x, 'decoder.conv_norm_out', first, groups, EPS));
  x = conv2d(ctx, x, 'decoder.conv_out', first, config.out_channels, 3);
  if (g.dtype === 'float16') x = g.op('Cast', [x], { to: 1 });
  if (emit) g.output(x, 'sample', 'float32', ['batch', config.out_channels, 'height', 'width']);
}

