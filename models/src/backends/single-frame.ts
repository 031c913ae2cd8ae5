/**
 * Backend "paintsundo-single": the official PaintsUndo single-frame model. Undo frames and keyframes
 * (several operation steps in one batch, one shared noise), progress per sampler step, cancellation
 * between steps. Sessions are loaded on first use and released after an idle period, so the engine
 * holds GPU memory only while it works. Without the CUDA provider it runs on CPU, with a warning.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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
import { PaintsUndoError, isPaintsUndoError, throwIfCancelled } from '../../../engine/src/core/errors.js';
import type { RgbImage } from '../../../engine/src/core/image.js';
import { ClipTextEncoder, Unet, Vae } from '../components.js';
import { SINGLE_FRAME_SNAPSHOT, WD14_TAGGER, downloadCommands, resolveModelsDir, snapshotFolder, taggerFolder } from '../manifest.js';
import { SINGLE_FRAME_DEFAULTS, generateKeyframes } from '../pipeline/single-frame.js';
import type { SingleFrameModels } from '../pipeline/single-frame.js';
import { findBestBucket } from '../preprocess/resize.js';
import { OrtRuntime, defaultDevice, float32Tensor, outputFloat32 } from '../runtime/onnxruntime.js';
import type { Device, OrtSession } from '../runtime/onnxruntime.js';
import { formatTags, parseTagCsv, wd14Input } from '../tagger/wd14.js';
import { ClipTokenizer } from '../tokenizer/clip.js';

export const SINGLE_FRAME_BACKEND_ID = 'paintsundo-single';

/**
 * Sizes (height, width) near the official 512x640 default (multiples of 64, about the same pixel count);
 * the bucket nearest the input's aspect ratio is used, as find_best_bucket does for the video model.
 */
export const SINGLE_FRAME_BUCKETS: readonly (readonly [number, number])[] = [
  [768, 448],
  [704, 448],
  [640, 512],
  [576, 576],
  [512, 640],
  [448, 704],
  [448, 768],
];

export interface SingleFrameBackendOptions {
  /** Models folder (default: PAINTS_UNDO_MODELS, then the per-user data folder). */
  readonly modelsDir?: string;
  /** 'auto' (default): CUDA when it starts, else CPU with a warning. An explicit device never falls back. */
  readonly device?: Device | 'auto';
  /** How 'auto' picks the first device to try (default: CUDA when its provider library is installed). */
  readonly autoDevice?: () => Device;
  /** Sampler steps (official default 50). */
  readonly steps?: number;
  readonly cfg?: number;
  /** Prompt; when absent the WD14 tagger writes it if installed, else the empty prompt. */
  readonly prompt?: string;
  readonly negativePrompt?: string;
  /** Fixed output size instead of the nearest bucket (tiny test models use small sizes). */
  readonly size?: { readonly width: number; readonly height: number };
  /**
   * Most samples per UNet call. Default: the whole batch with fused attention (CUDA), else 2 (one operation
   * step's guidance pair), since plain attention holds batch x heads x L x L scores.
   */
  readonly unetBatch?: number;
  /** com.microsoft.MultiHeadAttention in the UNet and VAE (default: on CUDA). */
  readonly fusedAttention?: boolean;
  /** Release sessions after this many ms without work (default 60 s). */
  readonly idleReleaseMs?: number;
  readonly warn?: (message: string) => void;
}

const CAPABILITIES: BackendCapabilities = {
  frame: true,
  keyframes: true,
  interpolate: false,
  timelapse: false,
  layers: false,
  preview: false,
  device: 'gpu',
};

export class SingleFrameBackend implements Backend {
  readonly id = SINGLE_FRAME_BACKEND_ID;
  readonly displayName = 'PaintsUndo single-frame model (official weights)';

