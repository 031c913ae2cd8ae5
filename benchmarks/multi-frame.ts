/**
 * Multi-frame model benchmarks: one guided sampler step of the 3D UNet (positive and negative in one
 * batch of 2, 16 frames) through the same loader and runtime worker as the backend.
 * - models.tiny-unet3d-step.cpu: the tiny golden 3D UNet at the golden sampler's latent size (64x128 px);
 * - on a machine with the onnxruntime CUDA provider: the full-size structure (random float16 weights from
 *   the golden key list) at 320x512 x 16 frames, against its FLOP count, and the 16-frame VAE decode.
 * Runs standalone (`node --import tsx benchmarks/multi-frame.ts`) or from `npm run bench models`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Unet3d, VideoVae } from '../models/src/multi-frame/components.js';
import { unet3dFlops } from '../models/src/multi-frame/flops.js';
import { GaussianNoise } from '../models/src/multi-frame/noise.js';
import { Unet3dConfigSchema } from '../models/src/multi-frame/unet3d.js';
import { OrtRuntime, cudaLibraryInstalled } from '../models/src/runtime/onnxruntime.js';
import type { Device } from '../models/src/runtime/onnxruntime.js';
import { randomComponent } from './models.js';
import type { ModelBenchmarkResult } from './models.js';
import { goldenDir } from './paths.js';

function stats(times: number[]): { median: number; min: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN };
}

/** Median/min ms of one guided step (batch 2) of the 3D UNet in `folder` at a pixel size. */
async function timeUnet3dStep(folder: string, device: Device, runs: number, width: number, height: number): Promise<{ times: number[]; flops: number }> {
  const runtime = OrtRuntime.start();
  try {
    const unet = await Unet3d.load(runtime, folder, device);
    const config = unet.config;
    const frames = config.temporal_length;
    const [lh, lw] = [height / 8, width / 8];
    const noise = new GaussianNoise(1);
    const zc = config.out_channels;
    const imageTokens = 16;
    const inputs = {
      x: { data: noise.sample(2 * zc * frames * lh * lw), dims: [2, zc, frames, lh, lw] as [number, number, number, number, number] },
      timesteps: [999, 999],
      text: noise.sample(2 * 77 * config.context_dim),
      textTokens: 77,
      image: noise.sample(2 * frames * imageTokens * config.context_dim),
      imageTokens,
      concat: noise.sample(2 * (config.in_channels - zc) * frames * lh * lw),
      fs: [3, 3],
    };
    await unet.run(inputs); // warm-up: first run allocates
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await unet.run(inputs);
      times.push(performance.now() - t0);
    }
    await unet.release();
    const flops = unet3dFlops(config, { batch: 2, frames, latentHeight: lh, latentWidth: lw, textTokens: 77, imageTokens });
    return { times, flops };
  } finally {
    await runtime.dispose();
  }
}

export async function benchTinyUnet3dStep(runs = 5): Promise<ModelBenchmarkResult> {
  const { times, flops } = await timeUnet3dStep(join(goldenDir, 'mf_unet'), 'cpu', runs, 128, 64);
  const s = stats(times);
  return {
    name: 'models.tiny-unet3d-step.cpu',
    unit: 'ms',
    ...s,
    runs,
    details: { batch: 2, frames: 16, pixels: '128x64', dtype: 'float32', device: 'cpu', gflop: flops / 1e9, gflopPerSecond: flops / 1e9 / (s.median / 1000) },
  };
}

/** The full-size 3D UNet structure (inferred config of the golden key list) with random float16 weights. */
export async function benchFullUnet3dStep(device: Device = 'cuda', runs = 5, width = 512, height = 320): Promise<ModelBenchmarkResult> {
  const component = randomComponent('mf_unet', 'model.safetensors');
  try {
    const { times, flops } = await timeUnet3dStep(component.folder, device, runs, width, height);
    const s = stats(times);
    return {
      name: `models.full-unet3d-step.${device}`,
      unit: 'ms',
      ...s,
      runs,
      details: { batch: 2, frames: 16, pixels: `${width}x${height}`, dtype: device === 'cuda' ? 'float16' : 'float32', tflop: flops / 1e12, achievedTflops: flops / 1e12 / (s.median / 1000) },
    };
  } finally {
    component.dispose();
  }
}

export async function benchFullVideoDecode(device: Device = 'cuda', runs = 3, width = 512, height = 320): Promise<ModelBenchmarkResult> {
  const component = randomComponent('mf_vae', 'model.safetensors');
  const runtime = OrtRuntime.start();
  try {
    const vae = await VideoVae.load(runtime, component.folder, device);
    const noise = new GaussianNoise(2);
    const [lh, lw] = [height / 8, width / 8];
    const ch = vae.config.ch;
    const levels = vae.config.ch_mult.map((m, i) => ({ c: ch * m, h: height / 2 ** i, w: width / 2 ** i }));
    const hidden = [...levels, { c: ch, h: height, w: width }].map(({ c, h, w }) => ({ data: noise.sample(c * 2 * h * w), dims: [1, c, 2, h, w] as [number, number, number, number, number] }));
    const latents = { data: noise.sample(4 * 16 * lh * lw), dims: [1, 4, 16, lh, lw] as [number, number, number, number, number] };
    await vae.decode(latents, hidden);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await vae.decode(latents, hidden);
      times.push(performance.now() - t0);
    }
    await vae.release();
    return { name: `models.full-video-decode.${device}`, unit: 'ms', ...stats(times), runs, details: { frames: 16, pixels: `${width}x${height}`, device } };
  } finally {
    await runtime.dispose();
    component.dispose();
  }
}

/** The FLOP count of the real (inferred) 3D UNet forward, for the README's floor. */
export function fullUnet3dFlops(width = 512, height = 320, batch = 2): number {
  const config = Unet3dConfigSchema.parse((JSON.parse(readFileSync(join(goldenDir, 'keys', 'mf_unet.json'), 'utf8')) as { config: unknown }).config);
  return unet3dFlops(config, { batch, frames: config.temporal_length, latentHeight: height / 8, latentWidth: width / 8, textTokens: 77, imageTokens: 16 });
}

export const multiFrameBenchmarks: readonly { readonly name: string; readonly run: () => Promise<ModelBenchmarkResult> }[] = [
  { name: 'models.tiny-unet3d-step.cpu', run: () => benchTinyUnet3dStep() },
  ...(cudaLibraryInstalled()
    ? [
        { name: 'models.full-unet3d-step.cuda', run: () => benchFullUnet3dStep() },
        { name: 'models.full-video-decode.cuda', run: () => benchFullVideoDecode() },
      ]
    : []),
];

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await benchTinyUnet3dStep())}\n`);
  process.stdout.write(`${JSON.stringify({ fullUnet3dTflopPerGuidedStep: fullUnet3dFlops() / 1e12 })}\n`);
  if (process.argv.includes('--full')) {
    const device: Device = cudaLibraryInstalled() ? 'cuda' : 'cpu';
    process.stdout.write(`${JSON.stringify(await benchFullUnet3dStep(device, device === 'cuda' ? 5 : 1))}\n`);
    process.stdout.write(`${JSON.stringify(await benchFullVideoDecode(device, 1))}\n`);
  }
}
