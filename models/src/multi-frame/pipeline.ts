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
import { assertFinite } from '../runtime/onnxruntime.js';
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

/** The text and image encoders: needed only before sampling, so the backend can release them first. */
export type MultiFrameEncoders = Pick<MultiFrameModels, 'tokenizer' | 'textEncoder' | 'imageEncoder' | 'projection'>;
/** The components that sample and decode. */
export type MultiFrameVideoModels = Pick<MultiFrameModels, 'vae' | 'unet'>;

export interface TextConditions {
  readonly positive: Float32Array;
  readonly negative: Float32Array;
  readonly tokens: number;
}

/** encode_cropped_prompt_77tokens(prompt) and of the negative prompt, in one batch. */
export async function encodeTextConditions(encoders: MultiFrameEncoders, prompt: string, negativePrompt: string): Promise<TextConditions> {
  const texts = await encoders.textEncoder.encode([encoders.tokenizer.encode(prompt), encoders.tokenizer.encode(negativePrompt)]);
  const size = texts.length / 2;
  return { positive: texts.slice(0, size), negative: texts.slice(size), tokens: size / encoders.textEncoder.hidden };
}

/** A key-frame pair at the video bucket with its image conditions. */
export interface PairConditions {
  readonly image1: RgbImage;
  readonly image2: RgbImage;
  readonly positive: Float32Array;
  readonly negative: Float32Array;
  readonly tokens: number;
  /** video_length of the resampler: the frames of the clip. */
  readonly frames: number;
}

/**
 * Resize-and-center-crop both frames to the bucket (default: the official one nearest the first frame),
 * then image_projection(encode_clip_vision(frames)) and the same of all-zero frames (the negative).
 */
export async function encodePairConditions(
  encoders: MultiFrameEncoders,
  first: RgbImage,
  second: RgbImage,
  bucket?: readonly [number, number],
): Promise<PairConditions> {
  const [height, width] = bucket ?? findBestBucket(first.height, first.width, MF_BUCKETS);
  const image1 = resizeAndCenterCrop(first, width, height);
  const image2 = resizeAndCenterCrop(second, width, height);
  const video = framesToVideoTensor([image1, image2]);
  const plane = width * height;
  // [3, 2, h, w] (c t h w) -> [2, 3, h, w] frames for CLIP vision.
  const frameBatch = new Float32Array(video.length);
  for (let c = 0; c < 3; c++) {
    for (let t = 0; t < 2; t++) frameBatch.set(video.subarray((c * 2 + t) * plane, (c * 2 + t + 1) * plane), (t * 3 + c) * plane);
  }
  // The negative image condition is the encoder + projection of all-zero frames (mid-grey).
  const clip = await encoders.imageEncoder.encode(concat(frameBatch, new Float32Array(frameBatch.length)), 4, height, width);
  const hidden = encoders.imageEncoder.config.hidden_size;
  const images = await encoders.projection.run(clip.data, [2, 2, clip.tokens, hidden]);
  return {
    image1,
    image2,
    positive: images.slice(0, images.length / 2),
    negative: images.slice(images.length / 2),
    tokens: encoders.projection.config.num_queries,
    frames: encoders.projection.config.video_length,
  };
}

export type SampleOptions = Pick<InterpolationOptions, 'steps' | 'cfg' | 'fs' | 'seed' | 'noise' | 'hooks'>;

