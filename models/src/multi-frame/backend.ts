/**
 * Backend "paintsundo": the whole official PaintsUndo pipeline.
 * 1. Key frames from the single-frame model (operation steps 400, 600, 800, 900, 950, 999 by default),
 *    framed by the input (resized like the official `fg`) and a white canvas.
 * 2. The multi-frame model between each consecutive pair (seed + i for pair i), 16 frames each.
 * 3. Segments joined without duplicated frames (each segment's last frame is the next one's first),
 *    reversed into drawing order, resampled to the requested frame count and streamed as produced.
 * Residency (the official app does the same with its memory manager): the single-frame sessions are
 * released after the key frames; the text and image encoders then compute every segment's conditions and
 * are released; only the VAE and the 3D UNet stay loaded while sampling and decoding. On CPU it refuses with a time estimate unless
 * allowed explicitly (option `allowCpu` or PAINTS_UNDO_ALLOW_CPU=1).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  Backend,
  BackendCapabilities,
  FrameRequest,
  InterpolateRequest,
  JobContext,
  Keyframe,
  KeyframesRequest,
  LayerStack,
  LayersRequest,
  TimelapseRequest,
} from '../../../engine/src/core/backend.js';
import { PaintsUndoError, throwIfCancelled } from '../../../engine/src/core/errors.js';
import { createRgb } from '../../../engine/src/core/image.js';
import type { RgbImage } from '../../../engine/src/core/image.js';
import { DEFAULT_KEYFRAME_STEPS } from '../../../engine/src/core/steps.js';
import { createSingleFrameBackend } from '../backends/single-frame.js';
import type { SingleFrameBackend, SingleFrameBackendOptions } from '../backends/single-frame.js';
import { resolveModelsDir } from '../manifest.js';
import { resizeAndCenterCrop, resizeArea } from '../preprocess/resize.js';
import { OrtRuntime, defaultDevice } from '../runtime/onnxruntime.js';
import type { Device } from '../runtime/onnxruntime.js';
import { ASSUMED_CPU_FLOPS, unet3dFlops } from './flops.js';
import { MULTI_FRAME_SNAPSHOT, multiFrameDownloadCommand, multiFrameSnapshotFolder } from './manifest.js';
import {
  MULTI_FRAME_DEFAULTS,
  encodePairConditions,
  encodeTextConditions,
  loadMultiFrameEncoders,
  loadMultiFrameVideoModels,
  releaseMultiFrameEncoders,
  releaseMultiFrameVideoModels,
  sampleVideo,
} from './pipeline.js';
import type { MultiFrameEncoders, MultiFrameVideoModels, PairConditions, TextConditions } from './pipeline.js';
import { MF_BUCKETS, findBestBucket } from './preprocess.js';
import { readConfig } from '../components.js';
import { Unet3dConfigSchema } from './unet3d.js';

export const PAINTSUNDO_BACKEND_ID = 'paintsundo';
export const ALLOW_CPU_ENV = 'PAINTS_UNDO_ALLOW_CPU';

export interface PaintsUndoBackendOptions {
  readonly modelsDir?: string;
  readonly device?: Device | 'auto';
  /** Run on the CPU although it takes hours (else: an error with the estimate). */
  readonly allowCpu?: boolean;
  /** Video sampler steps (official 50), CFG (7.5), frame-stride condition (3), prompt. */
  readonly steps?: number;
  readonly cfg?: number;
  readonly fs?: number;
  readonly prompt?: string;
  /** Key-frame operation steps (official 400, 600, 800, 900, 950, 999). */
  readonly keyframeSteps?: readonly number[];
  /** Video size (height, width) instead of the official bucket (tiny test models). */
  readonly bucket?: readonly [number, number];
  /** Options of the single-frame stage (steps, size, prompt...). */
  readonly singleFrame?: Omit<SingleFrameBackendOptions, 'modelsDir' | 'device' | 'warn'>;
  readonly idleReleaseMs?: number;
  readonly warn?: (message: string) => void;
}

const CAPABILITIES: BackendCapabilities = {
  frame: true,
  keyframes: true,
  interpolate: true,
  timelapse: true,
  layers: false,
  preview: false,
  device: 'gpu',
};

/** Frames per multi-frame segment minus the one shared with the next segment. */
function segmentStride(videoLength: number): number {
  return videoLength - 1;
}

/** Index into an M-frame sequence for output frame j of n (first and last included). */
export function resampleIndex(j: number, n: number, m: number): number {
  return n === 1 ? m - 1 : Math.round((j * (m - 1)) / (n - 1));
}

