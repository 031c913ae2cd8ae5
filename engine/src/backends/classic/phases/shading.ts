/**
 * Shading: the flats plus a smooth offset towards the final (never past it), laid in with soft round
 * airbrush blobs clipped to each region (the strongest light or shadow first), then the whole region.
 * Regions with no visible shading are skipped: the flats already show them.
 */
import type { Stamp } from '../../../core/timeline.js';
import type { Analysis } from '../analyse.js';
import { mergeStamps } from '../budget.js';
import { shadingContent, towards } from '../content.js';
import { maskedBlurPlanes, StampBuilder } from '../raster.js';
import type { Rng } from '../rng.js';
import type { Region, Segmentation } from '../segment.js';
import { orderRegions, type Flats } from './flats.js';
import { regionChunks } from './region-fill.js';
import type { PhaseWork } from './phase.js';

/**
 * Shading amount (colour distance flats -> shaded, summed over channels) worth a stroke: below it a blob
 * or a region piece would change no channel by the 2+ levels a viewer (and the idle metric) can see.
 */
const VISIBLE_SHADE = 12;

export interface ShadingPhase extends PhaseWork {
  readonly shading: Shading;
  /** Labels of the regions the shading paints. */
  readonly shaded: ReadonlySet<number>;
}

/** Needs the segmentation and the flats under it, and the line art's plan alpha (no shading is read off the lines). */
export function prepareShading(a: Analysis, seg: Segmentation, flats: Flats, lineAlphaPlan: Float32Array, check: () => void): ShadingPhase {
  const { pw, ph } = a;
  const total = pw * ph;
  const shading = buildShading(a, flats, lineAlphaPlan);
  const shaded = seg.regions.filter((r) => r.area > 0 && regionShade(seg, r, shading.amount, pw) > VISIBLE_SHADE * 1.5);
  return {
    shading,
    shaded: new Set(shaded.map((r) => r.label)),
    capacity: shaded.reduce((acc, r) => acc + 1 + Math.min(8, Math.floor(r.area / (total * 0.003))), 0),
    content: () => shadingContent({ flats: flats.recipe, deltas: shading.deltas }),
    propose(budget, rng) {
      const order = orderRegions(a, shaded, rng.fork(4));
      const stamps = shadingStamps(a, seg, order, shading.amount, Math.max(0, budget - shaded.length), rng.fork(5), check);
      return mergeStamps(stamps.map((s) => ({ stamp: s, strength: 1 })), budget);
    },
  };
}

/** Largest shading amount (colour distance flats -> shaded) in a region, on a sparse grid. */
function regionShade(seg: Segmentation, region: Region, amount: Float32Array, pw: number): number {
  const [x0, y0, x1, y1] = region.box;
  const step = Math.max(1, Math.round(Math.sqrt(region.area) / 20));
  let best = 0;
  for (let y = y0; y <= y1; y += step) {
    for (let x = x0; x <= x1; x += step) {
      const i = y * pw + x;
      if (seg.labels[i] === region.label && amount[i]! > best) best = amount[i]!;
    }
  }
  return best;
}

/** Largest value of a plan map under a stamp's non-zero pixels. */
function maxUnder(stamp: Stamp, map: Float32Array, pw: number, ph: number): number {
  let best = 0;
  for (let y = 0; y < stamp.height; y++) {
    const py = y + stamp.y;
    if (py < 0 || py >= ph) continue;
    for (let x = 0; x < stamp.width; x++) {
      const px = x + stamp.x;
      if (px < 0 || px >= pw || stamp.alpha[y * stamp.width + x] === 0) continue;
      const v = map[py * pw + px]!;
      if (v > best) best = v;
    }
  }
  return best;
}

export interface Shading {
  /** Plan-resolution shaded colour (flats + smooth light and shadow). */
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  /** How much shading each pixel gets (colour distance flats -> shaded), for ordering. */
  readonly amount: Float32Array;
  /** The smooth offsets (final - flats, blurred) per channel, at plan resolution. */
  readonly deltas: [Float32Array, Float32Array, Float32Array];
}

