/**
 * diffusers building blocks shared by the VAE and the UNet: ResnetBlock2D, the spatial self-attention
 * of the VAE mid block, down/up samplers and Transformer2DModel (SD1.x: conv proj_in/proj_out).
 */
import { attention, conv2d, gelu, groupNorm, layerNorm, linear, silu } from './nn.js';
import type { Ctx } from './nn.js';

export interface ResnetOptions {
  readonly groups: number;
  readonly eps: number;
  /** Time-embedding value [B, temb] (already computed) and its width. */
  readonly temb?: { readonly value: string; readonly channels: number };
}

/** ResnetBlock2D (time_embedding_norm "default", output_scale_factor 1). */
export function resnet(ctx: Ctx, x: string, prefix: string, inChannels: number, outChannels: number, options: ResnetOptions): string {
  const { g } = ctx;
  let h = silu(ctx, groupNorm(ctx, x, `${prefix}.norm1`, inChannels, options.groups, options.eps));
  h = conv2d(ctx, h, `${prefix}.conv1`, inChannels, outChannels, 3);
  if (options.temb !== undefined) {
    const t = linear(ctx, silu(ctx, options.temb.value), `${prefix}.time_emb_proj`, options.temb.channels, outChannels);
    h = g.op('Add', [h, g.op('Unsqueeze', [t, g.ints([2, 3])])]);
  }
  h = silu(ctx, groupNorm(ctx, h, `${prefix}.norm2`, outChannels, options.groups, options.eps));
  h = conv2d(ctx, h, `${prefix}.conv2`, outChannels, outChannels, 3);
  const shortcut = inChannels === outChannels ? x : conv2d(ctx, x, `${prefix}.conv_shortcut`, inChannels, outChannels, 1);
  return g.op('Add', [shortcut, h]);
}

/** NCHW -> [B, HW, C]. */
export function toTokens(ctx: Ctx, x: string): string {
  return ctx.g.op('Transpose', [ctx.g.op('Reshape', [x, ctx.g.ints([0, 0, -1])])], { perm: [0, 2, 1] });
}

/** [B, HW, C] -> NCHW with the shape of `like`. */
export function fromTokens(ctx: Ctx, tokens: string, like: string): string {
  return ctx.g.op('Reshape', [ctx.g.op('Transpose', [tokens], { perm: [0, 2, 1] }), ctx.g.op('Shape', [like])]);
}

/** The VAE mid-block attention: one head over all pixels, biased projections, residual. */
export function spatialSelfAttention(ctx: Ctx, x: string, prefix: string, channels: number, groups: number, eps: number, heads = 1): string {
  const { g } = ctx;
  const tokens = toTokens(ctx, groupNorm(ctx, x, `${prefix}.group_norm`, channels, groups, eps));
  const q = linear(ctx, tokens, `${prefix}.to_q`, channels, channels);
  const k = linear(ctx, tokens, `${prefix}.to_k`, channels, channels);
  const v = linear(ctx, tokens, `${prefix}.to_v`, channels, channels);
  const out = linear(ctx, attention(ctx, q, k, v, heads, channels / heads), `${prefix}.to_out.0`, channels, channels);
  return g.op('Add', [fromTokens(ctx, out, x), x]);
}

/** Stride-2 3x3 conv. `asymmetricPad` = the VAE's pad (0, 1, 0, 1) then no padding; else padding 1. */
export function downsample(ctx: Ctx, x: string, prefix: string, channels: number, asymmetricPad: boolean): string {
  if (!asymmetricPad) return conv2d(ctx, x, `${prefix}.conv`, channels, channels, 3, { stride: 2, pad: 1 });
  const padded = ctx.g.op('Pad', [x, ctx.g.ints([0, 0, 0, 0, 0, 0, 1, 1])]);
  return conv2d(ctx, padded, `${prefix}.conv`, channels, channels, 3, { stride: 2, pad: 0 });
}

/** Nearest-neighbour upsampling (x2, or to the spatial size of `sizeLike`) then a 3x3 conv. */
export function upsample(ctx: Ctx, x: string, prefix: string, channels: number, sizeLike?: string): string {
  const { g } = ctx;
  let up: string;
  if (sizeLike === undefined) {
    up = g.op('Resize', [x, '', g.constant('float32', [1, 1, 2, 2], [4])], {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  } else {
    const sizes = g.op('Concat', [
      g.op('Slice', [g.op('Shape', [x]), g.ints([0]), g.ints([2])]),
      g.op('Slice', [g.op('Shape', [sizeLike]), g.ints([2]), g.ints([4])]),
    ], { axis: 0 });
    up = g.op('Resize', [x, '', '', sizes], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  }
  return conv2d(ctx, up, `${prefix}.conv`, channels, channels, 3);
}

export interface TransformerOptions {
  readonly heads: number;
  readonly groups: number;
  readonly crossDim: number;
  /** Transformer layers in this Transformer2DModel. */
  readonly layers: number;
}

/** Transformer2DModel with conv proj_in/proj_out (use_linear_projection false), BasicTransformerBlock with GEGLU. */
export function transformer2d(ctx: Ctx, x: string, prefix: string, channels: number, context: string, options: TransformerOptions): string {
  const { g } = ctx;
  const headDim = channels / options.heads;
  let h = groupNorm(ctx, x, `${prefix}.norm`, channels, options.groups, 1e-6);
  h = conv2d(ctx, h, `${prefix}.proj_in`, channels, channels, 1);
  let t = toTokens(ctx, h);
  for (let i = 0; i < options.layers; i++) {
    const p = `${prefix}.transformer_blocks.${i}`;
    const n1 = layerNorm(ctx, t, `${p}.norm1`, channels, 1e-5);
    const self = attention(
      ctx,
      linear(ctx, n1, `${p}.attn1.to_q`, channels, channels, false),
      linear(ctx, n1, `${p}.attn1.to_k`, channels, channels, false),
      linear(ctx, n1, `${p}.attn1.to_v`, channels, channels, false),
      options.heads,
      headDim,
    );
    t = g.op('Add', [linear(ctx, self, `${p}.attn1.to_out.0`, channels, channels), t]);
    const n2 = layerNorm(ctx, t, `${p}.norm2`, channels, 1e-5);
    const cross = attention(
      ctx,
      linear(ctx, n2, `${p}.attn2.to_q`, channels, channels, false),
      linear(ctx, context, `${p}.attn2.to_k`, options.crossDim, channels, false),
      linear(ctx, context, `${p}.attn2.to_v`, options.crossDim, channels, false),
      options.heads,
      headDim,
    );
    t = g.op('Add', [linear(ctx, cross, `${p}.attn2.to_out.0`, channels, channels), t]);
    const n3 = layerNorm(ctx, t, `${p}.norm3`, channels, 1e-5);
    const inner = channels * 4;
    const proj = linear(ctx, n3, `${p}.ff.net.0.proj`, channels, inner * 2);
    const value = g.op('Slice', [proj, g.ints([0]), g.ints([inner]), g.ints([-1])]);
    const gate = g.op('Slice', [proj, g.ints([inner]), g.ints([inner * 2]), g.ints([-1])]);
    const ff = linear(ctx, g.op('Mul', [value, gelu(ctx, gate)]), `${p}.ff.net.2`, inner, channels);
    t = g.op('Add', [ff, t]);
  }
  h = conv2d(ctx, fromTokens(ctx, t, x), `${prefix}.proj_out`, channels, channels, 1);
  return g.op('Add', [h, x]);
}
