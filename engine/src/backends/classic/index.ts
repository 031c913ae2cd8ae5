/**
 * The classic backend: plans a drawing process on the CPU from the image itself (no model download)
 * and renders any step of it. Prepared plans and their renderers are kept in a small LRU keyed by
 * (image id, seed), so frame, keyframes, timelapse and layers on the same image plan only once.
 */
import type {
  Backend,
  BackendCapabilities,
  FrameRequest,
  InterpolateRequest,
  JobContext,
  Keyframe,
  KeyframesRequest,
  LayersRequest,
  LayerStack,
  SourceImage,
  TimelapseRequest,
} from '../../core/backend.js';
import { cancelledError, isPaintsUndoError, throwIfCancelled } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import { TimelineRenderer } from '../../core/renderer.js';
import { timelapseSteps } from '../../core/steps.js';
import type { Timeline } from '../../core/timeline.js';
import { interpolationCounts, planInterpolation } from './interpolate.js';
import { CLASSIC_VERSION, planSteps, type PlanOptions } from './planner.js';

export { planTimeline, planSteps, CLASSIC_VERSION, type PlanOptions, type PlanProgress } from './planner.js';
export { planInterpolation } from './interpolate.js';

export interface ClassicBackendOptions {
  /** Prepared plans kept in memory (each holds full-resolution layers and snapshots). Default 2. */
  readonly cacheSize?: number;
  /** Snapshot memory per renderer (see RendererOptions). */
  readonly snapshotBudgetBytes?: number;
  readonly plan?: PlanOptions;
}

interface Prepared {
  readonly timeline: Timeline;
  readonly renderer: TimelineRenderer;
}

/** Share of a call's progress that planning takes when the plan is not cached yet. */
const PLAN_SHARE = 0.5;
const PREVIEW_LONG_SIDE = 160;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A small nearest-neighbour preview for progress events. */
export function previewOf(image: RgbImage, longSide = PREVIEW_LONG_SIDE): RgbImage {
  const f = Math.max(1, Math.max(image.width, image.height) / longSide);
  const w = Math.max(1, Math.round(image.width / f));
  const h = Math.max(1, Math.round(image.height / f));
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(image.height - 1, Math.floor((y + 0.5) * f));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(image.width - 1, Math.floor((x + 0.5) * f));
      const s = (sy * image.width + sx) * 3;
      const d = (y * w + x) * 3;
      out[d] = image.data[s]!;
      out[d + 1] = image.data[s + 1]!;
      out[d + 2] = image.data[s + 2]!;
    }
  }
  return { width: w, height: h, channels: 3, data: out };
}

class ClassicBackend implements Backend {
  readonly id = 'classic';
  readonly displayName = 'Classic (CPU, no model download)';
  readonly version = CLASSIC_VERSION;
  readonly capabilities: BackendCapabilities = {
    frame: true,
    keyframes: true,
    interpolate: true,
    timelapse: true,
    layers: true,
    preview: true,
    device: 'cpu',
  };

  private readonly cache = new Map<string, Promise<Prepared>>();
  private readonly cacheSize: number;
  private readonly options: ClassicBackendOptions;

  constructor(options: ClassicBackendOptions = {}) {
    this.options = options;
    this.cacheSize = Math.max(1, options.cacheSize ?? 2);
  }

  /** The timeline for (source, seed), planned once and kept in the LRU. */
  async timeline(source: SourceImage, seed: number, context: JobContext): Promise<Timeline> {
    return (await this.prepare(source, seed, context)).timeline;
  }

