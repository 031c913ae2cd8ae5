/**
 * Renderers of prepared plans at the sizes frames are asked for, kept warm under a memory budget.
 *
 * A slider preview, a 1080p timelapse and a full-size export of one image each get their own renderer
 * (its layer contents and composite at that size), so scrubbing never pays for a size it does not show.
 * Sizes below the plan resolution render at plan resolution and are area-averaged down: below it,
 * coverage would be point-sampled and thin strokes would flicker.
 */
import type { FrameBuffers } from '../../core/backend.js';
import { outputSize, resizeRgbArea, type RgbImage } from '../../core/image.js';
import { TimelineRenderer } from '../../core/renderer.js';
import type { MemoryShare } from '../../core/memory.js';
import type { PreparedPlan } from '../../core/replay.js';

interface Entry {
  readonly planKey: string;
  readonly renderer: TimelineRenderer;
  readonly bytes: number;
}

/** What a renderer holds at `pixels` output pixels with `layers` layers: contents (RGBA), composite, its curved view and artwork (RGB). */
function rendererBytes(pixels: number, layers: number): number {
  return pixels * (4 * layers + 9);
}

/** The long side a plan renders at to show `size`: full size when absent or not smaller, never below the plan resolution. */
export function renderLongSide(plan: PreparedPlan, size: number | undefined): number {
  const { width, height, planScale } = plan.timeline;
  const full = Math.max(width, height);
  if (size === undefined || size >= full) return full;
  const planLong = Math.ceil(full / planScale - 1e-9);
  return Math.min(full, Math.max(size, planLong));
}

/**
 * Renderers by plan and size, least recently used first. They hold what the engine's memory share
 * allows (core/memory.ts): before a renderer is made, older ones make room; the engine can ask for more
 * back when other threads need it.
 */
export class RendererCache {
  private readonly entries = new Map<string, Entry>();
  private readonly memory: MemoryShare;
  private used = 0;

  constructor(memory: MemoryShare) {
    this.memory = memory;
    memory.onRelease((bytes) => this.release(bytes));
  }

  /** The renderer of `plan` (cached under `planKey`) for frames shown at `size`. */
  renderer(planKey: string, plan: PreparedPlan, size: number | undefined): TimelineRenderer {
    const long = renderLongSide(plan, size);
    const key = `${planKey}@${long}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.renderer;
    }
    const { width, height } = plan.timeline;
    const out = outputSize(width, height, long);
    const bytes = rendererBytes(out.width * out.height, plan.timeline.layers.length);
    // Make room first: the new renderer's layers are allocated as soon as it composites. One larger than
    // the whole allowance is still made (the frame is asked for), and is the first to go when asked.
    this.evictUntil(() => this.used + bytes <= this.memory.allowance());
    const renderer = new TimelineRenderer(plan, { longSide: long });
    this.entries.set(key, { planKey, renderer, bytes });
    this.hold(bytes);
    return renderer;
  }

  /** Bytes the renderers hold. */
  get heldBytes(): number {
    return this.used;
  }

  /** Forgets every renderer of a plan (it left the plan cache). */
  dropPlan(planKey: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.planKey !== planKey) continue;
      this.entries.delete(key);
      this.hold(-entry.bytes);
    }
  }

  clear(): void {
    this.entries.clear();
    this.hold(-this.used);
  }

  /** Drops least recently used renderers until at least `bytes` are freed or none is left; returns the bytes freed. */
  private release(bytes: number): number {
    const before = this.used;
    this.evictUntil(() => before - this.used >= bytes);
    return before - this.used;
  }

  /** Drops least recently used renderers until `enough` holds or none is left. */
  private evictUntil(enough: () => boolean): void {
    for (const [key, entry] of this.entries) {
      if (enough()) return;
      this.entries.delete(key);
      this.hold(-entry.bytes);
    }
  }

  private hold(delta: number): void {
    this.used += delta;
    this.memory.adjust(delta);
  }
}

/**
 * The canvas at `step` shown at `size` (see renderLongSide); `renderer` must be the one for that size.
 * Written into a buffer the consumer lends (FrameBuffers) when the frame is exactly its size, else new.
 */
export async function frameAt(renderer: TimelineRenderer, step: number, size: number | undefined, buffers?: FrameBuffers): Promise<RgbImage> {
  const out = outputSize(renderer.timeline.width, renderer.timeline.height, size);
  if (out.width < renderer.width) return resizeRgbArea(renderer.renderStep(step), out.width, out.height);
  const into = buffers?.bytes === renderer.width * renderer.height * 3 ? await buffers.take() : undefined;
  return renderer.renderStep(step, into);
}
