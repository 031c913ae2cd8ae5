/**
 * Loaded multi-frame components: each reads config.json + safetensors from its snapshot folder, builds
 * its graph and opens an onnxruntime session, exactly as for the real model. Tensors cross as float32.
 */
import { float32Tensor, int64Tensor, outputFloat32 } from '../runtime/onnxruntime.js';
import type { Device, OrtRuntime, OrtSession, TensorData } from '../runtime/onnxruntime.js';
import type { BuiltGraph } from '../graph/clip-text.js';
import type { ComputeDtype } from '../graph/builder.js';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ResamplerConfigSchema, buildResampler } from './projection.js';
import { readConfig } from '../components.js';
import { openComponentWeights } from './config.js';
import { ClipVisionConfigSchema, buildClipVision, positionIds } from './clip-vision.js';
import type { ClipVisionConfig } from './clip-vision.js';
import { clipVisionPreprocess } from './preprocess.js';
import { VideoVaeConfigSchema, buildVideoVaeDecoder, buildVideoVaeEncoder } from './vae.js';
import type { VideoVaeConfig } from './vae.js';
import { Unet3dConfigSchema, buildUnet3d } from './unet3d.js';
import type { Unet3dConfig } from './unet3d.js';
import type { ResamplerConfig } from './projection.js';

export function dtypeFor(device: Device): ComputeDtype {
  return device === 'cuda' ? 'float16' : 'float32';
}

/** The real folder of a component's weights file (symlinks resolved: ORT refuses external data outside it). */
function weightsFolder(folder: string): string {
  for (const name of ['model.safetensors', 'diffusion_pytorch_model.safetensors']) {
    try {
      return dirname(realpathSync(join(folder, name)));
    } catch {
      continue;
    }
  }
  return folder;
}

export async function openBuilt(
  runtime: OrtRuntime,
  folder: string,
  built: BuiltGraph,
  name: string,
  device: Device,
  optimization?: 'all' | 'extended',
): Promise<OrtSession> {
  built.weights.assertComplete();
  return runtime.createSession({
    model: built.builder.toBytes(name),
    externalDataFolder: weightsFolder(folder),
    device,
    ...(optimization !== undefined ? { optimization } : {}),
  });
}

export class ImageProjection {
  private constructor(
    private readonly session: OrtSession,
    readonly config: ResamplerConfig,
  ) {}

  static async load(runtime: OrtRuntime, folder: string, device: Device): Promise<ImageProjection> {
    const config = readConfig(folder, ResamplerConfigSchema);
    const built = buildResampler(config, openComponentWeights(folder), dtypeFor(device));
    return new ImageProjection(await openBuilt(runtime, folder, built, 'image_projection', device), config);
  }

  /** [b, input_frames_length, tokens, embedding_dim] -> [b, video_length, num_queries, output_dim]. */
  async run(embeds: Float32Array, dims: readonly [number, number, number, number]): Promise<Float32Array> {
    return outputFloat32(await this.session.run({ image_embeds: float32Tensor(embeds, dims) }), 'image_context');
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The image encoder: frames in [-1, 1] -> CLIP-vision last_hidden_state, preprocessing on the CPU
 * (preprocess.ts) so that any bucket runs through one graph.
 */
export class ClipVisionEncoder {
  private constructor(
    private readonly session: OrtSession,
    readonly config: ClipVisionConfig,
  ) {}

  static async load(runtime: OrtRuntime, folder: string, device: Device): Promise<ClipVisionEncoder> {
    const config = readConfig(folder, ClipVisionConfigSchema);
    const built = buildClipVision(config, openComponentWeights(folder), dtypeFor(device));
    return new ClipVisionEncoder(await openBuilt(runtime, folder, built, 'image_encoder', device), config);
  }

  /** `frames` [n, 3, h, w] in [-1, 1] -> [n, tokens, hidden]; returns the token count too. */
  async encode(frames: Float32Array, n: number, height: number, width: number): Promise<{ data: Float32Array; tokens: number }> {
    const pixels = clipVisionPreprocess(frames, n, height, width);
    const p = this.config.patch_size;
    const ids = positionIds(pixels.height / p, pixels.width / p);
    const out = await this.session.run({
      pixel_values: float32Tensor(pixels.data, [n, 3, pixels.height, pixels.width]),
      position_ids: int64Tensor(ids, [ids.length]),
    });
    return { data: outputFloat32(out, 'last_hidden_state'), tokens: ids.length };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** [n*t frames folded, c, h, w] of one video batch -> [b, c, t, h, w]. */
export function framesToBcthw(x: Float32Array, b: number, t: number, c: number, plane: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let bi = 0; bi < b; bi++) {
    for (let ti = 0; ti < t; ti++) {
      for (let ci = 0; ci < c; ci++) {
        const src = ((bi * t + ti) * c + ci) * plane;
        out.set(x.subarray(src, src + plane), (((bi * c + ci) * t + ti) * plane));
      }
    }
  }
  return out;
}

/** [b, c, t, h, w] -> [(b t), c, h, w]. */
export function bcthwToFrames(x: Float32Array, b: number, c: number, t: number, plane: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let bi = 0; bi < b; bi++) {
    for (let ci = 0; ci < c; ci++) {
      for (let ti = 0; ti < t; ti++) {
        const src = (((bi * c + ci) * t + ti) * plane);
        out.set(x.subarray(src, src + plane), ((bi * t + ti) * c + ci) * plane);
      }
    }
  }
  return out;
}

/** A [b, c, t, h, w] tensor with its dims. */
export interface VideoTensor {
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number, number, number];
}

export interface EncodedVideo {
  /** [b, z, t, h, w], already x 0.18215. */
  readonly latents: VideoTensor;
  /** Per level, then conv_in: [b, c, 2, h, w] of the first and last frames (the decoder's ref context). */
  readonly hidden: readonly VideoTensor[];
}

export class VideoVae {
  private readonly decoders = new Map<number, Promise<OrtSession>>();

