/**
 * gradio_app.process() of the official app (key-frame generation) on the loaded components:
 * resize-and-center-crop, VAE encode (x scaling_factor) as the concat condition, prompts through CLIP,
 * DPM-Solver++(2M) with CFG over a batch of operation steps sharing one noise, VAE decode, uint8.
 */
import { throwIfCancelled } from '../../../engine/src/core/errors.js';
import type { RgbImage } from '../../../engine/src/core/image.js';
import type { ClipTextEncoder, Unet, Vae } from '../components.js';
import { resizeAndCenterCrop } from '../preprocess/resize.js';
import { assertFinite } from '../runtime/onnxruntime.js';
import { PAINTS_UNDO_SCHEDULE, cfgDenoiser, gaussianNoise, sampleDpmpp2m, samplerSigmas, sigmaTable } from '../sampler/kdiffusion.js';
import type { SampleHooks } from '../sampler/kdiffusion.js';
import type { ClipTokenizer } from '../tokenizer/clip.js';

/** The official app's defaults (gradio_app.py). */
export const SINGLE_FRAME_DEFAULTS = {
  steps: 50,
  cfg: 3.0,
  negativePrompt: 'lowres, bad anatomy, bad hands, cropped, worst quality',
  width: 512,
  height: 640,
  operationSteps: [400, 600, 800, 900, 950, 999],
  seed: 12345,
} as const;

export interface SingleFrameModels {
  readonly tokenizer: ClipTokenizer;
  readonly textEncoder: ClipTextEncoder;
  readonly vae: Vae;
  readonly unet: Unet;
}

export interface KeyframeOptions {
  readonly prompt: string;
  readonly negativePrompt?: string;
  /** Operation steps (0..999), one output each; the batch shares one noise. */
  readonly operationSteps: readonly number[];
  readonly width: number;
  readonly height: number;
  readonly steps?: number;
  readonly cfg?: number;
  readonly seed?: number;
  /** Noise of shape [1, C, h, w] to replay instead of drawing from `seed` (golden tests). */
  readonly noise?: Float32Array;
  /**
   * Most samples per UNet call (default: the whole 2B batch in one call). The attention scores of the
   * first level grow with batch x (h/8 x w/8)^2 (about 0.4 GB per sample at 512x640), so the backend
   * splits the batch to bound memory.
   */
  readonly unetBatch?: number;
  readonly hooks?: SampleHooks;
}

export interface KeyframeResult {
  readonly fg: RgbImage;
  readonly concatConds: Float32Array;
  readonly conds: Float32Array;
  readonly unconds: Float32Array;
  readonly latents: Float32Array;
  readonly pixels: Float32Array;
  readonly images: RgbImage[];
}

/** numpy2pytorch: float32(u8) / 127.5 - 1, HWC -> CHW. */
export function imageToTensor(image: RgbImage): Float32Array {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = Math.fround(Math.fround((data[i * 3 + c] ?? 0) / 127.5) - 1);
  }
  return out;
}

/** pytorch2numpy of item `index` of a [B, 3, H, W] batch: clip(x * 127.5 + 127.5, 0, 255) truncated to uint8. */
export function tensorToImage(pixels: Float32Array, index: number, width: number, height: number): RgbImage {
  const plane = width * height;
  const base = index * 3 * plane;
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = Math.fround(Math.fround((pixels[base + c * plane + i] ?? 0) * 127.5) + 127.5);
      data[i * 3 + c] = Math.trunc(Math.min(255, Math.max(0, v)));
    }
  }
  return { width, height, channels: 3, data };
}

export async function generateKeyframes(models: SingleFrameModels, input: RgbImage, options: KeyframeOptions): Promise<KeyframeResult> {
  const { tokenizer, textEncoder, vae, unet } = models;
  const steps = options.steps ?? SINGLE_FRAME_DEFAULTS.steps;
  const cfg = options.cfg ?? SINGLE_FRAME_DEFAULTS.cfg;
  const batch = options.operationSteps.length;
  const scaling = vae.config.scaling_factor;

  const fg = resizeAndCenterCrop(input, options.width, options.height);
  const mode = await vae.encode(imageToTensor(fg), [1, 3, options.height, options.width]);
  const concatConds = mode.map((v) => Math.fround(v * scaling));
  const latentChannels = vae.config.latent_channels;
  const lh = options.height / vae.factor;
  const lw = options.width / vae.factor;

  const text = await textEncoder.encode([tokenizer.encode(options.prompt), tokenizer.encode(options.negativePrompt ?? SINGLE_FRAME_DEFAULTS.negativePrompt)]);
  const tokenFloats = textEncoder.length * textEncoder.hidden;
  const conds = text.slice(0, tokenFloats);
  const unconds = text.slice(tokenFloats, 2 * tokenFloats);
  // Context rows for one UNet call of batch 2B: B positive rows, then B negative rows.
  const context = new Float32Array(2 * batch * tokenFloats);
  for (let b = 0; b < batch; b++) {
    context.set(conds, b * tokenFloats);
    context.set(unconds, (batch + b) * tokenFloats);
  }

  const table = sigmaTable(PAINTS_UNDO_SCHEDULE);
  const sigmas = samplerSigmas(table, steps, 1.0);
  const per = latentChannels * lh * lw;
  const noise = options.noise ?? gaussianNoise(options.seed ?? SINGLE_FRAME_DEFAULTS.seed, per);
  // Same noise for every operation step; initial latent is zeros (strength 1).
  const x0 = new Float32Array(batch * per);
  const sigma0 = sigmas[0] ?? 0;
  for (let b = 0; b < batch; b++) for (let k = 0; k < per; k++) x0[b * per + k] = Math.fround((noise[k] ?? 0) * sigma0);

  const coded = [...options.operationSteps, ...options.operationSteps];
  const chunk = Math.max(1, Math.min(options.unetBatch ?? 2 * batch, 2 * batch));
  const denoiser = cfgDenoiser(
    async (xIn, t, n) => {
      const eps = new Float32Array(n * per);
      for (let start = 0; start < n; start += chunk) {
        const m = Math.min(chunk, n - start);
        const out = await unet.run({
          sample: xIn.subarray(start * per, (start + m) * per),
          dims: [m, latentChannels, lh, lw],
          timesteps: new Array<number>(m).fill(t),
          context: context.subarray(start * tokenFloats, (start + m) * tokenFloats),
          contextDims: [m, textEncoder.length, textEncoder.hidden],
          concat: concatConds,
          concatDims: [1, latentChannels, lh, lw],
          coded: coded.slice(start, start + m),
        });
        eps.set(out, start * per);
      }
      return eps;
    },
    table,
    cfg,
    batch,
  );
  const latents = await sampleDpmpp2m(x0, sigmas, denoiser, options.hooks ?? {});
  assertFinite(latents, "the single-frame model's latents");
  const unscaled = latents.map((v) => Math.fround(v / scaling));
  // One frame per decode: full-resolution decoder activations are ~0.2 GB per 128-channel tensor per frame.
  const plane = 3 * options.width * options.height;
  const pixels = new Float32Array(batch * plane);
  for (let b = 0; b < batch; b++) {
    throwIfCancelled(options.hooks?.signal);
    pixels.set(await vae.decode(unscaled.subarray(b * per, (b + 1) * per), [1, latentChannels, lh, lw]), b * plane);
  }
  assertFinite(pixels, "the single-frame model's decoded images");
  const images = Array.from({ length: batch }, (_, i) => tensorToImage(pixels, i, options.width, options.height));
  return { fg, concatConds, conds, unconds, latents, pixels, images };
}
