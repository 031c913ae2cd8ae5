/**
 * Renderers of prepared plans at the sizes frames are asked for, kept warm under a memory budget.
 *
 * A slider preview, a 1080p timelapse and a full-size export of one image each get their own renderer
 * (its layer contents and composite at that size), so scrubbing never pays for a size it does not show.
 * Sizes below the plan resolution render at plan resolution and are area-averaged down: below it,
 * coverage would be point-sampled and thin strokes would flicker.
 */
import { outputSize, resizeRgbArea, type RgbImage } from '../../core/image.js';
import { TimelineRenderer } from '../../core/renderer.js';
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

export class RendererCache {
  private readonly entries = new Map<string, Entry>();
  private readonly budgetBytes: number;
  private used = 0;

  constructor(budgetBytes: number) {
    this.budgetBytes = budgetBytes;
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
    // Make room first: the new renderer's layers are allocated as soon as it composites.
    this.evict(this.budgetBytes - bytes);
    const renderer = new TimelineRenderer(plan, { longSide: long });
    this.entries.set(key, { planKey, renderer, bytes });
    this.used += bytes;
    return renderer;
  }

  /** Forgets every renderer of a plan (it left the plan cache). */
  dropPlan(planKey: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.planKey !== planKey) continue;
      this.entries.delete(key);
      this.used -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  /** Drops least recently used renderers until at most `keep` bytes are held. */
  private evict(keep: number): void {
    for (const [key, entry] of this.entries) {
      if (this.used <= keep) return;
      this.entries.delete(key);
      this.used -= entry.bytes;
    }
  }
}

/** The canvas at `step` shown at `size` (see renderLongSide); `renderer` must be the one for that size. */
export function frameAt(renderer: TimelineRenderer, step: number, size: number | undefined): RgbImage {
  const image = renderer.renderStep(step);
  const out = outputSize(renderer.timeline.width, renderer.timeline.height, size);
  return out.width < image.width ? resizeRgbArea(image, out.width, out.height) : image;
}