  private readonly options: SingleFrameBackendOptions;
  private readonly modelsDir: string;
  private device: Device;
  private readonly autoDevice: boolean;
  private fusedAttention: boolean;
  private runtime: OrtRuntime | undefined;
  private models: Promise<SingleFrameModels> | undefined;
  private tagger: Promise<{ session: OrtSession; csv: ReturnType<typeof parseTagCsv> } | undefined> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private warned = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: SingleFrameBackendOptions = {}) {
    this.options = options;
    this.modelsDir = resolveModelsDir(options.modelsDir).dir;
    const chosen = options.device ?? 'auto';
    this.autoDevice = chosen === 'auto';
    this.device = chosen === 'auto' ? (options.autoDevice ?? defaultDevice)() : chosen;
    this.fusedAttention = options.fusedAttention ?? this.device === 'cuda';
  }

  get capabilities(): BackendCapabilities {
    return { ...CAPABILITIES, device: this.device === 'cuda' ? 'gpu' : 'cpu' };
  }

  /** Part of every cache key: the settings that change pictures, the device (float16 vs 32) and the models folder. */
  get version(): string {
    const o = this.options;
    const settings = JSON.stringify([o.steps, o.cfg, o.prompt, o.negativePrompt, o.size, this.device, this.modelsDir, this.fusedAttention]);
    return `paintsundo-single-1+${createHash('sha256').update(settings).digest('hex').slice(0, 12)}`;
  }

  private warn(message: string): void {
    (this.options.warn ?? ((m: string) => process.stderr.write(`paints-undo: warning: ${m}\n`)))(message);
  }

  private snapshot(): string {
    const folder = snapshotFolder(this.modelsDir);
    const missing = SINGLE_FRAME_SNAPSHOT.components.flatMap((c) => c.files.map((f) => join(c.folder, f))).filter((f) => !existsSync(join(folder, f)));
    if (missing.length > 0) {
      throw new PaintsUndoError('MODEL_MISSING', `The PaintsUndo single-frame model is not in ${folder} (missing: ${missing.join(', ')}).`, {
        hint: `Run \`paints-undo models verify ${this.modelsDir}\`; on a connected machine: ${downloadCommands(this.modelsDir)[1] ?? ''}`,
        details: { folder, missing, commands: downloadCommands(this.modelsDir) },
      });
    }
    return folder;
  }

  private getRuntime(): OrtRuntime {
    this.runtime ??= OrtRuntime.start();
    return this.runtime;
  }

  private loadModels(): Promise<SingleFrameModels> {
    if (this.models !== undefined) return this.models;
    const folder = this.snapshot();
    const loading = this.loadOn(folder).catch(async (error: unknown) => {
      // 'auto' chose CUDA but it does not start (missing CUDA/cuDNN libraries, no driver): use the CPU.
      if (!this.autoDevice || this.device !== 'cuda' || (isPaintsUndoError(error) && error.code === 'MODEL_MISSING')) throw error;
      this.warn(`CUDA did not start (${(error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''}); falling back to the CPU. Run \`paints-undo doctor\`.`);
      this.device = 'cpu';
      this.fusedAttention = this.options.fusedAttention ?? false;
      return this.loadOn(folder);
    });
    this.models = loading;
    loading.catch(() => {
      if (this.models === loading) this.models = undefined;
    });
    return loading;
  }

  private async loadOn(folder: string): Promise<SingleFrameModels> {
    if (this.device === 'cpu' && !this.warned) {
      this.warned = true;
      this.warn(
        'running the PaintsUndo model on the CPU: expect minutes per keyframe batch. Install the CUDA provider for speed (see `paints-undo doctor`).',
      );
    }
    const runtime = this.getRuntime();
    const load = { fusedAttention: this.fusedAttention };
    const loaded: { textEncoder?: ClipTextEncoder; vae?: Vae; unet?: Unet } = {};
    try {
      loaded.textEncoder = await ClipTextEncoder.load(runtime, join(folder, 'text_encoder'), this.device);
      loaded.vae = await Vae.load(runtime, join(folder, 'vae'), this.device, load);
      loaded.unet = await Unet.load(runtime, join(folder, 'unet'), this.device, load);
      return { tokenizer: ClipTokenizer.fromFolder(join(folder, 'tokenizer')), textEncoder: loaded.textEncoder, vae: loaded.vae, unet: loaded.unet };
    } catch (error) {
      // Do not leak the sessions that did open.
      await loaded.textEncoder?.release();
      await loaded.vae?.release();
      await loaded.unet?.release();
      throw error;
    }
  }

  private loadTagger(): Promise<{ session: OrtSession; csv: ReturnType<typeof parseTagCsv> } | undefined> {
    if (this.tagger !== undefined) return this.tagger;
    const folder = taggerFolder(this.modelsDir);
    const onnx = join(folder, WD14_TAGGER.onnx);
    const csv = join(folder, WD14_TAGGER.csv);
    if (!existsSync(onnx) || !existsSync(csv)) {
      this.tagger = Promise.resolve(undefined);
      return this.tagger;
    }
    // The tagger is a plain ONNX file; the official code runs it on CPU. A file onnxruntime cannot load is
    // the user's to replace (MODEL_MISSING), and is tried again by the next job once they have.
    this.tagger = (async () => {
      try {
        return {
          session: await this.getRuntime().createSession({ model: readFileSync(onnx), externalDataFolder: folder, device: 'cpu' }),
          csv: parseTagCsv(readFileSync(csv, 'utf8')),
        };
      } catch (cause) {
        this.tagger = undefined;
        throw new PaintsUndoError('MODEL_MISSING', `The WD14 tagger in ${folder} cannot be loaded: ${cause instanceof Error ? cause.message : String(cause)}.`, {
          hint: 'Download the tagger files again (`paints-undo models verify <dir>` shows how), remove them to run without a prompt, or set PAINTS_UNDO_PROMPT.',
          details: { path: onnx },
          cause,
        });
      }
    })();
    return this.tagger;
  }

  /** The prompt: the option, else the WD14 tags of the image, else "" (the official app needs the tagger too). */
  async prompt(image: RgbImage): Promise<string> {
    if (this.options.prompt !== undefined) return this.options.prompt;
    const tagger = await this.loadTagger();
    if (tagger === undefined) return '';
    const size = WD14_TAGGER.inputSize;
    const input = tagger.session.inputNames[0] ?? 'input';
    const output = tagger.session.outputNames[0] ?? 'output';
    const probs = outputFloat32(await tagger.session.run({ [input]: float32Tensor(wd14Input(image, size), [1, size, size, 3]) }), output);
    return formatTags(tagger.csv, probs);
  }

  private size(image: RgbImage): { width: number; height: number } {
    if (this.options.size !== undefined) return this.options.size;
    const [height, width] = findBestBucket(image.height, image.width, SINGLE_FRAME_BUCKETS);
    return { width, height };
  }

  private scheduleRelease(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.releaseSessions(), this.options.idleReleaseMs ?? 60_000);
    this.idleTimer.unref();
  }

  /** Releases every session (GPU memory) but keeps the backend usable: the next job loads them again. */
  async releaseSessions(): Promise<void> {
    const models = this.models;
    const tagger = this.tagger;
    this.models = undefined;
    this.tagger = undefined;
    const loaded = await models?.catch(() => undefined);
    if (loaded !== undefined) {
      await loaded.textEncoder.release();
      await loaded.vae.release();
      await loaded.unet.release();
    }
    await (await tagger?.catch(() => undefined))?.session.release();
  }

  /** GPU backends run one job at a time. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  keyframes(request: KeyframesRequest, context: JobContext): AsyncIterable<Keyframe> {
    const generate = (): Promise<Keyframe[]> => this.generateKeyframes(request, context);
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<Keyframe> {
        // The model samples every keyframe in one batch; they are handed out once it is done.
        yield* await generate();
      },
    };
  }

  /** Every keyframe of `request`, sampled in one batch (in request order). */
  async generateKeyframes(request: KeyframesRequest, context: JobContext): Promise<Keyframe[]> {
    return this.exclusive(async () => {
      if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
      try {
        throwIfCancelled(context.signal);
        context.onProgress({ fraction: 0, stage: 'loading', message: 'loading the PaintsUndo single-frame model' });
        const models = await this.loadModels();
        throwIfCancelled(context.signal);
        context.onProgress({ fraction: 0.05, stage: 'prompting' });
        const prompt = await this.prompt(request.source.image);
        throwIfCancelled(context.signal);
        const { width, height } = this.size(request.source.image);
        const steps = this.options.steps ?? SINGLE_FRAME_DEFAULTS.steps;
        context.onProgress({ fraction: 0.1, stage: 'sampling', message: `step 0 of ${steps}` });
        const result = await generateKeyframes(models, request.source.image, {
          prompt,
          negativePrompt: this.options.negativePrompt ?? SINGLE_FRAME_DEFAULTS.negativePrompt,
          operationSteps: request.steps,
          width,
          height,
          steps,
          cfg: this.options.cfg ?? SINGLE_FRAME_DEFAULTS.cfg,
          seed: request.seed,
          unetBatch: this.options.unetBatch ?? (this.fusedAttention ? Number.MAX_SAFE_INTEGER : 2),
          hooks: {
            signal: context.signal,
            onStep: ({ i, total }) =>
              context.onProgress({ fraction: 0.1 + (0.8 * (i + 1)) / total, stage: 'sampling', message: `step ${i + 1} of ${total}` }),
          },
        });
        throwIfCancelled(context.signal);
        context.onProgress({ fraction: 1, stage: 'done' });
        return result.images.map((image, i) => ({ step: request.steps[i] ?? 0, image }));
      } finally {
        this.scheduleRelease();
      }
    });
  }

  async frame(request: FrameRequest, context: JobContext): Promise<RgbImage> {
    const [first] = await this.generateKeyframes({ source: request.source, steps: [request.step], seed: request.seed }, context);
    if (first === undefined) throw new PaintsUndoError('INTERNAL', 'The model returned no frame.');
    return first.image;
  }

  interpolate(_request: InterpolateRequest, _context: JobContext): Promise<RgbImage[]> {
    return Promise.reject(unsupported('interpolate'));
  }

  timelapse(_request: TimelapseRequest, _context: JobContext): AsyncIterable<RgbImage> {
    return {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(unsupported('timelapse')) }),
    };
  }

  layers(_request: LayersRequest, _context: JobContext): Promise<LayerStack> {
    return Promise.reject(unsupported('layers'));
  }

  async dispose(): Promise<void> {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    await this.releaseSessions();
    await this.runtime?.dispose();
    this.runtime = undefined;
  }
}

function unsupported(operation: string): PaintsUndoError {
  return new PaintsUndoError('UNSUPPORTED', `The paintsundo-single backend does not offer ${operation}.`, {
    hint: operation === 'layers' ? 'Use --backend classic for layers.' : 'Use --backend classic, or the multi-frame model backend when installed.',
    details: { backend: SINGLE_FRAME_BACKEND_ID, operation },
  });
}

export function createSingleFrameBackend(options: SingleFrameBackendOptions = {}): SingleFrameBackend {
  return new SingleFrameBackend(options);
}
