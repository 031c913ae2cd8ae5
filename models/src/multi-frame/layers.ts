/**
 * Video layers shared by the temporal VAE and the 3D UNet. Frames are folded into the batch
 * ("(b t) c h w") as in the official code; `frames` (t) is fixed when the graph is built.
 */
import { conv2d, groupNorm, silu } from '../graph/nn.js';
import type { Ctx } from '../graph/nn.js';

/** [(b t), c, h, w] -> [b, c, t, h, w]. */
export function toVideo(ctx: Ctx, x: string, frames: number, channels: number): string {
  const { g } = ctx;
  const hw = g.op('Slice', [g.op('Shape', [x]), g.ints([2]), g.ints([4])]);
  const shape = g.op('Concat', [g.ints([-1, frames, channels]), hw], { axis: 0 });
  return g.op('Transpose', [g.op('Reshape', [x, shape])], { perm: [0, 2, 1, 3, 4] });
}

/** [b, c, t, h, w] -> [(b t), c, h, w]. */
export function fromVideo(ctx: Ctx, x: string, channels: number): string {
  const { g } = ctx;
  const t = g.op('Transpose', [x], { perm: [0, 2, 1, 3, 4] });
  const hw = g.op('Slice', [g.op('Shape', [t]), g.ints([3]), g.ints([5])]);
  return g.op('Reshape', [t, g.op('Concat', [g.ints([-1, channels]), hw], { axis: 0 })]);
}

/**
 * torch GroupNorm on a [b, c, t, h, w] tensor: the core helper normalises any rank, but broadcasts its
 * affine parameters as [C, 1, 1]; here they are [C, 1, 1, 1].
 */
export function groupNorm5d(ctx: Ctx, x: string, prefix: string, channels: number, groups: number, eps: number): string {
  const { g } = ctx;
  // As [b, c, t*h*w, 1] the core helper's [C, 1, 1] affine broadcast is right; statistics are unchanged.
  const flat = g.op('Reshape', [x, g.ints([0, 0, -1, 1])]);
  return g.op('Reshape', [groupNorm(ctx, flat, prefix, channels, groups, eps), g.op('Shape', [x])]);
}

/** Conv3d with kernel (k, 1, 1) and padding (k//2, 0, 0) over [b, c, t, h, w]. */
export function temporalConv(ctx: Ctx, x: string, prefix: string, inChannels: number, outChannels: number, kernel: number): string {
  const { g, w } = ctx;
  const pad = Math.floor(kernel / 2);
  return g.op('Conv', [x, w.get(`${prefix}.weight`, [outChannels, inChannels, kernel, 1, 1]), w.get(`${prefix}.bias`, [outChannels])], {
    kernel_shape: [kernel, 1, 1],
    pads: [pad, 0, 0, pad, 0, 0],
  });
}

/**
 * The ToonCrafter VAE ResnetBlock (no time embedding): norm1 -> SiLU -> conv1 -> norm2 -> SiLU -> conv2,
 * plus a 1x1 `nin_shortcut` when the width changes. GroupNorm eps 1e-6.
 */
export function vaeResnet(ctx: Ctx, x: string, prefix: string, inChannels: number, outChannels: number): string {
  const { g } = ctx;
  let h = silu(ctx, groupNorm(ctx, x, `${prefix}.norm1`, inChannels, 32, 1e-6));
  h = conv2d(ctx, h, `${prefix}.conv1`, inChannels, outChannels, 3);
  h = silu(ctx, groupNorm(ctx, h, `${prefix}.norm2`, outChannels, 32, 1e-6));
  h = conv2d(ctx, h, `${prefix}.conv2`, outChannels, outChannels, 3);
  const shortcut = inChannels === outChannels ? x : conv2d(ctx, x, `${prefix}.nin_shortcut`, inChannels, outChannels, 1);
  return g.op('Add', [shortcut, h]);
}
