/**
 * Layer helpers shared by the component builders (CLIP text, VAE, UNet). Tensors are NCHW for
 * convolutions and [batch, tokens, channels] for transformers, as in PyTorch. In float16 graphs the
 * numerically sensitive parts (normalisation statistics, softmax) run in float32.
 */
import type { GraphBuilder } from './builder.js';
import type { Weights } from './weights.js';

export interface Ctx {
  readonly g: GraphBuilder;
  readonly w: Weights;
  /**
   * Unmasked attention as onnxruntime's com.microsoft.MultiHeadAttention: flash / memory-efficient kernels
   * on CUDA (no batch x heads x L x L score tensor in memory); it also has a CPU kernel, so the fused
   * graphs are tested on CPU against the golden outputs.
   */
  readonly fusedAttention?: boolean;
}

const FLOAT = 1;
const FLOAT16 = 10;

function toFloat32(ctx: Ctx, x: string): string {
  return ctx.g.dtype === 'float16' ? ctx.g.op('Cast', [x], { to: FLOAT }) : x;
}

function fromFloat32(ctx: Ctx, x: string): string {
  return ctx.g.dtype === 'float16' ? ctx.g.op('Cast', [x], { to: FLOAT16 }) : x;
}

/** PyTorch nn.Linear on the last axis: y = x W^T + b, as Gemm(transB) on a 2-D view (no transposed weight copy). */
export function linear(ctx: Ctx, x: string, prefix: string, inFeatures: number, outFeatures: number, bias = true): string {
  const { g, w } = ctx;
  const weight = w.get(`${prefix}.weight`, [outFeatures, inFeatures]);
  const inputs = [g.op('Reshape', [x, g.ints([-1, inFeatures])]), weight];
  if (bias) inputs.push(w.get(`${prefix}.bias`, [outFeatures]));
  const y = g.op('Gemm', inputs, { transB: 1 });
  const lead = g.op('Slice', [g.op('Shape', [x]), g.ints([0]), g.ints([-1])]);
  return g.op('Reshape', [y, g.op('Concat', [lead, g.ints([outFeatures])], { axis: 0 })]);
}

export function conv2d(
  ctx: Ctx,
  x: string,
  prefix: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  options: { stride?: number; pad?: number } = {},
): string {
  const { g, w } = ctx;
  const stride = options.stride ?? 1;
  const pad = options.pad ?? Math.floor(kernel / 2);
  const weight = w.get(`${prefix}.weight`, [outChannels, inChannels, kernel, kernel]);
  const bias = w.get(`${prefix}.bias`, [outChannels]);
  return g.op('Conv', [x, weight, bias], {
    kernel_shape: [kernel, kernel],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
  });
}

/** torch GroupNorm over NCHW (any rank >= 3): statistics per (sample, group) in float32. */
export function groupNorm(ctx: Ctx, x: string, prefix: string, channels: number, groups: number, eps: number): string {
  const { g, w } = ctx;
  const gamma = g.op('Reshape', [w.get(`${prefix}.weight`, [channels]), g.ints([channels, 1, 1])]);
  const beta = g.op('Reshape', [w.get(`${prefix}.bias`, [channels]), g.ints([channels, 1, 1])]);
  const grouped = g.op('Reshape', [toFloat32(ctx, x), g.ints([0, groups, -1])]);
  const ones = g.constant('float32', new Array<number>(groups).fill(1), [groups]);
  const zeros = g.constant('float32', new Array<number>(groups).fill(0), [groups]);
  const normed = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: { float: eps } });
  const back = fromFloat32(ctx, g.op('Reshape', [normed, g.op('Shape', [x])]));
  return g.op('Add', [g.op('Mul', [back, gamma]), beta]);
}

export function layerNorm(ctx: Ctx, x: string, prefix: string, channels: number, eps: number): string {
  const { g, w } = ctx;
  const gamma = w.get(`${prefix}.weight`, [channels]);
  const beta = w.get(`${prefix}.bias`, [channels]);
  if (g.dtype === 'float16') {
    const y = g.op('LayerNormalization', [toFloat32(ctx, x), g.op('Cast', [gamma], { to: FLOAT }), g.op('Cast', [beta], { to: FLOAT })], {
      axis: -1,
      epsilon: { float: eps },
    });
    return fromFloat32(ctx, y);
  }
  return g.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: eps } });
}

export function silu(ctx: Ctx, x: string): string {
  return ctx.g.op('Mul', [x, ctx.g.op('Sigmoid', [x])]);
}

/** Exact (erf) GELU: 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(ctx: Ctx, x: string): string {
  const { g } = ctx;
  const erf = g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [erf, g.scalar(1)])]);
}

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu(ctx: Ctx, x: string): string {
  const { g } = ctx;
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)])])]);
}

/**
 * Multi-head scaled dot-product attention on [B, L, C] inputs already projected. `mask` (optional) is
 * added to the float32 scores ([Lq, Lk], broadcast). Softmax always runs in float32.
 */
export function attention(ctx: Ctx, q: string, k: string, v: string, heads: number, headDim: number, mask?: string): string {
  const { g } = ctx;
  if (ctx.fusedAttention === true && mask === undefined) {
    return g.opInDomain('com.microsoft', 1, 'MultiHeadAttention', [q, k, v], { num_heads: heads, scale: { float: 1 / Math.sqrt(headDim) } });
  }
  const split = (t: string): string => g.op('Transpose', [g.op('Reshape', [t, g.ints([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
  const qh = split(q);
  const kt = g.op('Transpose', [g.op('Reshape', [k, g.ints([0, 0, heads, headDim])])], { perm: [0, 2, 3, 1] });
  const vh = split(v);
  let scores = toFloat32(ctx, g.op('MatMul', [qh, kt]));
  scores = g.op('Mul', [scores, g.constant('float32', [1 / Math.sqrt(headDim)], [])]);
  if (mask !== undefined) scores = g.op('Add', [scores, mask]);
  const probs = fromFloat32(ctx, g.op('Softmax', [scores], { axis: -1 }));
  const out = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [out, g.ints([0, 0, heads * headDim])]);
}

/**
 * diffusers `Timesteps`/`get_timestep_embedding` for int64 timesteps [B]: frequencies
 * exp(-ln(10000) * i / (half - shift)) computed in float32 like PyTorch; [cos, sin] when flipped.
 * Output in the compute dtype.
 */
export function timestepEmbedding(ctx: Ctx, t: string, dim: number, flipSinToCos: boolean, shift: number): string {
  const { g } = ctx;
  const half = Math.floor(dim / 2);
  const freqs: number[] = [];
  const lnMax = Math.fround(-Math.log(10000));
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround(Math.fround(lnMax * i) / Math.fround(half - shift));
    freqs.push(Math.fround(Math.exp(exponent)));
  }
  const tf = g.op('Unsqueeze', [g.op('Cast', [t], { to: FLOAT }), g.ints([1])]);
  const args = g.op('Mul', [tf, g.constant('float32', freqs, [1, half])]);
  const sin = g.op('Sin', [args]);
  const cos = g.op('Cos', [args]);
  let emb = g.op('Concat', flipSinToCos ? [cos, sin] : [sin, cos], { axis: 1 });
  if (dim % 2 === 1) emb = g.op('Pad', [emb, g.ints([0, 0, 0, 1])]);
  return fromFloat32(ctx, emb);
}

export { toFloat32, fromFloat32 };
