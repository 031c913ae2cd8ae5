/**
 * The classic backend: plans a drawing process on the CPU from the image itself (no model download)
 * and renders any step of it at any size. Prepared plans are kept in a small LRU keyed by (image id,
 * seed), so frame, keyframes, timelapse and layers on the same image plan only once; their renderers
 * per output size live in a memory-budgeted cache (views.ts). A prepared plan can be handed to the
 * backend of another worker thread (exportPlan / importPlan), which then renders without planning.
 * Calls that need a plan being made join it (its progress is theirs too), and it is cancelled only when
 * every call waiting for it is, so a plan started ahead (preparePlan, after an upload) is never made twice.
 */
import { isMainThread } from 'node:worker_threads';
import type {
  Backend,
  BackendCapabilities,
  BackendOptions,
  FrameBuffers,
  FrameRequest,
  InterpolateRequest,
  JobContext,
  Keyframe,
  KeyframesRequest,
  LayersRequest,
  LayerStack,
  SharedPlan,
  SourceImage,
  TimelapseRequest,
} from '../../core/backend.js';
import { quietContext } from '../../core/backend.js';
import { cancelledError, isPaintsUndoError, throwIfCancelled } from '../../core/errors.js';
import { outputSize, type RgbImage } from '../../core/image.js';
import { privateMemory } from '../../core/memory.js';
import { TimelineRenderer } from '../../core/renderer.js';
import { planBytes, preparePlan, type PreparedPlan } from '../../core/replay.js';
import { timelapseSteps } from '../../core/steps.js';
import type { Timeline } from '../../core/timeline.js';
import { CONTENTS_AHEAD_MIN_PIXELS, ContentsAhead } from './contents-ahead.js';
import { interpolationCounts, planInterpolation } from './interpolate.js';
import { CLASSIC_VERSION, planSteps, type PlanOptions } from './planner.js';
import { frameAt, RendererCache } from './views.js';
import { WARM_UP_FRAMES, WARM_UP_PASSES, warmUpPicture } from './warm-up.js';

export { planTimeline, planSteps, CLASSIC_VERSION, type PlanOptions, type PlanProgress } from './planner.js';
export { planInterpolation } from './interpolate.js';

/** `memory`: what the renderers of all plans may hold (layer contents and composites at their sizes); 1 GiB of their own by default. */
export interface ClassicBackendOptions extends BackendOptions {
  /** Prepared plans kept in memory (each holds plan-resolution snapshots, ~30 MB). Default 4. */
  readonly cacheSize?: number;
  /** Snapshot memory per plan (see PrepareOptions). */
  readonly snapshotBudgetBytes?: number;
  readonly plan?: PlanOptions;
  /**
   * Timelapses make their layers' pixels ahead on a thread of their own (contents-ahead.ts), when the
   * backend runs on the main thread (the CLI; the engine's workers already share the machine). Default true.
   */
  readonly contentsAhead?: boolean;
}

