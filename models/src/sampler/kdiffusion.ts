/**
 * The official single-frame sampler (diffusers_helper/k_diffusion.py): Karras sigmas from a linear beta
 * schedule, DPM-Solver++(2M), classifier-free guidance. Tables are computed with the same float64 /
 * float32 steps as the PyTorch code (Math.fround where PyTorch holds float32).
 */
import { throwIfCancelled } from '../../../engine/src/core/errors.js';

export interface BetaSchedule {
  readonly timesteps: number;
  readonly linearStart: number;
  readonly linearEnd: number;
  /** true: plain linspace of betas (PaintsUndo); false: linspace of sqrt(beta), squared (SD). */
  readonly linear: boolean;
}

/** PaintsUndo's single-frame schedule (gradio_app.py: KDiffusionSampler(..., linear_end=0.020, linear=True)). */
export const PAINTS_UNDO_SCHEDULE: BetaSchedule = { timesteps: 1000, linearStart: 0.00085, linearEnd: 0.02, linear: true };

export interface SigmaTable {
  /** sigma(t) for t = 0..timesteps-1, ascending, float32 values. */
  readonly sigmas: Float32Array;
  readonly logSigmas: Float32Array;
}

function linspace(start: number, end: number, n: number): number[] {
  // torch.linspace: start + i * step for the first half, end - (n-1-i) * step for the second half.
  const step = (end - start) / (n - 1);
  const half = Math.floor(n / 2);
  return Array.from({ length: n }, (_, i) => (i < half ? start + i * step : end - (n - 1 - i) * step));
}

export function sigmaTable(schedule: BetaSchedule = PAINTS_UNDO_SCHEDULE): SigmaTable {
  const betas = schedule.linear
    ? linspace(schedule.linearStart, schedule.linearEnd, schedule.timesteps)
    : linspace(Math.sqrt(schedule.linearStart), Math.sqrt(schedule.linearEnd), schedule.timesteps).map((b) => b * b);
  const sigmas = new Float32Array(schedule.timesteps);
  const logSigmas = new Float32Array(schedule.timesteps);
  let cumprod = 1;
  betas.forEach((beta, i) => {
    cumprod *= 1 - beta;
    const ac = Math.fround(cumprod);
    sigmas[i] = Math.sqrt(Math.fround(Math.fround(1 - ac) / ac));
    logSigmas[i] = Math.log(sigmas[i] ?? 1);
  });
  return { sigmas, logSigmas };
}

/** KModel.timestep: the index of the nearest log-sigma (first index on ties, like argmin). */
export function timestepFor(sigma: number, table: SigmaTable): number {
  const logSigma = Math.fround(Math.log(sigma));
  let best = 0;
  let bestDist = Infinity;
  for (let i = 0; i < table.logSigmas.length; i++) {
    const d = Math.abs(Math.fround(logSigma - (table.logSigmas[i] ?? 0)));
    if (d < bestDist) {
      bestDist = d;
      best = i;
    }
  }
  return best;
}

/** get_sigmas_karras(n, rho) between sigma_max = sigmas[last] and sigma_min = sigmas[0], then 0 appended. */
export function karrasSigmas(table: SigmaTable, n: number, rho = 7): Float32Array {
  const sigmaMin = table.sigmas[0] ?? 0;
  const sigmaMax = table.sigmas[table.sigmas.length - 1] ?? 0;
  const minInv = Math.fround(sigmaMin ** (1 / rho));
  const maxInv = Math.fround(sigmaMax ** (1 / rho));
  const out = new Float32Array(n + 1);
  const ramp = n === 1 ? [0] : linspace(0, 1, n).map(Math.fround);
  for (let i = 0; i < n; i++) {
    const base = Math.fround(maxInv + Math.fround((ramp[i] ?? 0) * Math.fround(minInv - maxInv)));
    out[i] = base ** rho;
  }
  out[n] = 0;
  return out;
}

/** The sigmas KDiffusionSampler walks: Karras over int(steps / strength), last steps + 1 kept. */
export function samplerSigmas(table: SigmaTable, steps: number, strength = 1): Float32Array {
  const all = karrasSigmas(table, Math.trunc(steps / strength));
  return all.slice(all.length - (steps + 1));
}

