/**
 * Loaded multi-frame components: each reads config.json + safetensors from its snapshot folder, builds
 * its graph and opens an onnxruntime session, exactly as for the real model. Tensors cross as float32.
 */
import { float32Tensor, int64Tensor, outputFloat32 } from '../runtime/onnxruntime.js';
import type { Device, OrtRuntime, OrtSession } from '../runtime/onnxruntime.js';
import type { BuiltGraph } from '../graph/clip-text.js';
import type { ComputeDtype } from '../graph/builder.js';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ResamplerConfigSchema, buildResampler } from './projection.js';
import { openComponentWeights, readComponentConfig } from './config.js';
import { ClipVisionConfigSchema, buildClipVision, positionIds } from './clip-vision.js';
import type { ClipVisionConfig } from './clip-vision.js';
import { clipVisionPreprocess } from './preprocess.js';
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

export async function openBuilt(runtime: OrtRuntime, folder: string, built: BuiltGraph, name: string, device: Device): Promise<OrtSession> {
  built.weights.assertComplete();
  return runtime.createSession({ model: built.builder.toBytes(name), externalDataFolder: weightsFolder(folder), device });
}

export class ImageProjection {
  private constructor(
    private readonly session: OrtSession,
    readonly config: ResamplerConfig,
  ) {}

  static async load(runtime: OrtRuntime, folder: string, device: Device): Promise<ImageProjection> {
    const config = readComponentConfig(folder, ResamplerConfigSchema);
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
    const config = readComponentConfig(folder, ClipVisionConfigSchema);
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
