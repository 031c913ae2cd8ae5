/**
 * The authors' video sampler (diffusers_vdm SamplerDynamicTSNR), reimplemented on Float32Arrays:
 * v-prediction, SD scaled-linear betas 0.00085..0.012 rescaled to zero terminal SNR, uniform trailing
 * timesteps, DDIM with eta = 1 (one fresh noise draw per step, the last one included), a dynamic x0
 * rescale 1.0 -> 0.7 over t = 0..399, classifier-free guidance followed by guidance rescale 0.7.
 *
 * Arithmetic follows the official float32 graph op by op (every intermediate rounded with Math.fround,
 * or to float16 for the half-precision emulation), so a teacher-forced step reproduces the reference.
 */
import { throwIfCancelled, invalidOption } from '../../../engine/src/core/errors.js';
import { rounder, type Precision } from './float16.js';

export const TRAIN_TIMESTEPS = 1000;
export const LINEAR_START = 0.00085;
export const LINEAR_END = 0.012;
/** Timesteps below this see a linearly decreasing x0 scale; from here on it stays at TERMINAL_SCALE. */
export const TURNING_STEP = 400;
export const TERMINAL_SCALE = 0.7;
export const GUIDANCE_RESCALE = 0.7;

/** The float32 buffers of the official sampler (float64 maths, then cast, exactly like `to_torch`). */
export interface DynamicTsnrTables {
  readonly alphasCumprod: Float32Array;
  readonly sqrtAlphasCumprod: Float32Array;
  readonly sqrtOneMinusAlphasCumprod: Float32Array;
  readonly scaleArr: Float32Array;
}

/** numpy.linspace(start, stop, num) in float64: start + i*step, the last entry pinned to stop. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

function cumprod(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  let acc = 1;
  for (let i = 0; i < values.length; i++) {
    acc *= values[i]!;
    out[i] = acc;
  }
  return out;
}

/** Lin et al. 2023: shift sqrt(alphas_cumprod) so the last is 0, rescale so the first is unchanged. */
function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const n = betas.length;
  const alphas = betas.map((b) => 1 - b);
  const barSqrt = cumprod(alphas).map(Math.sqrt);
  const first = barSqrt[0]!;
  const last = barSqrt[n - 1]!;
  for (let i = 0; i < n; i++) barSqrt[i] = barSqrt[i]! - last;
  const factor = first / (first - last);
  for (let i = 0; i < n; i++) barSqrt[i] = barSqrt[i]! * factor;
  const bar = barSqrt.map((v) => v * v);
  const out = new Float64Array(n);
  out[0] = 1 - bar[0]!;
  for (let i = 1; i < n; i++) out[i] = 1 - bar[i]! / bar[i - 1]!;
  return out;
}

let cachedTables: DynamicTsnrTables | undefined;

export function dynamicTsnrTables(): DynamicTsnrTables {
  if (cachedTables !== undefined) return cachedTables;
  const betas = linspace(LINEAR_START ** 0.5, LINEAR_END ** 0.5, TRAIN_TIMESTEPS).map((v) => v * v);
  const alphasCumprod = cumprod(rescaleZeroTerminalSnr(betas).map((b) => 1 - b));
  const scale = new Float64Array(TRAIN_TIMESTEPS).fill(TERMINAL_SCALE);
  scale.set(linspace(1.0, TERMINAL_SCALE, TURNING_STEP), 0);
  cachedTables = {
    alphasCumprod: Float32Array.from(alphasCumprod),
    sqrtAlphasCumprod: Float32Array.from(alphasCumprod, Math.sqrt),
    sqrtOneMinusAlphasCumprod: Float32Array.from(alphasCumprod, (a) => Math.sqrt(1 - a)),
    scaleArr: Float32Array.from(scale),
  };
  return cachedTables;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `flip(round(arange(1000, 0, -1000/steps))) - 1`, ascending: steps=3 -> [332, 666, 999].
 * numpy's round is half-to-even (steps=16 gives 937.5 -> 938).
 */
export function uniformTrailingTimesteps(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > TRAIN_TIMESTEPS) {
    throw invalidOption('steps', `an integer from 1 to ${TRAIN_TIMESTEPS}`, steps);
  }
  const c = TRAIN_TIMESTEPS / steps;
  const length = Math.ceil(TRAIN_TIMESTEPS / c);
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(roundHalfEven(TRAIN_TIMESTEPS + i * -c) - 1);
  return out.reverse();
}

/** Per-index coefficients of the DDIM loop; index 0 is the lowest timestep (the loop runs index = n-1 .. 0). */
export interface SamplerSchedule {
  readonly timesteps: readonly number[];
  readonly timestepsPrev: readonly number[];
  readonly alphas: readonly number[];
  readonly alphasPrev: readonly number[];
  /** eta = 1 DDIM sigmas, computed in float32 as the official code does. */
  readonly sigmas: readonly number[];
}

export function samplerSchedule(steps: number): SamplerSchedule {
  const { alphasCumprod } = dynamicTsnrTables();
  const f = Math.fround;
  const timesteps = uniformTrailingTimesteps(steps);
  const timestepsPrev = [0, ...timesteps.slice(0, -1)];
  const alphas = timesteps.map((t) => alphasCumprod[t]!);
  const alphasPrev = timestepsPrev.map((t) => alphasCumprod[t]!);
  const sigmas = alphas.map((a, i) => {
    const ap = alphasPrev[i]!;
    return f(Math.sqrt(f(f(f(1 - ap) / f(1 - a)) * f(1 - f(a / ap)))));
  });
  return { timesteps, timestepsPrev, alphas, alphasPrev, sigmas };
}

