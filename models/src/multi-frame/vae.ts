/**
 * The temporal VAE of the multi-frame model (ToonCrafter's anime VAE, diffusers_vdm.vae):
 * - encoder: per-frame 2-D encoder that also returns its hidden states (the last res block of every
 *   level, then the conv_in output), quant_conv, latent mode x 0.18215;
 * - decoder: VideoResBlocks (2-D res block mixed with a temporal stack by sigmoid(mix_factor)), the
 *   first/last frames' hidden states combined in at every level (AttentionCombiner at attn_level,
 *   ConvCombiner elsewhere and after norm_out), conv_out = Conv2d + temporal Conv3d. The official
 *   decode path passes kwargs, so post_quant_conv is skipped (its weights are checked, not used).
 */
import { z } from 'zod';
import { GraphBuilder } from '../graph/builder.js';
import type { ComputeDtype } from '../graph/builder.js';
import type { BuiltGraph } from '../graph/clip-text.js';
import { attention, conv2d, groupNorm, linear, silu } from '../graph/nn.js';
import type { Ctx } from '../graph/nn.js';
import { fromTokens, toTokens, upsample } from '../graph/blocks.js';
import { Weights } from '../graph/weights.js';
import type { WeightSource } from '../graph/weights.js';
import { setAsideUnused } from './config.js';
import { fromVideo, groupNorm5d, temporalConv, toVideo, vaeResnet } from './layers.js';

export const VideoVaeConfigSchema = z
  .object({
    double_z: z.boolean().default(true),
    z_channels: z.number().int().positive(),
    resolution: z.number().int().positive(),
    in_channels: z.number().int().positive(),
    out_ch: z.number().int().positive(),
    ch: z.number().int().positive(),
    ch_mult: z.array(z.number().int().positive()).min(1),
    num_res_blocks: z.number().int().positive(),
    attn_resolutions: z.array(z.number().int().positive()).default([]),
  })
  .loose();
export type VideoVaeConfig = z.infer<typeof VideoVaeConfigSchema>;

/** VideoAutoencoderKL.scale_factor: a hard-coded attribute, not in config.json. */
export const VIDEO_VAE_SCALE = 0.18215;
/** VideoDecoder defaults the official code never overrides. */
const ATTN_LEVELS: readonly number[] = [2, 3];
const VIDEO_KERNEL = 3;
/** AttentionCombiner(query_dim) defaults: heads=8, dim_head=64. */
const COMBINER_HEADS = 8;
const COMBINER_HEAD_DIM = 64;
const EPS = 1e-6;
/** normalization() of the temporal stack: nn.GroupNorm(32, c) with torch's default eps. */
const TIME_STACK_EPS = 1e-5;

function levelChannels(config: VideoVaeConfig): number[] {
  return config.ch_mult.map((m) => config.ch * m);
}

/** Single-head spatial attention of the mid block (1x1 conv projections). */
function midAttention(ctx: Ctx, x: string, prefix: string, channels: number): string {
  const { g } = ctx;
  const h = groupNorm(ctx, x, `${prefix}.norm`, channels, 32, EPS);
  const q = toTokens(ctx, conv2d(ctx, h, `${prefix}.q`, channels, channels, 1));
  const k = toTokens(ctx, conv2d(ctx, h, `${prefix}.k`, channels, channels, 1));
  const v = toTokens(ctx, conv2d(ctx, h, `${prefix}.v`, channels, channels, 1));
  const out = fromTokens(ctx, attention(ctx, q, k, v, 1, channels), x);
  return g.op('Add', [x, conv2d(ctx, out, `${prefix}.proj_out`, channels, channels, 1)]);
}

/**
 * EncoderDownSampleBlock: pad (0, 1, 0, 1) then a stride-2 3x3 conv, written as the conv's own
 * asymmetric pads. A separate Pad node here trips onnxruntime 1.30's Pad+Conv fusion when the padded
 * tensor is also a graph output (a hidden state): "Node input ... is not a graph input".
 */
function encoderDownsample(ctx: Ctx, x: string, prefix: string, channels: number): string {
  const { g, w } = ctx;
  return g.op('Conv', [x, w.get(`${prefix}.conv.weight`, [channels, channels, 3, 3]), w.get(`${prefix}.conv.bias`, [channels])], {
    kernel_shape: [3, 3],
    strides: [2, 2],
    pads: [0, 0, 1, 1],
  });
}

