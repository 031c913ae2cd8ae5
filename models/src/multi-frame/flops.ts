/**
 * Floating-point operation counts of one 3D-UNet forward, from its config and the latent size. Used for
 * the CPU time estimate the backend shows before refusing a multi-hour job, and by the benchmarks as the
 * floor a GPU run is compared with. Counts multiply-adds as 2 operations; norms, activations and softmax
 * are ignored (a few percent).
 */
import type { Unet3dConfig } from './unet3d.js';

export interface UnetWorkload {
  readonly batch: number;
  readonly frames: number;
  readonly latentHeight: number;
  readonly latentWidth: number;
  readonly textTokens: number;
  readonly imageTokens: number;
}

export function unet3dFlops(config: Unet3dConfig, work: UnetWorkload): number {
  const D = config.context_dim;
  const T = work.frames;
  let total = 0;
  const conv = (cin: number, cout: number, k: number, hw: number): number => 2 * k * k * cin * cout * hw;
  const res = (cin: number, cout: number, hw: number): number =>
    conv(cin, cout, 3, hw) + conv(cout, cout, 3, hw) + (cin !== cout ? conv(cin, cout, 1, hw) : 0) + (config.temporal_conv ? 4 * 2 * 3 * cout * cout * hw : 0);
  const spatial = (c: number, n: number): number => {
    const proj = 2 * 2 * n * c * c;
    const self = 4 * 2 * n * c * c + 2 * 2 * n * n * c;
    const cross = 2 * 2 * n * c * c + 2 * 2 * (work.textTokens + work.imageTokens) * D * c + 2 * 2 * n * (work.textTokens + work.imageTokens) * c;
    const ff = 24 * n * c * c;
    return config.transformer_depth * (self + cross + ff) + proj;
  };
  const temporal = (c: number, n: number): number => {
    const perPosition = 2 * 2 * c * c + config.transformer_depth * (2 * (4 * 2 * c * c + 2 * 2 * T * c) + 24 * c * c);
    return n * perPosition;
  };
  const mc = config.model_channels;
  let hw = work.latentHeight * work.latentWidth;
  total += conv(config.in_channels, mc, 3, hw);
  if (config.addition_attention) total += temporal(8 * config.num_head_channels, hw);
  const skips: number[] = [mc];
  let ch = mc;
  let ds = 1;
  config.channel_mult.forEach((mult, level) => {
    for (let r = 0; r < config.num_res_blocks; r++) {
      total += res(ch, mult * mc, hw);
      ch = mult * mc;
      if (config.attention_resolutions.includes(ds)) total += spatial(ch, hw) + (config.temporal_attention ? temporal(ch, hw) : 0);
      skips.push(ch);
    }
    if (level !== config.channel_mult.length - 1) {
      hw /= 4;
      total += conv(ch, ch, 3, hw);
      skips.push(ch);
      ds *= 2;
    }
  });
  total += 2 * res(ch, ch, hw) + spatial(ch, hw) + (config.temporal_attention ? temporal(ch, hw) : 0);
  [...config.channel_mult.entries()].reverse().forEach(([level, mult]) => {
    for (let i = 0; i <= config.num_res_blocks; i++) {
      const skip = skips.pop() ?? ch;
      total += res(ch + skip, mult * mc, hw);
      ch = mult * mc;
      if (config.attention_resolutions.includes(ds)) total += spatial(ch, hw) + (config.temporal_attention ? temporal(ch, hw) : 0);
      if (level !== 0 && i === config.num_res_blocks) {
        hw *= 4;
        total += conv(ch, ch, 3, hw);
        ds /= 2;
      }
    }
  });
  total += conv(mc, config.out_channels, 3, hw);
  return total * T * work.batch;
}

/**
 * Sustained fp32 throughput assumed for onnxruntime's CPU kernels on a desktop CPU when estimating
 * run times: a deliberately rough figure (measured tiny-model numbers are in the benchmarks).
 */
export const ASSUMED_CPU_FLOPS = 150e9;