  private async prepare(source: SourceImage, seed: number, context: JobContext): Promise<Prepared> {
    throwIfCancelled(context.signal);
    const key = `${source.id}:${seed}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      try {
        return await cached;
      } catch (error) {
        // Someone else's cancelled planning is no reason to fail this call: plan again.
        if (!(isPaintsUndoError(error) && error.code === 'CANCELLED') || context.signal.aborted) throw error;
      }
    }
    const promise = this.plan(source, seed, context);
    this.cache.set(key, promise);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    promise.catch(() => {
      if (this.cache.get(key) === promise) this.cache.delete(key);
    });
    return promise;
  }

  private async plan(source: SourceImage, seed: number, context: JobContext): Promise<Prepared> {
    const steps = planSteps(source, seed, this.options.plan ?? {}, context.signal);
    let result: Timeline;
    while (true) {
      await yieldToLoop();
      const r = steps.next();
      if (r.done) {
        result = r.value;
        break;
      }
      context.onProgress({ fraction: r.value.fraction * PLAN_SHARE, stage: r.value.stage, message: r.value.message });
    }
    const rendererOptions = this.options.snapshotBudgetBytes === undefined ? {} : { snapshotBudgetBytes: this.options.snapshotBudgetBytes };
    return { timeline: result, renderer: new TimelineRenderer(result, rendererOptions) };
  }

  async frame(request: FrameRequest, context: JobContext): Promise<RgbImage> {
    const { renderer } = await this.prepare(request.source, request.seed, context);
    throwIfCancelled(context.signal);
    const image = renderer.renderStep(request.step);
    context.onProgress({ fraction: 1, stage: 'rendering', preview: previewOf(image) });
    return image;
  }

  async keyframes(request: KeyframesRequest, context: JobContext): Promise<Keyframe[]> {
    const { renderer } = await this.prepare(request.source, request.seed, context);
    // Render from blank towards finished (replay forward), return in the requested order.
    const order = [...new Set(request.steps)].sort((p, q) => q - p);
    const images = new Map<number, RgbImage>();
    for (let k = 0; k < order.length; k++) {
      throwIfCancelled(context.signal);
      const step = order[k]!;
      const image = renderer.renderStep(step);
      images.set(step, image);
      context.onProgress({
        fraction: PLAN_SHARE + ((1 - PLAN_SHARE) * (k + 1)) / order.length,
        stage: 'rendering',
        message: `step ${step}`,
        preview: previewOf(image),
      });
      await yieldToLoop();
    }
    return request.steps.map((step) => ({ step, image: images.get(step)! }));
  }

  async interpolate(request: InterpolateRequest, context: JobContext): Promise<RgbImage[]> {
    throwIfCancelled(context.signal);
    context.onProgress({ fraction: 0, stage: 'planning' });
    await yieldToLoop();
    const timeline = planInterpolation(request.from, request.to, request.seed, context.signal);
    const renderer = new TimelineRenderer(timeline);
    const counts = interpolationCounts(request.frames);
    const out: RgbImage[] = [];
    for (let k = 0; k < counts.length; k++) {
      throwIfCancelled(context.signal);
      renderer.seek(counts[k]!);
      const image = renderer.currentCanvas();
      out.push(image);
      context.onProgress({ fraction: PLAN_SHARE + ((1 - PLAN_SHARE) * (k + 1)) / counts.length, stage: 'rendering', preview: previewOf(image) });
      await yieldToLoop();
    }
    return out;
  }

  timelapse(request: TimelapseRequest, context: JobContext): AsyncIterable<RgbImage> {
    const prepare = (): Promise<Prepared> => this.prepare(request.source, request.seed, context);
    const steps = timelapseSteps(request.frames, request.direction);
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<RgbImage> {
        const { renderer } = await prepare();
        const previewEvery = Math.max(1, Math.round(steps.length / 20));
        for (let k = 0; k < steps.length; k++) {
          if (context.signal.aborted) throw cancelledError();
          const image = renderer.renderStep(steps[k]!);
          context.onProgress({
            fraction: PLAN_SHARE + ((1 - PLAN_SHARE) * (k + 1)) / steps.length,
            stage: 'rendering',
            message: `frame ${k + 1} of ${steps.length}`,
            ...(k % previewEvery === 0 ? { preview: previewOf(image) } : {}),
          });
          yield image;
        }
      },
    };
  }

  async layers(request: LayersRequest, context: JobContext): Promise<LayerStack> {
    const { timeline, renderer } = await this.prepare(request.source, request.seed, context);
    throwIfCancelled(context.signal);
    const images = renderer.layerImages(0);
    context.onProgress({ fraction: 1, stage: 'rendering' });
    return {
      width: timeline.width,
      height: timeline.height,
      layers: images
        .filter((l) => l.spec.exported)
        .map((l) => ({ id: l.spec.id, name: l.spec.name, blend: l.spec.blend, visible: l.visible, image: l.image })),
    };
  }

  async dispose(): Promise<void> {
    this.cache.clear();
  }
}

export function createClassicBackend(options: ClassicBackendOptions = {}): Backend {
  return new ClassicBackend(options);
}