  private constructor(
    private readonly runtime: OrtRuntime,
    private readonly folder: string,
    private readonly device: Device,
    private readonly encoder: OrtSession,
    readonly config: VideoVaeConfig,
  ) {}

  static async load(runtime: OrtRuntime, folder: string, device: Device): Promise<VideoVae> {
    const config = readConfig(folder, VideoVaeConfigSchema);
    const built = buildVideoVaeEncoder(config, openComponentWeights(folder), dtypeFor(device));
    // The decoder is built per frame count on first use; check its weights now so errors come early.
    buildVideoVaeDecoder(config, openComponentWeights(folder), dtypeFor(device), 16).weights.assertComplete();
    return new VideoVae(runtime, folder, device, await openBuilt(runtime, folder, built, 'vae_encoder', device), config);
  }

  /** Spatial factor between pixels and latents. */
  get factor(): number {
    return 2 ** (this.config.ch_mult.length - 1);
  }

  /** pipeline.encode_latents(videos, return_hidden_states=True) for [b, 3, t, H, W] in [-1, 1]. */
  async encode(video: VideoTensor): Promise<EncodedVideo> {
    const [b, c, t, H, W] = video.dims;
    const frames = bcthwToFrames(video.data, b, c, t, H * W);
    const out = await this.encoder.run({ pixels: float32Tensor(frames, [b * t, c, H, W]) });
    const asVideo = (name: string): VideoTensor => {
      const tensor = out[name];
      const [, ch, h, w] = (tensor?.dims ?? []) as number[];
      if (ch === undefined || h === undefined || w === undefined) throw new Error(`encoder output ${name} is missing`);
      const data = framesToBcthw(outputFloat32(out, name), b, t, ch, h * w);
      return { data, dims: [b, ch, t, h, w] };
    };
    const latents = asVideo('latents');
    const hidden: VideoTensor[] = [];
    for (let i = 0; i <= this.config.ch_mult.length; i++) hidden.push(firstAndLast(asVideo(`hidden_${i}`)));
    return { latents, hidden };
  }

  private decoder(frames: number): Promise<OrtSession> {
    let session = this.decoders.get(frames);
    if (session === undefined) {
      const built = buildVideoVaeDecoder(this.config, openComponentWeights(this.folder), dtypeFor(this.device), frames);
      session = openBuilt(this.runtime, this.folder, built, 'vae_decoder', this.device);
      this.decoders.set(frames, session);
    }
    return session;
  }