/** Shaded colours = crisp flats + a smooth difference (final - flats), blurred so it reads as soft light, never patches. */
export function buildShading(a: Analysis, flats: Flats, lineAlphaPlan: Float32Array): Shading {
  const { pw, ph, img } = a;
  const n = pw * ph;
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) weight[i] = 1 - Math.min(1, lineAlphaPlan[i]! * 1.5);
  // Soft enough to read as airbrushed light and shadow; crisp detail is left for the rendering pass.
  const sigma = Math.max(1.5, Math.max(pw, ph) / 110);
  const planes: Float32Array[] = [];
  const flatPlanes = [flats.flatR, flats.flatG, flats.flatB];
  const finals = [img.r, img.g, img.b];
  const diffs = [0, 1, 2].map((c) => {
    const diff = new Float32Array(n);
    for (let i = 0; i < n; i++) diff[i] = finals[c]![i]! - flatPlanes[c]![i]!;
    return diff;
  });
  const deltas = maskedBlurPlanes(diffs, weight, pw, ph, sigma);
  for (let c = 0; c < 3; c++) {
    const diff = diffs[c]!;
    const smooth = deltas[c]!;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = flatPlanes[c]![i]! + towards(smooth[i]!, diff[i]!);
    planes.push(out);
  }
  const amount = new Float32Array(n);
  for (let i = 0; i < n; i++) amount[i] = Math.abs(deltas[0]![i]!) + Math.abs(deltas[1]![i]!) + Math.abs(deltas[2]![i]!);
  return { r: planes[0]!, g: planes[1]!, b: planes[2]!, amount, deltas: [deltas[0]!, deltas[1]!, deltas[2]!] };
}

function shadingStamps(
  a: Analysis,
  seg: Segmentation,
  order: readonly Region[],
  amount: Float32Array,
  blobBudget: number,
  rng: Rng,
  check: () => void,
): Stamp[] {
  const { pw, ph } = a;
  const total = pw * ph;
  const out: Stamp[] = [];
  const left = amount.slice();
  for (const region of order) {
    check();
    const [x0, y0, x1, y1] = region.box;
    const blobs = Math.min(8, Math.round((blobBudget * region.area) / total));
    for (let k = 0; k < blobs; k++) {
      // The strongest remaining light or shadow in the region, sampled on a sparse grid.
      let bx = -1;
      let by = -1;
      let bv = 0;
      const stepPx = Math.max(1, Math.round(Math.sqrt(region.area) / 24));
      for (let y = y0; y <= y1; y += stepPx) {
        for (let x = x0; x <= x1; x += stepPx) {
          const i = y * pw + x;
          if (seg.labels[i] !== region.label) continue;
          if (left[i]! > bv) {
            bv = left[i]!;
            bx = x;
            by = y;
          }
        }
      }
      if (bx < 0 || bv < VISIBLE_SHADE) break;
      const radius = Math.sqrt(region.area) * rng.range(0.22, 0.38);
      const sb = new StampBuilder(Math.max(x0 - 1, bx - radius * 1.6), Math.max(y0 - 1, by - radius * 1.6), Math.min(x1 + 1, bx + radius * 1.6), Math.min(y1 + 1, by + radius * 1.6));
      // Airbrush: a soft round falloff, clipped to the region (as with a clipping mask or a selection).
      for (let y = 0; y < sb.height; y++) {
        for (let x = 0; x < sb.width; x++) {
          const px = x + sb.x0;
          const py = y + sb.y0;
          if (px < 0 || py < 0 || px >= pw || py >= ph || seg.labels[py * pw + px] !== region.label) continue;
          const d2 = ((px - bx) ** 2 + (py - by) ** 2) / (radius * radius);
          const v = Math.exp(-d2 * 2.2);
          sb.alpha[y * sb.width + x] = v < 0.02 ? 0 : v;
          left[py * pw + px]! *= 1 - v;
        }
      }
      out.push(sb.toStamp());
    }
    // Then the whole region, in pieces for big ones: one operation never spans a huge area (slow to
    // scrub, and a single step that shades half the canvas reads as a fade, not a stroke).
    // Pieces with no visible shading under them would be idle steps: the flats already show them.
    for (const chunk of regionChunks(seg, region, pw, Math.max(1, Math.ceil(region.area / (total * 0.03))), rng)) {
      if (maxUnder(chunk, amount, pw, ph) >= VISIBLE_SHADE) out.push(chunk);
    }
  }
  return out;
}