/**
 * Inputs: pixels float32 [n, in_channels, H, W] in [-1, 1] (frames folded into n).
 * Outputs: latents [n, z, H/f, W/f] (mode x 0.18215), hidden_0..hidden_L [n, c, h, w]
 * (L = levels; hidden_L is the conv_in output).
 */
export function buildVideoVaeEncoder(config: VideoVaeConfig, source: WeightSource, dtype: ComputeDtype): BuiltGraph {
  const aside = setAsideUnusedDecoder(config, source);
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, aside.source);
  w.problems.push(...aside.problems);
  const ctx: Ctx = { g, w };
  const channels = levelChannels(config);
  const levels = channels.length;
  const zc = config.z_channels;
  const moments = config.double_z ? 2 * zc : zc;

  let x = g.input('pixels', 'float32', ['frames', config.in_channels, 'height', 'width']);
  if (dtype === 'float16') x = g.op('Cast', [x], { to: 10 });
  const convIn = conv2d(ctx, x, 'encoder.conv_in', config.in_channels, config.ch, 3);
  const hidden: string[] = [];
  let h = convIn;
  let blockIn = config.ch;
  let res = config.resolution;
  for (let i = 0; i < levels; i++) {
    const out = channels[i]!;
    for (let b = 0; b < config.num_res_blocks; b++) {
      h = vaeResnet(ctx, h, `encoder.down.${i}.block.${b}`, blockIn, out);
      blockIn = out;
      if (config.attn_resolutions.includes(res)) h = midAttention(ctx, h, `encoder.down.${i}.attn.${b}`, out);
    }
    hidden.push(h);
    if (i !== levels - 1) {
      h = encoderDownsample(ctx, h, `encoder.down.${i}.downsample`, blockIn);
      res = Math.floor(res / 2);
    }
  }
  hidden.push(convIn);
  h = vaeResnet(ctx, h, 'encoder.mid.block_1', blockIn, blockIn);
  h = midAttention(ctx, h, 'encoder.mid.attn_1', blockIn);
  h = vaeResnet(ctx, h, 'encoder.mid.block_2', blockIn, blockIn);
  h = conv2d(ctx, silu(ctx, groupNorm(ctx, h, 'encoder.norm_out', blockIn, 32, EPS)), 'encoder.conv_out', blockIn, moments, 3);
  h = conv2d(ctx, h, 'quant_conv', moments, moments, 1);
  // DiagonalGaussianDistribution.mode() = the mean half of the moments.
  const mean = g.op('Slice', [h, g.ints([0]), g.ints([zc]), g.ints([1])]);
  let latents = g.op('Mul', [mean, g.scalar(VIDEO_VAE_SCALE)]);
  const toF32 = (v: string): string => (dtype === 'float16' ? g.op('Cast', [v], { to: 1 }) : v);
  latents = toF32(latents);
  g.output(latents, 'latents', 'float32', ['frames', zc, 'h', 'w']);
  const outputs = ['latents'];
  hidden.forEach((value, i) => {
    const c = i < levels ? channels[i]! : config.ch;
    g.output(toF32(value), `hidden_${i}`, 'float32', ['frames', c, `hh${i}`, `hw${i}`]);
    outputs.push(`hidden_${i}`);
  });
  return { builder: g, weights: w, inputs: ['pixels'], outputs };
}

/** The encoder graph reads no decoder weights: set them aside so they are not reported as unexpected. */
function setAsideUnusedDecoder(config: VideoVaeConfig, source: WeightSource): ReturnType<typeof setAsideUnused> {
  const unused: Record<string, readonly number[]> = {};
  for (const [name, entry] of source.tensors) if (name.startsWith('decoder.')) unused[name] = entry.shape;
  unused['post_quant_conv.weight'] = [config.z_channels, config.z_channels, 1, 1];
  unused['post_quant_conv.bias'] = [config.z_channels];
  return setAsideUnused(source, unused);
}

function setAsideUnusedEncoder(config: VideoVaeConfig, source: WeightSource): ReturnType<typeof setAsideUnused> {
  const unused: Record<string, readonly number[]> = {};
  for (const [name, entry] of source.tensors) if (name.startsWith('encoder.') || name.startsWith('quant_conv.')) unused[name] = entry.shape;
  // Skipped on the official decode path (decode called with kwargs).
  unused['post_quant_conv.weight'] = [config.z_channels, config.z_channels, 1, 1];
  unused['post_quant_conv.bias'] = [config.z_channels];
  return setAsideUnused(source, unused);
}

