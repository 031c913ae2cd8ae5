/**
 * Model benchmarks: one UNet step (both CFG halves in one batch) of the tiny single-frame model on CPU,
 * through the same loader and runtime worker as the backend. Runs standalone
 * (`node --import tsx benchmarks/models.ts`) or from the benchmark runner via `modelBenchmarks`.
 * Timings go here, never into unit tests.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Unet } from '../models/src/components.js';
import { OrtRuntime } from '../models/src/runtime/onnxruntime.js';
import { gaussianNoise } from '../models/src/sampler/kdiffusion.js';

export interface ModelBenchmarkResult {
  readonly name: string;
  readonly unit: 'ms';
  readonly median: number;
  readonly min: number;
  readonly runs: number;
  readonly details: Record<string, unknown>;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const goldenDir = resolve(process.env.GOLDEN_DIR ?? join(repoRoot, '..', 'shared', 'golden'));

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

/** The benchmarks this module offers, for the runner. */
export const modelBenchmarks = [{ name: 'models.tiny-unet-step.cpu', run: () => benchTinyUnetStep() }] as const;

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await benchTinyUnetStep();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