/** The rest of process_video_inner once the conditions exist: VAE latents, sampling, temporal decode. */
export async function sampleVideo(
  models: MultiFrameVideoModels,
  text: TextConditions,
  pair: PairConditions,
  options: SampleOptions = {},
): Promise<Omit<InterpolationResult, 'positiveText' | 'negativeText' | 'positiveImage' | 'negativeImage'>> {
  const hooks = options.hooks ?? {};
  const signal = hooks.signal;
  const { image1, image2, frames } = pair;
  const encoded = await models.vae.encode({ data: framesToVideoTensor([image1, image2]), dims: [1, 3, 2, image1.height, image1.width] });
  const concatCond = concatCondition(encoded.latents, frames);
  throwIfCancelled(signal);

  hooks.onStage?.('sampling');
  const conditions: VideoConditions = {
    positiveText: text.positive,
    negativeText: text.negative,
    textTokens: text.tokens,
    positiveImage: pair.positive,
    negativeImage: pair.negative,
    imageTokens: pair.tokens,
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
  assertFinite(latents, "the multi-frame model's latents");

  hooks.onStage?.('decoding');
  const latentVideo: VideoTensor = { data: latents, dims: [1, zc, frames, lh, lw] };
  const decoded = await models.vae.decode(latentVideo, encoded.hidden);
  assertFinite(decoded.data, "the multi-frame model's decoded frames");
  const [, , T, H, W] = decoded.dims;
  const images8: RgbImage[] = [];
  for (let t = 0; t < T; t++) images8.push(videoTensorFrame(decoded.data, T, H, W, t));
  return { image1, image2, inputLatents: encoded.latents, concatCond, conditions, latents: latentVideo, video: decoded, frames: images8 };
}

/** process_video_inner with every component loaded (the golden test's path). */
export async function interpolateKeyframes(
  models: MultiFrameModels,
  first: RgbImage,
  second: RgbImage,
  options: InterpolationOptions = {},
): Promise<InterpolationResult> {
  options.hooks?.onStage?.('conditioning');
  const text = await encodeTextConditions(models, options.prompt ?? MULTI_FRAME_DEFAULTS.prompt, options.negativePrompt ?? MULTI_FRAME_DEFAULTS.negativePrompt);
  throwIfCancelled(options.hooks?.signal);
  const pair = await encodePairConditions(models, first, second, options.bucket);
  throwIfCancelled(options.hooks?.signal);
  const result = await sampleVideo(models, text, pair, options);
  return { ...result, positiveText: text.positive, negativeText: text.negative, positiveImage: pair.positive, negativeImage: pair.negative };
}

/** Snapshot subfolders (Hugging Face layout of lllyasviel/paints_undo_multi_frame). */
export type MultiFrameFolder = 'tokenizer' | 'text_encoder' | 'image_encoder' | 'vae' | 'image_projection' | 'unet';

type Releasable = { release: () => Promise<void> };

/** Runs `load`, handing it a tracker; on failure everything tracked so far is released. */
async function loading<T>(load: (track: <C extends Releasable>(p: Promise<C>) => Promise<C>) => Promise<T>): Promise<T> {
  const loaded: Releasable[] = [];
  const track = async <C extends Releasable>(p: Promise<C>): Promise<C> => {
    const value = await p;
    loaded.push(value);
    return value;
  };
  try {
    return await load(track);
  } catch (error) {
    for (const component of loaded) await component.release().catch(() => undefined);
    throw error;
  }
}

/** The tokenizer, text encoder, image encoder and projection; `folderOf` maps a snapshot subfolder to a directory. */
export function loadMultiFrameEncoders(runtime: OrtRuntime, folderOf: (folder: MultiFrameFolder) => string, device: Device): Promise<MultiFrameEncoders> {
  return loading(async (track) => ({
    tokenizer: ClipTokenizer.fromFolder(folderOf('tokenizer')),
    textEncoder: await track(ClipTextEncoder.load(runtime, folderOf('text_encoder'), device)),
    imageEncoder: await track(ClipVisionEncoder.load(runtime, folderOf('image_encoder'), device)),
    projection: await track(ImageProjection.load(runtime, folderOf('image_projection'), device)),
  }));
}

export function loadMultiFrameVideoModels(runtime: OrtRuntime, folderOf: (folder: MultiFrameFolder) => string, device: Device): Promise<MultiFrameVideoModels> {
  return loading(async (track) => ({
    vae: await track(VideoVae.load(runtime, folderOf('vae'), device)),
    unet: await track(Unet3d.load(runtime, folderOf('unet'), device)),
  }));
}

export async function releaseMultiFrameEncoders(encoders: MultiFrameEncoders): Promise<void> {
  await encoders.textEncoder.release();
  await encoders.imageEncoder.release();
  await encoders.projection.release();
}

export async function releaseMultiFrameVideoModels(models: MultiFrameVideoModels): Promise<void> {
  await models.vae.release();
  await models.unet.release();
}

/** Every component at once (golden tests); on failure the components already loaded are released. */
export async function loadMultiFrameModels(runtime: OrtRuntime, folderOf: (folder: MultiFrameFolder) => string, device: Device): Promise<MultiFrameModels> {
  const encoders = await loadMultiFrameEncoders(runtime, folderOf, device);
  try {
    return { ...encoders, ...(await loadMultiFrameVideoModels(runtime, folderOf, device)) };
  } catch (error) {
    await releaseMultiFrameEncoders(encoders).catch(() => undefined);
    throw error;
  }
}

export async function releaseMultiFrameModels(models: MultiFrameModels): Promise<void> {
  await releaseMultiFrameEncoders(models);
  await releaseMultiFrameVideoModels(models);
}