export class PaintsUndoBackend implements Backend {
  readonly id = PAINTSUNDO_BACKEND_ID;
  readonly displayName = 'PaintsUndo (official single-frame + multi-frame models)';
  /** Part of every cache key: the video settings that change pictures, plus the key-frame stage's version. */
  readonly version: string;
  readonly capabilities: BackendCapabilities;

  private readonly options: PaintsUndoBackendOptions;
  private readonly modelsDir: string;
  private readonly device: Device;
  private readonly singleFrame: SingleFrameBackend;
  private runtime: OrtRuntime | undefined;
  private video: Promise<MultiFrameVideoModels> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: PaintsUndoBackendOptions = {}) {
    this.options = options;
    this.modelsDir = resolveModelsDir(options.modelsDir).dir;
    this.device = options.device === undefined || options.device === 'auto' ? defaultDevice() : options.device;
    this.capabilities = { ...CAPABILITIES, device: this.device === 'cuda' ? 'gpu' : 'cpu' };
    this.singleFrame = createSingleFrameBackend({
      ...options.singleFrame,
      modelsDir: this.modelsDir,
      device: this.device,
      ...(options.warn !== undefined ? { warn: options.warn } : {}),
      ...(options.idleReleaseMs !== undefined ? { idleReleaseMs: options.idleReleaseMs } : {}),
    });
    const settings = JSON.stringify([options.steps, options.cfg, options.fs, options.prompt, options.keyframeSteps, options.bucket, this.singleFrame.version]);
    this.version = `paintsundo-1+${createHash('sha256').update(settings).digest('hex').slice(0, 12)}`;
  }

  private snapshot(): string {
    const folder = multiFrameSnapshotFolder(this.modelsDir);
    const missing = MULTI_FRAME_SNAPSHOT.components.flatMap((c) => c.files.map((f) => join(c.folder, f))).filter((f) => !existsSync(join(folder, f)));
    if (missing.length > 0) {
      const command = multiFrameDownloadCommand(join(this.modelsDir, MULTI_FRAME_SNAPSHOT.folder));
      throw new PaintsUndoError('MODEL_MISSING', `The PaintsUndo multi-frame model is not in ${folder} (missing: ${missing.join(', ')}).`, {
        hint: `Run \`paints-undo models verify ${this.modelsDir}\`; on a connected machine: ${command}`,
        details: { folder, missing, commands: [command] },
      });
    }
    return folder;
  }

  /** Rough CPU duration of a whole timelapse: sampler steps x segments x one guided UNet forward. */
  estimateCpuSeconds(width: number, height: number): number {
    const unet = readConfig(join(this.snapshot(), 'unet'), Unet3dConfigSchema);
    const [bh, bw] = this.options.bucket ?? findBestBucket(height, width, MF_BUCKETS);
    const flops = unet3dFlops(unet, {
      batch: 2,
      frames: unet.temporal_length,
      latentHeight: bh / 8,
      latentWidth: bw / 8,
      textTokens: 77,
      imageTokens: 16,
    });
    const segments = (this.options.keyframeSteps ?? DEFAULT_KEYFRAME_STEPS).length + 1;
    return (segments * (this.options.steps ?? MULTI_FRAME_DEFAULTS.steps) * flops) / ASSUMED_CPU_FLOPS;
  }

  private checkDevice(source: RgbImage): void {
    if (this.device !== 'cpu' || this.options.allowCpu === true || process.env[ALLOW_CPU_ENV] === '1') return;
    const hours = this.estimateCpuSeconds(source.width, source.height) / 3600;
    const shown = hours >= 1 ? `about ${hours.toFixed(hours >= 10 ? 0 : 1)} hours` : `about ${Math.max(1, Math.round(hours * 60))} minutes`;
    throw new PaintsUndoError('UNSUPPORTED', `No GPU: the PaintsUndo video model on this CPU will take ${shown}; use --backend classic or a GPU.`, {
      hint: `Install the CUDA provider (see \`paints-undo doctor\`), or set ${ALLOW_CPU_ENV}=1 to run on the CPU anyway.`,
      details: { backend: PAINTSUNDO_BACKEND_ID, device: 'cpu', estimatedHours: hours },
    });
  }

  private getRuntime(): OrtRuntime {
    this.runtime ??= OrtRuntime.start();
    return this.runtime;
  }

  /** VAE + 3D UNet, kept between jobs until idle. */
  private loadVideoModels(): Promise<MultiFrameVideoModels> {
    if (this.video !== undefined) return this.video;
    const folder = this.snapshot();
    const loading = loadMultiFrameVideoModels(this.getRuntime(), (sub) => join(folder, sub), this.device);
    this.video = loading;
    loading.catch(() => {
      if (this.video === loading) this.video = undefined;
    });
    return loading;
  }

  /**
   * Text conditions once and image conditions of every pair, with the encoders loaded only for this and
   * released before sampling: the text and image encoders (about 2 GB in float16 for ViT-H and the SD2.1
   * text model) are never resident together with the 3D UNet.
   */
  private async conditions(pairs: readonly (readonly [RgbImage, RgbImage])[], signal: AbortSignal): Promise<{ text: TextConditions; pairs: PairConditions[] }> {
    const folder = this.snapshot();
    const encoders: MultiFrameEncoders = await loadMultiFrameEncoders(this.getRuntime(), (sub) => join(folder, sub), this.device);
    try {
      const text = await encodeTextConditions(encoders, this.options.prompt ?? MULTI_FRAME_DEFAULTS.prompt, MULTI_FRAME_DEFAULTS.negativePrompt);
      const out: PairConditions[] = [];
      for (const [first, second] of pairs) {
        throwIfCancelled(signal);
        out.push(await encodePairConditions(encoders, first, second, this.options.bucket));
      }
      return { text, pairs: out };
    } finally {
      await releaseMultiFrameEncoders(encoders);
    }
  }

  /** Releases the video model's sessions (GPU memory); the next job loads them again. */
  async releaseSessions(): Promise<void> {
    const video = this.video;
    this.video = undefined;
    const loaded = await video?.catch(() => undefined);
    if (loaded !== undefined) await releaseMultiFrameVideoModels(loaded);
  }

  private scheduleRelease(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.releaseSessions(), this.options.idleReleaseMs ?? 60_000);
    this.idleTimer.unref();
  }

  /** GPU backends run one job at a time; resolves with a release function. */
  private async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.queue;
    this.queue = previous.then(() => next);
    await previous;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    return release;
  }

  keyframes(request: KeyframesRequest, context: JobContext): AsyncIterable<Keyframe> {
    return this.singleFrame.keyframes(request, context);
  }

  frame(request: FrameRequest, context: JobContext): Promise<RgbImage> {
    return this.singleFrame.frame(request, context);
  }

  /** Frames from `from` (earlier state) to `to` (later state), both excluded, at the size of `to`. */
  async interpolate(request: InterpolateRequest, context: JobContext): Promise<RgbImage[]> {
    const unlock = await this.lock();
    try {
      this.checkDevice(request.to.image);
      context.onProgress({ fraction: 0, stage: 'conditioning', message: 'encoding the prompt and the two images' });
      // The model runs from the more finished state to the less finished one (the official key-frame order).
      const conditions = await this.conditions([[request.to.image, request.from.image]], context.signal);
      throwIfCancelled(context.signal);
      context.onProgress({ fraction: 0.05, stage: 'loading', message: 'loading the PaintsUndo video model' });
      const video = await this.loadVideoModels();
      const steps = this.options.steps ?? MULTI_FRAME_DEFAULTS.steps;
      const pair = conditions.pairs[0];
      if (pair === undefined) throw new PaintsUndoError('INTERNAL', 'No image conditions were computed.');
      const result = await sampleVideo(video, conditions.text, pair, {
        ...this.videoOptions(request.seed),
        hooks: {
          signal: context.signal,
          onStep: (done, total) => context.onProgress({ fraction: 0.05 + (0.9 * done) / total, stage: 'sampling', message: `step ${done} of ${steps}` }),
        },
      });
      const inner = [...result.frames].reverse().slice(1, -1);
      const { width, height } = request.to.image;
      const out: RgbImage[] = [];
      for (let j = 0; j < request.frames; j++) {
        const frame = inner[Math.round(((j + 1) * (inner.length + 1)) / (request.frames + 1)) - 1] ?? inner[inner.length - 1];
        if (frame === undefined) throw new PaintsUndoError('INTERNAL', 'The video model returned no frames.');
        out.push(resizeArea(frame, width, height));
      }
      context.onProgress({ fraction: 1, stage: 'done' });
      return out;
    } finally {
      this.scheduleRelease();
      unlock();
    }
  }

  private videoOptions(seed: number): { steps: number; cfg: number; fs: number; seed: number } {
    return {
      steps: this.options.steps ?? MULTI_FRAME_DEFAULTS.steps,
      cfg: this.options.cfg ?? MULTI_FRAME_DEFAULTS.cfg,
      fs: this.options.fs ?? MULTI_FRAME_DEFAULTS.fs,
      seed,
    };
  }

  timelapse(request: TimelapseRequest, context: JobContext): AsyncIterable<RgbImage> {
    return { [Symbol.asyncIterator]: () => this.generateTimelapse(request, context) };
  }

  private async *generateTimelapse(request: TimelapseRequest, context: JobContext): AsyncGenerator<RgbImage> {
    const unlock = await this.lock();
    try {
      const { signal } = context;
      const source = request.source.image;
      this.checkDevice(source);
      this.snapshot();
      const keyframeSteps = this.options.keyframeSteps ?? DEFAULT_KEYFRAME_STEPS;
      const segments = keyframeSteps.length + 1;
      const keyShare = 0.15;
      const keyframes = await this.singleFrame.generateKeyframes(
        { source: request.source, steps: keyframeSteps, seed: request.seed },
        { signal, onProgress: (p) => context.onProgress({ ...p, fraction: keyShare * p.fraction, stage: `keyframes: ${p.stage}` }) },
      );
      // Only one model resident at a time.
      await this.singleFrame.releaseSessions();
      throwIfCancelled(signal);
      const first = keyframes[0]?.image;
      if (first === undefined) throw new PaintsUndoError('INTERNAL', 'The single-frame model returned no key frames.');
      const sequence: RgbImage[] = [
        resizeAndCenterCrop(source, first.width, first.height),
        ...keyframes.map((k) => k.image),
        createRgb(first.width, first.height, 255),
      ];

      context.onProgress({ fraction: keyShare, stage: 'conditioning', message: 'encoding the prompt and the key frames' });
      const pairs = Array.from({ length: segments }, (_, i) => [sequence[i]!, sequence[i + 1]!] as const);
      const conditions = await this.conditions(pairs, signal);
      throwIfCancelled(signal);
      context.onProgress({ fraction: keyShare, stage: 'loading', message: 'loading the PaintsUndo video model' });
      const video = await this.loadVideoModels();
      const videoLength = conditions.pairs[0]?.frames ?? 16;
      const stride = segmentStride(videoLength);
      const total = segments * stride + 1;
      const steps = this.options.steps ?? MULTI_FRAME_DEFAULTS.steps;
      const draw = request.direction === 'draw';
      // Segment order: drawing order starts at the blank end (the last segment), reversed.
      const order = Array.from({ length: segments }, (_, i) => (draw ? segments - 1 - i : i));
      let emitted = 0;
      let produced: RgbImage[] = [];
      let producedOffset = 0;
      for (const [k, i] of order.entries()) {
        throwIfCancelled(signal);
        const pair = conditions.pairs[i];
        if (pair === undefined) throw new PaintsUndoError('INTERNAL', `No image conditions for segment ${i}.`);
        const result = await sampleVideo(video, conditions.text, pair, {
          ...this.videoOptions(request.seed + i),
          hooks: {
            signal,
            onStep: (done) =>
              context.onProgress({
                fraction: keyShare + ((1 - keyShare) * (k * steps + done)) / (segments * steps),
                stage: 'interpolating',
                message: `segment ${k + 1} of ${segments}, step ${done} of ${steps}`,
              }),
          },
        });
        // Official order within a segment: key frame i (more finished) -> key frame i+1; the shared last
        // frame is dropped except at the blank end, which has no next segment.
        const keep = i === segments - 1 ? result.frames : result.frames.slice(0, stride);
        const piece = draw ? [...keep].reverse() : keep;
        produced = produced.concat(piece);
        // Emit every output frame whose source index is now available.
        while (emitted < request.frames) {
          const index = resampleIndex(emitted, request.frames, total);
          if (index >= producedOffset + produced.length) break;
          const frame = produced[index - producedOffset];
          if (frame === undefined) throw new PaintsUndoError('INTERNAL', `timelapse frame ${index} is missing`);
          yield resizeArea(frame, source.width, source.height);
          emitted++;
        }
        // Frames before the next needed index are no longer needed.
        const end = producedOffset + produced.length;
        const keepFrom = emitted < request.frames ? Math.min(resampleIndex(emitted, request.frames, total), end) : end;
        produced = produced.slice(keepFrom - producedOffset);
        producedOffset = keepFrom;
      }
      if (emitted !== request.frames) throw new PaintsUndoError('INTERNAL', `The timelapse produced ${emitted} of ${request.frames} frames.`);
      context.onProgress({ fraction: 1, stage: 'done' });
    } finally {
      this.scheduleRelease();
      unlock();
    }
  }

  layers(_request: LayersRequest, _context: JobContext): Promise<LayerStack> {
    return Promise.reject(
      new PaintsUndoError('UNSUPPORTED', 'The paintsundo backend does not offer layers.', {
        hint: 'Use --backend classic for layers.',
        details: { backend: PAINTSUNDO_BACKEND_ID, operation: 'layers' },
      }),
    );
  }

  async dispose(): Promise<void> {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    await this.releaseSessions();
    await this.singleFrame.dispose();
    await this.runtime?.dispose();
    this.runtime = undefined;
  }
}

export function createPaintsUndoBackend(options: PaintsUndoBackendOptions = {}): PaintsUndoBackend {
  return new PaintsUndoBackend(options);
}