/** One DPM-Solver++(2M) update from x at sigmas[i] to sigmas[i + 1]. */
export function dpmpp2mStep(
  x: Float32Array,
  denoised: Float32Array,
  oldDenoised: Float32Array | undefined,
  sigmas: Float32Array,
  i: number,
): Float32Array {
  const sigma = sigmas[i] ?? 0;
  const sigmaNext = sigmas[i + 1] ?? 0;
  const tFn = (s: number): number => -Math.log(s);
  const t = tFn(sigma);
  const tNext = tFn(sigmaNext);
  const h = tNext - t;
  const ratio = Math.exp(-tNext) / Math.exp(-t);
  const em1 = Math.expm1(-h);
  const out = new Float32Array(x.length);
  if (oldDenoised === undefined || sigmaNext === 0) {
    for (let k = 0; k < x.length; k++) out[k] = ratio * (x[k] ?? 0) - em1 * (denoised[k] ?? 0);
    return out;
  }
  const hLast = t - tFn(sigmas[i - 1] ?? sigma);
  const r = hLast / h;
  const a = 1 + 1 / (2 * r);
  const b = 1 / (2 * r);
  for (let k = 0; k < x.length; k++) {
    const d = a * (denoised[k] ?? 0) - b * (oldDenoised[k] ?? 0);
    out[k] = ratio * (x[k] ?? 0) - em1 * d;
  }
  return out;
}

/** denoised = model(x, sigma) for one step. */
export type Denoiser = (x: Float32Array, sigma: number, step: number) => Promise<Float32Array>;

export interface SampleHooks {
  readonly signal?: AbortSignal;
  /** Called after each model evaluation (i = step index, 0-based). */
  readonly onStep?: (info: { readonly i: number; readonly total: number; readonly x: Float32Array; readonly denoised: Float32Array; readonly sigma: number }) => void;
}

/** sample_dpmpp_2m: cancellation is checked before every model evaluation. */
export async function sampleDpmpp2m(x0: Float32Array, sigmas: Float32Array, model: Denoiser, hooks: SampleHooks = {}): Promise<Float32Array> {
  let x = x0;
  let old: Float32Array | undefined;
  const total = sigmas.length - 1;
  for (let i = 0; i < total; i++) {
    throwIfCancelled(hooks.signal);
    const sigma = sigmas[i] ?? 0;
    const denoised = await model(x, sigma, i);
    hooks.onStep?.({ i, total, x, denoised, sigma });
    x = dpmpp2mStep(x, denoised, old, sigmas, i);
    old = denoised;
  }
  return x;
}

/** eps = model(x_in, t) for a batch; x_in is x / sqrt(sigma^2 + 1), context rows are [positive...; negative...]. */
export type EpsModel = (xIn: Float32Array, t: number, batch: number) => Promise<Float32Array>;

/**
 * KModel.__call__ with both guidance halves in ONE model call of batch 2B: the model sees [x; x] and
 * must pair the first B rows with the positive prompt and the last B with the negative one.
 * Returns denoised = x - (neg + cfg (pos - neg)) sigma.
 */
export function cfgDenoiser(eps: EpsModel, table: SigmaTable, cfg: number, batch: number): Denoiser {
  return async (x, sigma) => {
    const scale = Math.fround(1 / Math.sqrt(Math.fround(sigma * sigma) + 1));
    const n = x.length;
    const doubled = new Float32Array(2 * n);
    for (let k = 0; k < n; k++) doubled[k] = doubled[n + k] = (x[k] ?? 0) * scale;
    const out = await eps(doubled, timestepFor(sigma, table), 2 * batch);
    const denoised = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const pos = out[k] ?? 0;
      const neg = out[n + k] ?? 0;
      denoised[k] = (x[k] ?? 0) - (neg + cfg * (pos - neg)) * sigma;
    }
    return denoised;
  };
}

/**
 * A seedable standard-normal generator (xoshiro128** + Box-Muller). The official app draws from a CUDA
 * torch generator, whose stream cannot be reproduced on CPU; results are deterministic per seed here,
 * and tests replay the recorded noise instead.
 */
export function gaussianNoise(seed: number, count: number): Float32Array {
  let s0 = (seed ^ 0x9e3779b9) >>> 0;
  let s1 = Math.imul(seed, 0x85ebca6b) >>> 0 || 1;
  let s2 = 0x243f6a88;
  let s3 = 0xb7e15162;
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  for (let i = 0; i < 16; i++) next();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = (next() + 1) / 4294967297;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
