/**
 * gradio_app.process_video_inner() of the official app on the loaded multi-frame components: two key
 * frames -> the bucket nearest the first one's aspect ratio -> text conditions (prompt / "") -> image
 * conditions (CLIP vision + resampler of the frames, and of all-zero frames for the negative) -> VAE
 * latents and hidden states -> concat condition (first, 14 zero frames, last) -> dynamic-TSNR sampling
 * with CFG (positive and negative in one UNet batch) -> temporal VAE decode -> 16 frames, first to last.
 */
import type { RgbImage } from '../../../engine/src/core/image.js';
import { throwIfCancelled } from '../../../engine/src/core/errors.js';
import { ClipTextEncoder } from '../components.js';
import { resizeAndCenterCrop } from '../preprocess/resize.js';
import type { Device, OrtRuntime } from '../runtime/onnxruntime.js';
import { ClipTokenizer } from '../tokenizer/clip.js';
import { ClipVisionEncoder, ImageProjection, Unet3d, VideoVae } from './components.js';
import type { VideoTensor } from './components.js';
import { GaussianNoise } from './noise.js';
import { findBestBucket, framesToVideoTensor, MF_BUCKETS, videoTensorFrame } from './preprocess.js';
import { guidedModelOutput, sampleDynamicTsnr } from './sampler.js';

/** The official defaults (gradio_app.py process_video / the UI). */
export const MULTI_FRAME_DEFAULTS = {
  steps: 50,
  cfg: 7.5,
  fs: 3,
  /** Not the tagger's prompt: the video model always gets this one. */
  prompt: '1girl, masterpiece, best quality',
  negativePrompt: '',
} as const;

export interface MultiFrameModels {
  readonly tokenizer: ClipTokenizer;
  readonly textEncoder: ClipTextEncoder;
  readonly imageEncoder: ClipVisionEncoder;
  readonly projection: ImageProjection;
  readonly vae: VideoVae;
  readonly unet: Unet3d;
}

export interface InterpolationHooks {
  readonly signal?: AbortSignal;
  /** After each sampler step. */
  readonly onStep?: (done: number, total: number) => void;
  /** Between stages (conditioning, sampling, decoding), for progress messages. */
  readonly onStage?: (stage: 'conditioning' | 'sampling' | 'decoding') => void;
}

export interface InterpolationOptions {
  readonly prompt?: string;
  readonly negativePrompt?: string;
  readonly steps?: number;
  readonly cfg?: number;
  readonly fs?: number;
  readonly seed?: number;
  /** (height, width); default: the official bucket nearest the first frame's aspect ratio. */
  readonly bucket?: readonly [number, number];
  /** Replaces the seeded generator (golden tests replay the reference draws). */
  readonly noise?: (size: number) => Float32Array;
  readonly hooks?: InterpolationHooks;
}

export interface InterpolationResult {
  readonly image1: RgbImage;
  readonly image2: RgbImage;
  readonly positiveText: Float32Array;
  readonly negativeText: Float32Array;
  readonly positiveImage: Float32Array;
  readonly negativeImage: Float32Array;
  readonly inputLatents: VideoTensor;
  readonly concatCond: VideoTensor;
  readonly conditions: VideoConditions;
  readonly latents: VideoTensor;
  /** [1, 3, frames, H, W] in ~[-1, 1]. */
  readonly video: VideoTensor;
  /** The frames as images, first key frame to second. */
  readonly frames: RgbImage[];
}