interface DecoderCtx extends Ctx {
  readonly frames: number;
}

/** TimeStackBlock (skip_t_emb, kernel (3,1,1)) + learned sigmoid mix, around a 2-D VAE res block. */
function videoResBlock(ctx: DecoderCtx, x: string, prefix: string, inChannels: number, outChannels: number): string {
  const { g, w } = ctx;
  const spatial = toVideo(ctx, vaeResnet(ctx, x, prefix, inChannels, outChannels), ctx.frames, outChannels);
  const ts = `${prefix}.time_stack`;
  let h = silu(ctx, groupNorm5d(ctx, spatial, `${ts}.in_layers.0`, outChannels, 32, TIME_STACK_EPS));
  h = temporalConv(ctx, h, `${ts}.in_layers.2`, outChannels, outChannels, VIDEO_KERNEL);
  h = silu(ctx, groupNorm5d(ctx, h, `${ts}.out_layers.0`, outChannels, 32, TIME_STACK_EPS));
  h = temporalConv(ctx, h, `${ts}.out_layers.3`, outChannels, outChannels, VIDEO_KERNEL);
  h = g.op('Add', [spatial, h]);
  const alpha = g.op('Sigmoid', [w.get(`${prefix}.mix_factor`, [1])]);
  const mixed = g.op('Add', [g.op('Mul', [alpha, h]), g.op('Mul', [g.op('Sub', [g.scalar(1), alpha]), spatial])]);
  return fromVideo(ctx, mixed, outChannels);
}

/** Context [b, c, 2, h, w] -> [(b 2), c, h, w]. */
function contextFrames(ctx: Ctx, context: string, channels: number): string {
  return fromVideo(ctx, context, channels);
}

/** 1x1 conv of the two context frames, added to the first and the last frame only. */
function convCombiner(ctx: DecoderCtx, x: string, context: string, prefix: string, channels: number): string {
  const { g } = ctx;
  const T = ctx.frames;
  const c = g.op('Transpose', [toVideo(ctx, conv2d(ctx, contextFrames(ctx, context, channels), `${prefix}.conv`, channels, channels, 1), 2, channels)], {
    perm: [0, 2, 1, 3, 4],
  }); // [b, 2, c, h, w]
  const first = g.op('Slice', [c, g.ints([0]), g.ints([1]), g.ints([1])]);
  const last = g.op('Slice', [c, g.ints([1]), g.ints([2]), g.ints([1])]);
  // Zero frames in between: pad along t (pads = begins of 5 axes, then ends).
  const firstPadded = g.op('Pad', [first, g.ints([0, 0, 0, 0, 0, 0, T - 1, 0, 0, 0])]);
  const lastPadded = g.op('Pad', [last, g.ints([0, T - 1, 0, 0, 0, 0, 0, 0, 0, 0])]);
  const video = g.op('Transpose', [toVideo(ctx, x, T, channels)], { perm: [0, 2, 1, 3, 4] }); // [b, T, c, h, w]
  const sum = g.op('Add', [g.op('Add', [video, firstPadded]), lastPadded]);
  return fromVideo(ctx, g.op('Transpose', [sum], { perm: [0, 2, 1, 3, 4] }), channels);
}

/** Cross-attention from every frame's pixels to the tokens of both context frames (8 x 64 heads). */
function attentionCombiner(ctx: DecoderCtx, x: string, context: string, prefix: string, channels: number): string {
  const { g } = ctx;
  const inner = COMBINER_HEADS * COMBINER_HEAD_DIM;
  const q = linear(ctx, toTokens(ctx, groupNorm(ctx, x, `${prefix}.norm`, channels, 32, EPS)), `${prefix}.to_q`, channels, inner, false);
  // [b, c, 2, h, w] -> [b, 2*h*w, c]: tokens of frame 0 then of frame 1 ('(b l) d c -> b (l d) c').
  const tokens = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 3, 4, 1] }), g.ints([0, -1, channels])]);
  const perFrame = (t: string): string => {
    const expanded = g.op('Expand', [g.op('Unsqueeze', [t, g.ints([1])]), g.ints([1, ctx.frames, 1, 1])]);
    return g.op('Reshape', [expanded, g.op('Concat', [g.ints([-1]), g.op('Slice', [g.op('Shape', [t]), g.ints([1]), g.ints([3])])], { axis: 0 })]);
  };
  const k = perFrame(linear(ctx, tokens, `${prefix}.to_k`, channels, inner, false));
  const v = perFrame(linear(ctx, tokens, `${prefix}.to_v`, channels, inner, false));
  const out = linear(ctx, attention(ctx, q, k, v, COMBINER_HEADS, COMBINER_HEAD_DIM), `${prefix}.to_out.0`, inner, channels);
  return g.op('Add', [x, fromTokens(ctx, out, x)]);
}

