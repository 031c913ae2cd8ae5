/**
 * Model benchmarks: one UNet step (both CFG halves in one batch) of the tiny single-frame model on CPU,
 * through the same loader and runtime worker as the backend. Runs standalone
 * (`node --import tsx benchmarks/models.ts`) or from the benchmark runner via `modelBenchmarks`.
 * Timings go here, never into unit tests.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { Unet, Vae } from '../models/src/components.js';
import { toHalf } from '../models/src/graph/builder.js';
import { OrtRuntime, cudaLibraryInstalled } from '../models/src/runtime/onnxruntime.js';
import type { Device } from '../models/src/runtime/onnxruntime.js';
import { gaussianNoise } from '../models/src/sampler/kdiffusion.js';
import { goldenDir } from './paths.js';

export interface ModelBenchmarkResult {
  readonly name: string;
  readonly unit: 'ms';
  readonly median: number;
  readonly min: number;
  readonly runs: number;
  readonly details: Record<string, unknown>;
}

/** UNet step time of the tiny golden single-frame UNet on CPU (float32). */
export async function benchTinyUnetStep(options: { runs?: number; batch?: number; width?: number; height?: number } = {}): Promise<ModelBenchmarkResult> {
  const runs = options.runs ?? 10;
  // Two operation steps x two guidance halves, at the golden sampler's latent size (128x64 pixels).
  const batch = options.batch ?? 4;
  const lw = (options.width ?? 128) / 8;
  const lh = (options.height ?? 64) / 8;
  const runtime = OrtRuntime.start();
  try {
    const unet = await Unet.load(runtime, join(goldenDir, 'sf_unet'), 'cpu');
    const c = unet.config.in_channels;
    const ctxDim = unet.config.cross_attention_dim;
    const inputs = {
      sample: gaussianNoise(1, batch * c * lh * lw),
      dims: [batch, c, lh, lw] as [number, number, number, number],
      timesteps: new Array<number>(batch).fill(500),
      context: gaussianNoise(2, batch * 77 * ctxDim),
      contextDims: [batch, 77, ctxDim] as [number, number, number],
      concat: gaussianNoise(3, c * lh * lw),
      concatDims: [1, c, lh, lw] as [number, number, number, number],
      coded: new Array<number>(batch).fill(400),
    };
    await unet.run(inputs); // warm-up: first run allocates
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await unet.run(inputs);
      times.push(performance.now() - t0);
    }
    await unet.release();
    times.sort((a, b) => a - b);
    return {
      name: 'models.tiny-unet-step.cpu',
      unit: 'ms',
      median: times[Math.floor(times.length / 2)] ?? NaN,
      min: times[0] ?? NaN,
      runs,
      details: { batch, latent: [lh, lw], dtype: 'float32', device: 'cpu' },
    };
  } finally {
    await runtime.dispose();
  }
}

const KeyFileSchema = z.object({ config: z.record(z.string(), z.unknown()), keys: z.record(z.string(), z.array(z.number().int())) }).loose();

/**
 * A component folder with the real (full-size) structure and random float16 weights: config.json from the
 * golden key list and a .safetensors written in one streaming pass. Norm scales are 1 so activations stay
 * finite; everything else is uniform in [-0.02, 0.02].
 */