/** stack([first] + (T-2) x [zeros] + [last], dim=2) of [1, c, 2, h, w] latents. */
export function concatCondition(latents: VideoTensor, frames: number): VideoTensor {
  const [b, c, t, h, w] = latents.dims;
  const plane = h * w;
  const out = new Float32Array(b * c * frames * plane);
  for (let i = 0; i < b * c; i++) {
    out.set(latents.data.subarray(i * t * plane, (i * t + 1) * plane), i * frames * plane);
    out.set(latents.data.subarray((i * t + t - 1) * plane, (i * t + t) * plane), (i * frames + frames - 1) * plane);
  }
  return { data: out, dims: [b, c, frames, h, w] };
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Everything the UNet is conditioned on during one interpolation. */
export interface VideoConditions {
  readonly positiveText: Float32Array;
  readonly negativeText: Float32Array;
  readonly textTokens: number;
  readonly positiveImage: Float32Array;
  readonly negativeImage: Float32Array;
  readonly imageTokens: number;
  /** [1, z, frames, h, w]. */
  readonly concatCond: VideoTensor;
  readonly fs: number;
  readonly cfg: number;
}

/**
 * SamplerDynamicTSNR.model_apply: the UNet on the positive and the negative conditions (one batch of 2),
 * CFG, then guidance rescale 0.7. `x` is one [1, z, frames, h, w] latent.
 */
export async function guidedVelocity(unet: Unet3d, c: VideoConditions, x: Float32Array, t: number): Promise<Float32Array> {
  const [, zc, frames, lh, lw] = c.concatCond.dims;
  const v = await unet.run({
    x: { data: concat(x, x), dims: [2, zc, frames, lh, lw] },
    timesteps: [t, t],
    text: concat(c.positiveText, c.negativeText),
    textTokens: c.textTokens,
    image: concat(c.positiveImage, c.negativeImage),
    imageTokens: c.imageTokens,
    concat: concat(c.concatCond.data, c.concatCond.data),
    fs: [c.fs, c.fs],
  });
  return guidedModelOutput(v.subarray(0, x.length), v.subarray(x.length), 1, c.cfg);
}

export async function interpolateKeyframes(
  models: MultiFrameModels,
  first: RgbImage,
  second: RgbImage,
  options: InterpolationOptions = {},
): Promise<InterpolationResult> {
  const hooks = options.hooks ?? {};
  const signal = hooks.signal;
  const frames = models.projection.config.video_length;
  const [height, width] = options.bucket ?? findBestBucket(first.height, first.width, MF_BUCKETS);
  const image1 = resizeAndCenterCrop(first, width, height);
  const image2 = resizeAndCenterCrop(second, width, height);
  hooks.onStage?.('conditioning');

  const texts = await models.textEncoder.encode([
    models.tokenizer.encode(options.prompt ?? MULTI_FRAME_DEFAULTS.prompt),
    models.tokenizer.encode(options.negativePrompt ?? MULTI_FRAME_DEFAULTS.negativePrompt),
  ]);
  const textSize = texts.length / 2;
  const positiveText = texts.slice(0, textSize);
  const negativeText = texts.slice(textSize);
  throwIfCancelled(signal);

  // [3, 2, h, w] (c t h w) for the VAE; [2, 3, h, w] frames for CLIP vision.
  const video = framesToVideoTensor([image1, image2]);
  const plane = width * height;
  const frameBatch = new Float32Array(video.length);
  for (let c = 0; c < 3; c++) {
    for (let t = 0; t < 2; t++) frameBatch.set(video.subarray((c * 2 + t) * plane, (c * 2 + t + 1) * plane), (t * 3 + c) * plane);
  }
  // The negative image condition is the encoder + projection of all-zero frames (mid-grey).
  const clip = await models.imageEncoder.encode(concat(frameBatch, new Float32Array(frameBatch.length)), 4, height, width);
  const hidden = models.imageEncoder.config.hidden_size;
  const images = await models.projection.run(clip.data, [2, 2, clip.tokens, hidden]);
  const positiveImage = images.slice(0, images.length / 2);
  const negativeImage = images.slice(images.length / 2);
  throwIfCancelled(signal);

  const encoded = await models.vae.encode({ data: video, dims: [1, 3, 2, height, width] });
  const concatCond = concatCondition(encoded.latents, frames);
  throwIfCancelled(signal);

  hooks.onStage?.('sampling');
  const conditions: VideoConditions = {
    positiveText,
    negativeText,
    textTokens: textSize / models.textEncoder.hidden,
    positiveImage,
    negativeImage,
    imageTokens: models.projection.config.num_queries,
    concatCond,
    fs: options.fs ?? MULTI_FRAME_DEFAULTS.fs,
    cfg: options.cfg ?? MULTI_FRAME_DEFAULTS.cfg,
  };
  const [, zc, , lh, lw] = concatCond.dims;
  const size = zc * frames * lh * lw;
  const generator = new GaussianNoise(options.seed ?? 0);
  const latents = await sampleDynamicTsnr({
    size,
    steps: options.steps ?? MULTI_FRAME_DEFAULTS.steps,
    noise: options.noise ?? ((n) => generator.sample(n)),
    signal,
    onStep: hooks.onStep,
    model: (x, t) => guidedVelocity(models.unet, conditions, x, t),
  });
  throwIfCancelled(signal);

  hooks.onStage?.('decoding');
  const latentVideo: VideoTensor = { data: latents, dims: [1, zc, frames, lh, lw] };
  const decoded = await models.vae.decode(latentVideo, encoded.hidden);
  const [, , T, H, W] = decoded.dims;
  const images8: RgbImage[] = [];
  for (let t = 0; t < T; t++) images8.push(videoTensorFrame(decoded.data, T, H, W, t));
  return {
    image1,
    image2,
    positiveText,
    negativeText,
    positiveImage,
    negativeImage,
    inputLatents: encoded.latents,
    concatCond,
    conditions,
    latents: latentVideo,
    video: decoded,
    frames: images8,
  };
}

/** Snapshot subfolders (Hugging Face layout of lllyasviel/paints_undo_multi_frame). */
export type MultiFrameFolder = 'tokenizer' | 'text_encoder' | 'image_encoder' | 'vae' | 'image_projection' | 'unet';

/**
 * Loads every component; `folderOf` maps a snapshot subfolder to a directory (the real snapshot, or the
 * golden fixtures' component folders). On failure the components already loaded are released.
 */
export async function loadMultiFrameModels(
  runtime: OrtRuntime,
  folderOf: (folder: MultiFrameFolder) => string,
  device: Device,
): Promise<MultiFrameModels> {
  const loaded: { release: () => Promise<void> }[] = [];
  const track = async <T extends { release: () => Promise<void> }>(p: Promise<T>): Promise<T> => {
    const value = await p;
    loaded.push(value);
    return value;
  };
  try {
    const tokenizer = ClipTokenizer.fromFolder(folderOf('tokenizer'));
    const textEncoder = await track(ClipTextEncoder.load(runtime, folderOf('text_encoder'), device));
    const imageEncoder = await track(ClipVisionEncoder.load(runtime, folderOf('image_encoder'), device));
    const projection = await track(ImageProjection.load(runtime, folderOf('image_projection'), device));
    const vae = await track(VideoVae.load(runtime, folderOf('vae'), device));
    const unet = await track(Unet3d.load(runtime, folderOf('unet'), device));
    return { tokenizer, textEncoder, imageEncoder, projection, vae, unet };
  } catch (error) {
    for (const component of loaded) await component.release().catch(() => undefined);
    throw error;
  }
}

export async function releaseMultiFrameModels(models: MultiFrameModels): Promise<void> {
  await models.textEncoder.release();
  await models.imageEncoder.release();
  await models.projection.release();
  await models.vae.release();
  await models.unet.release();
}
