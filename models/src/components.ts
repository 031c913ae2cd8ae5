/**
 * Loads a component folder (config.json + safetensors), builds its graph with the builders and opens an
 * onnxruntime session on it. The golden tests and the backend use exactly this code path.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { realpathSync } from 'node:fs';
import type { z } from 'zod';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import type { ComputeDtype } from './graph/builder.js';
import { ClipTextConfigSchema, buildClipText } from './graph/clip-text.js';
import type { BuiltGraph } from './graph/clip-text.js';
import { VaeConfigSchema, buildVaeDecoder, buildVaeEncoder } from './graph/vae.js';
import type { VaeConfig } from './graph/vae.js';
import { UnetConfigSchema, buildUnet } from './graph/unet.js';
import type { UnetConfig } from './graph/unet.js';
import { sourceFromHeader } from './graph/weights.js';
import type { WeightSource } from './graph/weights.js';
import { readSafetensorsHeader } from './safetensors.js';
import { float32Tensor, int64Tensor, outputFloat32 } from './runtime/onnxruntime.js';
import type { Device, OrtRuntime, OrtSession } from './runtime/onnxruntime.js';

export function readConfig<T>(folder: string, schema: z.ZodType<T>): T {
  const path = join(folder, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new PaintsUndoError('MODEL_MISSING', `Cannot read ${path}.`, {
      hint: 'Run `paints-undo models verify <dir>` to see which files are missing and how to download them.',
      details: { path },
      cause,
    });
  }
  return parseConfig(raw, schema, path);
}

/** Validates a parsed config.json; `label` names it in the error (a path or a component). */
export function parseConfig<T>(raw: unknown, schema: z.ZodType<T>, label: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new PaintsUndoError('MODEL_MISSING', `${label} is not a config this model supports (${problems.join('; ')}).`, {
      hint: 'Check that the folder is the right component of the model snapshot; `paints-undo models verify <dir>` reports what is wrong.',
      details: { config: label, problems },
    });
  }
  return parsed.data;
}

/** The weights file of a component folder: diffusers' name first, then transformers'. */
export const WEIGHT_FILES = ['diffusion_pytorch_model.safetensors', 'model.safetensors'] as const;

export function openWeights(folder: string): WeightSource {
  for (const name of WEIGHT_FILES) {
    const path = join(folder, name);
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      continue;
    }
    return sourceFromHeader(readSafetensorsHeader(real), `${basename(folder)}/${name}`);
  }
  throw new PaintsUndoError('MODEL_MISSING', `No ${WEIGHT_FILES.join(' or ')} in ${folder}.`, {
    hint: 'Run `paints-undo models verify <dir>` to see which files are missing and how to download them.',
    details: { folder },
  });
}

/** The real folder holding the weights file (symlinks resolved: ORT refuses external data outside it). */
function weightsFolder(folder: string): string {
  for (const name of WEIGHT_FILES) {
    try {
      return dirname(realpathSync(join(folder, name)));
    } catch {
      continue;
    }
  }
  return folder;
}

export function dtypeFor(device: Device): ComputeDtype {
  return device === 'cuda' ? 'float16' : 'float32';
}

export interface LoadOptions {
  /**
   * Attention as com.microsoft.MultiHeadAttention. Default: on CUDA (flash / memory-efficient kernels),
   * off on CPU, where the plain graph is the reference the golden tests hold to their tightest tolerance.
   */
  readonly fusedAttention?: boolean;
}

function fused(device: Device, options: LoadOptions): boolean {
  return options.fusedAttention ?? device === 'cuda';
}

async function open(runtime: OrtRuntime, folder: string, built: BuiltGraph, name: string, device: Device): Promise<OrtSession> {
  built.weights.assertComplete();
  return runtime.createSession({ model: built.builder.toBytes(name), externalDataFolder: weightsFolder(folder), device });
}

export class ClipTextEncoder {
  constructor(
    private readonly session: OrtSession,
    readonly hidden: number,
    readonly length: number,
    /** Token ids it has embeddings for: 0 to vocabSize - 1. */
    readonly vocabSize: number,
  ) {}

  static async load(runtime: OrtRuntime, folder: string, device: Device): Promise<ClipTextEncoder> {
    const config = readConfig(folder, ClipTextConfigSchema);
    const built = buildClipText(config, openWeights(folder), dtypeFor(device));
    const session = await open(runtime, folder, built, 'clip_text', device);
    return new ClipTextEncoder(session, config.hidden_size, config.max_position_embeddings, config.vocab_size);
  }