  /** pipeline.decode_latents: [b, z, T, h, w] latents + the ref context -> [b, 3, T, H, W]. */
  async decode(latents: VideoTensor, hidden: readonly VideoTensor[]): Promise<VideoTensor> {
    const [b, , T, h, w] = latents.dims;
    const session = await this.decoder(T);
    const feeds: Record<string, TensorData> = { latents: float32Tensor(latents.data, latents.dims) };
    hidden.forEach((context, i) => {
      feeds[`context_${i}`] = float32Tensor(context.data, context.dims);
    });
    const out = await session.run(feeds);
    const f = this.factor;
    return { data: outputFloat32(out, 'pixels'), dims: [b, this.config.out_ch, T, h * f, w * f] };
  }

  async release(): Promise<void> {
    await this.encoder.release();
    for (const session of this.decoders.values()) await (await session).release();
    this.decoders.clear();
  }
}

/** h[:, :, [0, -1]]. */
function firstAndLast(video: VideoTensor): VideoTensor {
  const [b, c, t, h, w] = video.dims;
  const plane = h * w;
  const out = new Float32Array(b * c * 2 * plane);
  for (let i = 0; i < b * c; i++) {
    out.set(video.data.subarray((i * t) * plane, (i * t + 1) * plane), i * 2 * plane);
    out.set(video.data.subarray((i * t + t - 1) * plane, (i * t + t) * plane), (i * 2 + 1) * plane);
  }
  return { data: out, dims: [b, c, 2, h, w] };
}

export interface Unet3dInputs {
  /** [b, out_channels, frames, h, w] noisy latents. */
  readonly x: VideoTensor;
  readonly timesteps: readonly number[];
  /** [b, L, context_dim]. */
  readonly text: Float32Array;
  readonly textTokens: number;
  /** [b, frames, N, context_dim]. */
  readonly image: Float32Array;
  readonly imageTokens: number;
  /** [b, concat channels, frames, h, w]. */
  readonly concat: Float32Array;
  readonly fs: readonly number[];
}

export class Unet3d {
  private readonly sessions = new Map<number, Promise<OrtSession>>();

  private constructor(
    private readonly runtime: OrtRuntime,
    private readonly folder: string,
    private readonly device: Device,
    readonly config: Unet3dConfig,
  ) {}

  /** Checks the weights against config.json now; the graph is built per frame count on first use. */
  static async load(runtime: OrtRuntime, folder: string, device: Device): Promise<Unet3d> {
    const config = readConfig(folder, Unet3dConfigSchema);
    const unet = new Unet3d(runtime, folder, device, config);
    await unet.session(config.temporal_length);
    return unet;
  }

  private session(frames: number): Promise<OrtSession> {
    let session = this.sessions.get(frames);
    if (session === undefined) {
      const built = buildUnet3d(this.config, openComponentWeights(this.folder), dtypeFor(this.device), frames);
      // On the CPU, onnxruntime's NCHWc layout kernels ('all') move the 3D UNet's float32 output about ten
      // times further from float64 than the reference's own float32 run (mf_unet: 2.4e-4 vs 2.2e-5 at
      // 'extended'); the CPU path serves tests and explicit overrides, so exactness wins there.
      session = openBuilt(this.runtime, this.folder, built, 'unet3d', this.device, this.device === 'cpu' ? 'extended' : undefined);
      this.sessions.set(frames, session);
      // A failed build must not stay cached.
      session.catch(() => this.sessions.delete(frames));
    }
    return session;
  }

  /** One forward pass: the v-prediction [b, out_channels, frames, h, w]. */
  async run(inputs: Unet3dInputs): Promise<Float32Array> {
    const [b, , frames] = inputs.x.dims;
    const [, , , h, w] = inputs.x.dims;
    const D = this.config.context_dim;
    const concatCh = this.config.in_channels - this.config.out_channels;
    const feeds: Record<string, TensorData> = {
      x: float32Tensor(inputs.x.data, inputs.x.dims),
      timesteps: int64Tensor(inputs.timesteps, [b]),
      context_text: float32Tensor(inputs.text, [b, inputs.textTokens, D]),
      context_img: float32Tensor(inputs.image, [b, frames, inputs.imageTokens, D]),
      concat_cond: float32Tensor(inputs.concat, [b, concatCh, frames, h, w]),
    };
    if (this.config.fs_condition) feeds.fs = int64Tensor(inputs.fs, [b]);
    return outputFloat32(await (await this.session(frames)).run(feeds), 'y');
  }

  async release(): Promise<void> {
    for (const session of this.sessions.values()) await (await session).release();
    this.sessions.clear();
  }
}