const DEFAULT_RENDERER_BYTES = 1024 * 1024 * 1024;

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

  private readonly cache = new Map<string, Promise<PreparedPlan>>();
  /** The calls waiting for each plan being made (see `plan`). */
  private readonly waiting = new Map<string, Set<JobContext>>();
  /** Plans whose preparation finished, for exportPlan (which must not wait). */
  private readonly settled = new Map<string, PreparedPlan>();
  /** What each plan exported holds (planBytes), measured once. */
  private readonly planSizes = new WeakMap<PreparedPlan, number>();
  private readonly renderers: RendererCache;
  private readonly cacheSize: number;
  private readonly options: ClassicBackendOptions;

  constructor(options: ClassicBackendOptions = {}) {
    this.options = options;
    this.cacheSize = Math.max(1, options.cacheSize ?? 4);
    this.renderers = new RendererCache(options.memory ?? privateMemory(DEFAULT_RENDERER_BYTES));
  }

  /** The timeline for (source, seed), planned once and kept in the LRU. */
  async timeline(source: SourceImage, seed: number, context: JobContext): Promise<Timeline> {
    return (await this.prepare(source, seed, context)).timeline;
  }

  async preparePlan(source: SourceImage, seed: number, context: JobContext): Promise<void> {
    await this.prepare(source, seed, context);
  }

  private async prepare(source: SourceImage, seed: number, context: JobContext): Promise<PreparedPlan> {
    throwIfCancelled(context.signal);
    const key = planKey(source.id, seed);
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      try {
        return await this.waitFor(key, cached, context);
      } catch (error) {
        // Someone else's cancelled planning is no reason to fail this call: plan again.
        if (!(isPaintsUndoError(error) && error.code === 'CANCELLED') || context.signal.aborted) throw error;
      }
    }
    const waiters = new Set<JobContext>();
    this.waiting.set(key, waiters);
    const planning = this.plan(source, seed, waiters);
    this.remember(key, planning);
    planning.then(
      () => this.waiting.get(key) === waiters && this.waiting.delete(key),
      () => this.waiting.get(key) === waiters && this.waiting.delete(key),
    );
    return this.waitFor(key, planning, context);
  }

  /**
   * `planning` for one call: while the plan is being made the call is one of its waiters (it gets its
   * progress, and keeps it going); a cancelled call stops waiting at once, the plan stops once no one waits.
   */
  private async waitFor(key: string, planning: Promise<PreparedPlan>, context: JobContext): Promise<PreparedPlan> {
    const waiters = this.waiting.get(key);
    if (!waiters) return planning;
    waiters.add(context);
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        planning,
        new Promise<never>((_, reject) => {
          onAbort = () => reject(cancelledError());
          context.signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      waiters.delete(context);
      if (onAbort) context.signal.removeEventListener('abort', onAbort);
    }
  }

  private remember(key: string, promise: Promise<PreparedPlan>): Promise<PreparedPlan> {
    this.cache.set(key, promise);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
    promise.then(
      (plan) => {
        if (this.cache.get(key) === promise) this.settled.set(key, plan);
      },
      () => {
        if (this.cache.get(key) === promise) this.forget(key);
      },
    );
    return promise;
  }

  private forget(key: string): void {
    this.cache.delete(key);
    this.settled.delete(key);
    this.renderers.dropPlan(key);
  }

  /** Plans for `waiters` (the calls waiting, which join and leave while it runs); cancelled once none of them is left uncancelled. */
  private async plan(source: SourceImage, seed: number, waiters: ReadonlySet<JobContext>): Promise<PreparedPlan> {
    const signal = abandonedSignal(waiters);
    // The first waiter joins right after this call returns: look at the signal only from the first turn on.
    await yieldToLoop();
    const steps = planSteps(source, seed, this.options.plan ?? {}, signal);
    let result: Timeline;
    while (true) {
      const r = steps.next();
      if (r.done) {
        result = r.value;
        break;
      }
      for (const waiter of waiters) waiter.onProgress({ fraction: r.value.fraction * PLAN_SHARE, stage: r.value.stage, message: r.value.message });
      await yieldToLoop();
    }
    return preparePlan(result, this.options.snapshotBudgetBytes === undefined ? {} : { snapshotBudgetBytes: this.options.snapshotBudgetBytes });
  }

  exportPlan(imageId: string, seed: number): SharedPlan | undefined {
    const plan = this.settled.get(planKey(imageId, seed));
    if (!plan) return undefined;
    let bytes = this.planSizes.get(plan);
    if (bytes === undefined) {
      bytes = planBytes(plan);
      this.planSizes.set(plan, bytes);
    }
    return { backend: this.id, backendVersion: this.version, imageId, seed, bytes, data: plan };
  }

  forgetPlan(imageId: string, seed: number): void {
    const key = planKey(imageId, seed);
    if (this.cache.has(key)) this.forget(key);
  }

  importPlan(shared: SharedPlan): void {
    if (shared.backend !== this.id || shared.backendVersion !== this.version) return;
    const key = planKey(shared.imageId, shared.seed);
    if (this.cache.has(key)) return;
    this.remember(key, Promise.resolve(shared.data as PreparedPlan));
  }

  private renderer(imageId: string, seed: number, plan: PreparedPlan, size: number | undefined): TimelineRenderer {
    return this.renderers.renderer(planKey(imageId, seed), plan, size);
  }

  async frame(request: FrameRequest, context: JobContext): Promise<RgbImage> {
    const plan = await this.prepare(request.source, request.seed, context);
    throwIfCancelled(context.signal);
    const image = await frameAt(this.renderer(request.source.id, request.seed, plan, request.size), request.step, request.size);
    context.onProgress({ fraction: 1, stage: 'rendering', preview: previewOf(image) });
    return image;
  }

  keyframes(request: KeyframesRequest, context: JobContext): AsyncIterable<Keyframe> {
    // From blank towards finished: each frame replays only the operations since the one before.
    const order = [...new Set(request.steps)].sort((p, q) => q - p);
    return this.sequence(request, order, context, (k, step) => `step ${step}, ${k + 1} of ${order.length}`);
  }

  /**
   * Renders `steps` in order at the request's size, one plan for all, with progress and a preview now and
   * then. `contentsAhead`: the layers' pixels are made on a thread of their own (see ClassicBackendOptions).
   */
  private async *sequence(
    request: { readonly source: SourceImage; readonly seed: number; readonly size?: number | undefined; readonly frameBuffers?: FrameBuffers | undefined },
    steps: readonly number[],
    context: JobContext,
    message: (k: number, step: number) => string,
    contentsAhead = false,
  ): AsyncGenerator<Keyframe> {
    const { width, height } = outputSize(request.source.image.width, request.source.image.height, request.size);
    // Started before planning, so that the thread's modules load meanwhile.
    const ahead = contentsAhead && this.options.contentsAhead !== false && isMainThread && width * height >= CONTENTS_AHEAD_MIN_PIXELS ? new ContentsAhead() : undefined;
    let fed: TimelineRenderer | undefined;
    try {
      const plan = await this.prepare(request.source, request.seed, context);
      if (ahead) {
        fed = this.renderer(request.source.id, request.seed, plan, request.size);
        ahead.feed(fed);
      }
      const previewEvery = Math.max(1, Math.round(steps.length / 20));
      for (let k = 0; k < steps.length; k++) {
        if (context.signal.aborted) throw cancelledError();
        const step = steps[k]!;
        const image = await frameAt(this.renderer(request.source.id, request.seed, plan, request.size), step, request.size, request.frameBuffers);
        context.onProgress({
          fraction: PLAN_SHARE + ((1 - PLAN_SHARE) * (k + 1)) / steps.length,
          stage: 'rendering',
          message: message(k, step),
          ...(k % previewEvery === 0 ? { preview: previewOf(image) } : {}),
        });
        yield { step, image };
        await yieldToLoop();
      }
    } finally {
      fed?.useContents(undefined);
      ahead?.close();
    }
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
    const steps = timelapseSteps(request.frames, request.direction);
    const frames = this.sequence(request, steps, context, (k) => `frame ${k + 1} of ${steps.length}`, true);
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<RgbImage> {
        for await (const frame of frames) yield frame.image;
      },
    };
  }

  async layers(request: LayersRequest, context: JobContext): Promise<LayerStack> {
    const plan = await this.prepare(request.source, request.seed, context);
    throwIfCancelled(context.signal);
    const images = this.renderer(request.source.id, request.seed, plan, undefined).layerImages(0);
    context.onProgress({ fraction: 1, stage: 'rendering' });
    return {
      width: plan.timeline.width,
      height: plan.timeline.height,
      layers: images
        .filter((l) => l.spec.exported)
        .map((l) => ({ id: l.spec.id, name: l.spec.name, blend: l.spec.blend, visible: l.visible, image: l.image })),
    };
  }

  /** Frames of the warm-up picture (warm-up.ts), a pass per recipe, each through a backend of its own: nothing stays in this one. */
  async warmUp(signal: AbortSignal): Promise<void> {
    const source: SourceImage = { id: 'warm-up', image: warmUpPicture(), alpha: undefined };
    const context = quietContext(signal);
    for (const [k, style] of WARM_UP_PASSES.entries()) {
      const backend = new ClassicBackend({ plan: { style } });
      try {
        for (const { size, step } of WARM_UP_FRAMES) await backend.frame({ source, seed: k + 1, step, size }, context);
      } finally {
        await backend.dispose();
      }
    }
  }

  async dispose(): Promise<void> {
    this.cache.clear();
    this.settled.clear();
    this.renderers.clear();
  }
}

/** A signal that reads as aborted when no call waits for the plan any more, or every one that does is cancelled. */
function abandonedSignal(waiters: ReadonlySet<JobContext>): AbortSignal {
  const signal = new AbortController().signal;
  Object.defineProperty(signal, 'aborted', {
    configurable: true,
    get: () => [...waiters].every((w) => w.signal.aborted),
  });
  return signal;
}

function planKey(imageId: string, seed: number): string {
  return `${imageId}:${seed}`;
}

export function createClassicBackend(options: ClassicBackendOptions = {}): Backend {
  return new ClassicBackend(options);
}