/**
 * Inputs: latents float32 [b, z, frames, h, w] (the sampler's scaled latents), context_0..context_L
 * float32 [b, c_i, 2, h_i, w_i] (first/last frame hidden states, as encode_latents returns them).
 * Output: pixels float32 [b, out_ch, frames, H, W] in ~[-1, 1].
 */
export function buildVideoVaeDecoder(config: VideoVaeConfig, source: WeightSource, dtype: ComputeDtype, frames: number): BuiltGraph {
  const aside = setAsideUnusedEncoder(config, source);
  const g = new GraphBuilder(dtype);
  const w = new Weights(g, aside.source);
  w.problems.push(...aside.problems);
  const ctx: DecoderCtx = { g, w, frames };
  const channels = levelChannels(config);
  const levels = channels.length;
  const zc = config.z_channels;
  const cast16 = (v: string): string => (dtype === 'float16' ? g.op('Cast', [v], { to: 10 }) : v);

  const latents = g.input('latents', 'float32', ['batch', zc, frames, 'h', 'w']);
  const contexts: string[] = [];
  for (let i = 0; i <= levels; i++) {
    const c = i < levels ? channels[i]! : config.ch;
    contexts.push(cast16(g.input(`context_${i}`, 'float32', ['batch', c, 2, `ch${i}`, `cw${i}`])));
  }
  const z = fromVideo(ctx, g.op('Div', [cast16(latents), g.scalar(VIDEO_VAE_SCALE)]), zc);
  let blockIn = channels[levels - 1]!;
  let res = Math.floor(config.resolution / 2 ** (levels - 1));
  let h = conv2d(ctx, z, 'decoder.conv_in', zc, blockIn, 3);
  h = videoResBlock(ctx, h, 'decoder.mid.block_1', blockIn, blockIn);
  h = midAttention(ctx, h, 'decoder.mid.attn_1', blockIn);
  h = videoResBlock(ctx, h, 'decoder.mid.block_2', blockIn, blockIn);
  for (let i = levels - 1; i >= 0; i--) {
    const out = channels[i]!;
    for (let b = 0; b <= config.num_res_blocks; b++) {
      h = videoResBlock(ctx, h, `decoder.up.${i}.block.${b}`, blockIn, out);
      blockIn = out;
      if (config.attn_resolutions.includes(res)) h = midAttention(ctx, h, `decoder.up.${i}.attn.${b}`, out);
    }
    const combiner = `decoder.attn_refinement.${i}`;
    h = ATTN_LEVELS.includes(i)
      ? attentionCombiner(ctx, h, contexts[i]!, combiner, blockIn)
      : convCombiner(ctx, h, contexts[i]!, combiner, blockIn);
    if (i !== 0) {
      h = upsample(ctx, h, `decoder.up.${i}.upsample`, blockIn);
      res *= 2;
    }
  }
  h = silu(ctx, groupNorm(ctx, h, 'decoder.norm_out', blockIn, 32, EPS));
  h = convCombiner(ctx, h, contexts[levels]!, `decoder.attn_refinement.${levels}`, blockIn);
  h = conv2d(ctx, h, 'decoder.conv_out', blockIn, config.out_ch, 3);
  let video = temporalConv(ctx, toVideo(ctx, h, frames, config.out_ch), 'decoder.conv_out.time_mix_conv', config.out_ch, config.out_ch, VIDEO_KERNEL);
  if (dtype === 'float16') video = g.op('Cast', [video], { to: 1 });
  g.output(video, 'pixels', 'float32', ['batch', config.out_ch, frames, 'H', 'W']);
  return { builder: g, weights: w, inputs: ['latents', ...contexts.map((_, i) => `context_${i}`)], outputs: ['pixels'] };
}