  /**
   * last_hidden_state [batch, length, hidden] for rows of `length` token ids. An id past the vocabulary
   * (a tokenizer from another model than this text encoder) is refused before the model looks it up.
   */
  async encode(ids: readonly (readonly number[])[]): Promise<Float32Array> {
    const flat = ids.flat();
    const outside = flat.find((id) => !Number.isInteger(id) || id < 0 || id >= this.vocabSize);
    if (outside !== undefined) {
      throw new PaintsUndoError('MODEL_MISSING', `The tokenizer gave token id ${outside}, but the text encoder has embeddings for ids 0 to ${this.vocabSize - 1} only: the tokenizer and text_encoder folders are from different models.`, {
        hint: 'Download the tokenizer and text_encoder folders of the same snapshot again; `paints-undo models verify` checks them.',
        details: { tokenId: outside, vocabSize: this.vocabSize },
      });
    }
    const out = await this.session.run({ input_ids: int64Tensor(flat, [ids.length, this.length]) });
    return outputFloat32(out, 'last_hidden_state');
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export class Vae {
  constructor(
    private readonly encoder: OrtSession,
    private readonly decoder: OrtSession,
    readonly config: VaeConfig,
  ) {}

  /** Spatial downscale factor between pixels and latents (2^(levels-1)). */
  get factor(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  static async load(runtime: OrtRuntime, folder: string, device: Device, options: LoadOptions = {}): Promise<Vae> {
    const config = readConfig(folder, VaeConfigSchema);
    const graph = { fusedAttention: fused(device, options) };
    // Like diffusers' force_upcast: the VAE stays float32 on CUDA unless its config allows float16.
    const dtype = config.force_upcast ? 'float32' : dtypeFor(device);
    const encoder = await open(runtime, folder, buildVaeEncoder(config, openWeights(folder), dtype, graph), 'vae_encoder', device);
    const decoder = await open(runtime, folder, buildVaeDecoder(config, openWeights(folder), dtype, graph), 'vae_decoder', device);
    return new Vae(encoder, decoder, config);
  }

  /** latent_dist.mode() for pixels in [-1, 1], NCHW. */
  async encode(pixels: Float32Array, dims: readonly [number, number, number, number]): Promise<Float32Array> {
    return outputFloat32(await this.encoder.run({ pixels: float32Tensor(pixels, dims) }), 'latent_mode');
  }

  async decode(latents: Float32Array, dims: readonly [number, number, number, number]): Promise<Float32Array> {
    return outputFloat32(await this.decoder.run({ latents: float32Tensor(latents, dims) }), 'sample');
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }
}

export interface UnetInputs {
  /** [B, C, h, w] noisy latents (already divided by sqrt(sigma^2 + 1)). */
  readonly sample: Float32Array;
  readonly dims: readonly [number, number, number, number];
  /** [B] timesteps. */
  readonly timesteps: readonly number[];
  /** [B, L, D] text conditioning. */
  readonly context: Float32Array;
  readonly contextDims: readonly [number, number, number];
  /** [1 or B, C', h, w] concat condition (a batch of 1 is shared by every sample). */
  readonly concat: Float32Array;
  readonly concatDims: readonly [number, number, number, number];
  /** [1 or B] operation steps (the "coded" condition). */
  readonly coded: readonly number[];
}

export class Unet {
  constructor(
    private readonly session: OrtSession,
    readonly config: UnetConfig,
  ) {}

  static async load(runtime: OrtRuntime, folder: string, device: Device, options: LoadOptions = {}): Promise<Unet> {
    const config = readConfig(folder, UnetConfigSchema);
    const built = buildUnet(config, openWeights(folder), dtypeFor(device), { fusedAttention: fused(device, options) });
    const session = await open(runtime, folder, built, 'unet', device);
    return new Unet(session, config);
  }

  async run(inputs: UnetInputs): Promise<Float32Array> {
    const [b] = inputs.dims;
    const out = await this.session.run({
      sample: float32Tensor(inputs.sample, inputs.dims),
      timestep: int64Tensor(inputs.timesteps, [b]),
      encoder_hidden_states: float32Tensor(inputs.context, inputs.contextDims),
      concat_conds: float32Tensor(inputs.concat, inputs.concatDims),
      coded_conds: int64Tensor(inputs.coded, [inputs.coded.length]),
    });
    return outputFloat32(out, 'eps');
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