/**
 * sqrt(1 - a_prev - sigma^2), the DDIM direction coefficient, as the tensor arithmetic of the given
 * precision computes it. At the first (t = 999) step a = 0, so sigma^2 = 1 - a_prev and the argument is
 * exactly 0 in exact arithmetic; rounding can make it slightly negative and the official sampler then
 * produces NaN (float32: 6, 11, 14, 15, 20, 23, 25 steps). `clamp: false` reproduces that behaviour.
 */
export function directionCoefficient(alphaPrev: number, sigma: number, precision: Precision, clamp = true): number {
  const r = rounder(precision);
  const ap = r(alphaPrev);
  const s = r(sigma);
  const arg = r(r(1 - ap) - r(s * s));
  return r(Math.sqrt(clamp ? Math.max(0, arg) : arg));
}

/**
 * Classifier-free guidance followed by `rescale_noise_cfg`: o = neg + cfg*(pos - neg), then
 * o = r*o*std(pos)/std(o) + (1-r)*o with per-sample unbiased (N-1) standard deviations.
 * `positive`/`negative` hold `batch` samples each, back to back.
 */
export function guidedModelOutput(
  positive: Float32Array,
  negative: Float32Array,
  batch: number,
  cfgScale: number,
  guidanceRescale = GUIDANCE_RESCALE,
): Float32Array {
  if (positive.length !== negative.length || positive.length % batch !== 0) {
    throw new RangeError(`guidance inputs disagree: ${positive.length} vs ${negative.length} values for batch ${batch}`);
  }
  const f = Math.fround;
  const out = new Float32Array(positive.length);
  const per = positive.length / batch;
  for (let i = 0; i < positive.length; i++) {
    const n = negative[i]!;
    out[i] = f(n + f(cfgScale * f(positive[i]! - n)));
  }
  for (let b = 0; b < batch; b++) {
    const start = b * per;
    const ratio = f(std(positive, start, per) / std(out, start, per));
    for (let i = start; i < start + per; i++) {
      const o = out[i]!;
      out[i] = f(f(guidanceRescale * f(o * ratio)) + f((1 - guidanceRescale) * o));
    }
  }
  return out;
}

/** Unbiased standard deviation, accumulated in float64 (torch reduces float32 with a wider accumulator). */
function std(values: Float32Array, start: number, length: number): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += values[i]!;
  const mean = sum / length;
  let sq = 0;
  for (let i = start; i < start + length; i++) {
    const d = values[i]! - mean;
    sq += d * d;
  }
  return Math.fround(Math.sqrt(sq / (length - 1)));
}

/**
 * One DDIM update x_t -> x_{t_prev} for schedule index `index`, given the guided v-prediction and this
 * step's standard-normal noise. Returns a new array.
 */
export function ddimStep(
  schedule: SamplerSchedule,
  index: number,
  x: Float32Array,
  v: Float32Array,
  noise: Float32Array,
  precision: Precision = 'float32',
): Float32Array {
  const t = schedule.timesteps[index];
  const tPrev = schedule.timestepsPrev[index];
  if (t === undefined || tPrev === undefined) throw new RangeError(`schedule index ${index} out of range`);
  if (v.length !== x.length || noise.length !== x.length) {
    throw new RangeError(`ddimStep: x has ${x.length} values, model output ${v.length}, noise ${noise.length}`);
  }
  const r = rounder(precision);
  const tables = dynamicTsnrTables();
  const sac = r(tables.sqrtAlphasCumprod[t]!);
  const s1m = r(tables.sqrtOneMinusAlphasCumprod[t]!);
  const aPrev = r(schedule.alphasPrev[index]!);
  const sigma = r(schedule.sigmas[index]!);
  const rescale = r(r(tables.scaleArr[tPrev]!) / r(tables.scaleArr[t]!));
  const dirCoef = directionCoefficient(aPrev, sigma, precision);
  const sqrtAPrev = r(Math.sqrt(aPrev));
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const vi = v[i]!;
    const eps = r(r(sac * vi) + r(s1m * xi));
    const x0 = r(r(r(sac * xi) - r(s1m * vi)) * rescale);
    out[i] = r(r(r(sqrtAPrev * x0) + r(dirCoef * eps)) + r(sigma * noise[i]!));
  }
  return out;
}

export interface SampleOptions {
  /** Number of values of one latent (b*c*t*h*w). */
  readonly size: number;
  readonly steps: number;
  /** The guided v-prediction at (x, t); see guidedModelOutput. */
  readonly model: (x: Float32Array, t: number) => Promise<Float32Array>;
  /** Fresh standard-normal values: called once for x_T, then once per step. */
  readonly noise: (size: number) => Float32Array;
  readonly signal?: AbortSignal;
  /** Called after each completed step (1-based count). */
  readonly onStep?: (done: number, total: number) => void;
  readonly precision?: Precision;
}

export async function sampleDynamicTsnr(options: SampleOptions): Promise<Float32Array> {
  const schedule = samplerSchedule(options.steps);
  const total = schedule.timesteps.length;
  let x = options.noise(options.size);
  for (let i = 0; i < total; i++) {
    throwIfCancelled(options.signal);
    const index = total - 1 - i;
    const v = await options.model(x, schedule.timesteps[index]!);
    x = ddimStep(schedule, index, x, v, options.noise(options.size), options.precision);
    options.onStep?.(i + 1, total);
  }
  return x;
}