export function randomComponent(keyList: string, weightsName: string): { folder: string; dispose: () => void } {
  const keyFile = KeyFileSchema.parse(JSON.parse(readFileSync(join(goldenDir, 'keys', `${keyList}.json`), 'utf8')));
  const folder = mkdtempSync(join(tmpdir(), `pu-bench-${keyList}-`));
  writeFileSync(join(folder, 'config.json'), JSON.stringify(keyFile.config));
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(keyFile.keys)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(join(folder, weightsName), 'w');
  try {
    writeSync(fd, length);
    writeSync(fd, json);
    // A small table of half values sampled with a cheap LCG keeps writing ~1.7 GB fast.
    const table = Uint16Array.from({ length: 4096 }, (_, i) => toHalf(((i * 2654435761) % 4096) / 4096 * 0.04 - 0.02));
    const one = toHalf(1);
    let state = 12345;
    for (const [name, shape] of Object.entries(keyFile.keys)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const isNormScale = /norm[^.]*\.weight$/.test(name);
      for (let start = 0; start < n; start += 1 << 22) {
        const chunk = new Uint16Array(Math.min(1 << 22, n - start));
        for (let i = 0; i < chunk.length; i++) {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          chunk[i] = isNormScale ? one : (table[state >>> 20] ?? 0);
        }
        writeSync(fd, new Uint8Array(chunk.buffer));
      }
    }
  } finally {
    closeSync(fd);
  }
  return { folder, dispose: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Highest GPU memory use seen by nvidia-smi while `work` runs (MiB), sampled every 100 ms. */
async function withPeakVram<T>(work: () => Promise<T>): Promise<{ value: T; peakMiB: number }> {
  let peak = 0;
  let running = true;
  const poll = async (): Promise<void> => {
    while (running) {
      const used = await new Promise<number>((res) =>
        execFile('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], (error, stdout) => res(error ? 0 : Number(stdout.trim().split('\n')[0]))),
      );
      peak = Math.max(peak, used);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const poller = poll();
  try {
    return { value: await work(), peakMiB: peak };
  } finally {
    running = false;
    await poller;
  }
}

function stats(times: number[]): { median: number; min: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN };
}

async function timeUnet(runtime: OrtRuntime, folder: string, device: Device, runs: number, batch: number, lh: number, lw: number): Promise<number[]> {
  const unet = await Unet.load(runtime, folder, device);
  const ctxDim = unet.config.cross_attention_dim;
  const inputs = {
    sample: gaussianNoise(1, batch * 4 * lh * lw),
    dims: [batch, 4, lh, lw] as [number, number, number, number],
    timesteps: new Array<number>(batch).fill(500),
    context: gaussianNoise(2, batch * 77 * ctxDim),
    contextDims: [batch, 77, ctxDim] as [number, number, number],
    concat: gaussianNoise(3, 4 * lh * lw),
    concatDims: [1, 4, lh, lw] as [number, number, number, number],
    coded: new Array<number>(batch).fill(400),
  };
  await unet.run(inputs); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await unet.run(inputs);
    times.push(performance.now() - t0);
  }
  await unet.release();
  return times;
}

async function timeVaeDecode(runtime: OrtRuntime, folder: string, device: Device, runs: number, frames: number, lh: number, lw: number): Promise<number[]> {
  const vae = await Vae.load(runtime, folder, device);
  const latents = gaussianNoise(4, frames * 4 * lh * lw);
  await vae.decode(latents, [frames, 4, lh, lw]); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await vae.decode(latents, [frames, 4, lh, lw]);
    times.push(performance.now() - t0);
  }
  await vae.release();
  return times;
}

/**
 * The full-size single-frame UNet (official structure, random float16 weights) at 512x640: one sampler
 * step = batch 12 (6 operation steps x 2 guidance halves); plus the VAE decode of 6 frames.
 */
export async function benchFullSize(
  options: { device?: Device; runs?: number; keyframes?: number; width?: number; height?: number; only?: 'unet' | 'vae' } = {},
): Promise<{
  unet?: ModelBenchmarkResult;
  vae?: ModelBenchmarkResult;
}> {
  const device = options.device ?? 'cuda';
  const runs = options.runs ?? 5;
  const frames = options.keyframes ?? 6;
  const lw = (options.width ?? 512) / 8;
  const lh = (options.height ?? 640) / 8;
  const unetDir = options.only === 'vae' ? undefined : randomComponent('sf_unet', 'diffusion_pytorch_model.safetensors');
  const vaeDir = options.only === 'unet' ? undefined : randomComponent('sd_vae', 'diffusion_pytorch_model.safetensors');
  const runtime = OrtRuntime.start();
  try {
    const measured = await withPeakVram(async () => ({
      unetTimes: unetDir === undefined ? [] : await timeUnet(runtime, unetDir.folder, device, runs, 2 * frames, lh, lw),
      vaeTimes: vaeDir === undefined ? [] : await timeVaeDecode(runtime, vaeDir.folder, device, runs, frames, lh, lw),
    }));
    const details = { device, width: lw * 8, height: lh * 8, keyframes: frames, peakVramMiB: measured.peakMiB };
    return {
      unet: unetDir === undefined ? undefined : { name: `models.full-unet-step.${device}`, unit: 'ms', ...stats(measured.value.unetTimes), runs, details: { ...details, batch: 2 * frames, dtype: device === 'cuda' ? 'float16' : 'float32' } },
      vae: vaeDir === undefined ? undefined : { name: `models.full-vae-decode.${device}`, unit: 'ms', ...stats(measured.value.vaeTimes), runs, details: { ...details, dtype: 'float32 (force_upcast)' } },
    };
  } finally {
    await runtime.dispose();
    unetDir?.dispose();
    vaeDir?.dispose();
  }
}

function required(result: ModelBenchmarkResult | undefined): ModelBenchmarkResult {
  if (result === undefined) throw new Error('the benchmark produced no result');
  return result;
}

/**
 * The benchmarks this module offers, for the runner. The full-size cases need an NVIDIA GPU with the
 * onnxruntime CUDA provider installed; without it they are not offered (not failed).
 */
export const modelBenchmarks: readonly { readonly name: string; readonly run: () => Promise<ModelBenchmarkResult> }[] = [
  { name: 'models.tiny-unet-step.cpu', run: () => benchTinyUnetStep() },
  ...(cudaLibraryInstalled()
    ? [
        { name: 'models.full-unet-step.cuda', run: async () => required((await benchFullSize({ only: 'unet' })).unet) },
        { name: 'models.full-vae-decode.cuda', run: async () => required((await benchFullSize({ only: 'vae' })).vae) },
      ]
    : []),
];

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await benchTinyUnetStep())}\n`);
  if (process.argv.includes('--full')) {
    const device: Device = cudaLibraryInstalled() ? 'cuda' : 'cpu';
    const small = process.argv.includes('--small');
    const full = await benchFullSize(small ? { device, runs: 1, keyframes: 1, width: 64, height: 64 } : { device });
    process.stdout.write(`${JSON.stringify(full.unet)}\n${JSON.stringify(full.vae)}\n`);
  }
}
