/**
 * What each classic layer shows, as recipes rendered at any output size (core/content.ts).
 *
 * Planning keeps to plan resolution; a layer's pixels are made only when a frame of some size needs
 * them, from plan-resolution data and the finished artwork at that size (`art`; `scale` is output
 * pixels per plan pixel). At full size they are exactly the pixels the planner used to build up front,
 * so lines and flats stay as crisp as the input's own edges; a slider preview of a 4096 px canvas
 * makes them at panel size in milliseconds instead of seconds at full resolution.
 */
import { defineContent, renderContent, type ContentTarget, type LayerContent } from '../../core/content.js';
import { createRgba, type RgbImage, type RgbaImage } from '../../core/image.js';
import { LINE_HALF_WIDTHS, type Analysis } from './analyse.js';
import { forEachUpsampled, gaussianBlur } from './raster.js';
import { valleyAt, valleySteps } from './valley.js';

/** A plan-resolution map and its size. */
interface PlanGrid {
  readonly pw: number;
  readonly ph: number;
}

/** Opaque colour from three plan planes, upsampled bilinearly (block-in, refinement). */
export const planesContent = defineContent<PlanGrid & { readonly r: Float32Array; readonly g: Float32Array; readonly b: Float32Array }>(
  'classic.planes',
  ({ pw, ph, r, g, b }, { art, scale }) => {
    const img = createRgba(art.width, art.height);
    const d = img.data;
    forEachUpsampled(r, pw, ph, art.width, art.height, scale, (i, v) => {
      d[i * 4] = v;
      d[i * 4 + 3] = 255;
    });
    forEachUpsampled(g, pw, ph, art.width, art.height, scale, (i, v) => (d[i * 4 + 1] = v));
    forEachUpsampled(b, pw, ph, art.width, art.height, scale, (i, v) => (d[i * 4 + 2] = v));
    return img;
  },
);

/** The flats: a region label per plan pixel, each region's flat colour and its mean colour in the input. */
export interface FlatsRecipe extends PlanGrid {
  readonly labels: Int32Array;
  /** 3 per region (label - 1): the colour it is filled with. */
  readonly colours: Float64Array;
  /** 3 per region: its mean colour in the input, to settle borders between regions. */
  readonly means: Float64Array;
}

/**
 * Flat colours at the output size: each pixel takes, among the labels of its nearest plan pixels, the
 * region whose mean colour is closest to the artwork's own pixel, so region borders are as crisp as the
 * input's own edges.
 */
function flatPixels(f: FlatsRecipe, { art, scale }: ContentTarget): RgbaImage {
  const { pw, ph, labels, colours, means } = f;
  const W = art.width;
  const H = art.height;
  const content = createRgba(W, H);
  const d = content.data;
  const src = art.data;
  const u0s = new Int32Array(W);
  const u1s = new Int32Array(W);
  for (let x = 0; x < W; x++) {
    const u = Math.min(pw - 1, Math.max(0, (x + 0.5) / scale - 0.5));
    u0s[x] = Math.floor(u);
    u1s[x] = Math.min(pw - 1, u0s[x]! + 1);
  }
  for (let y = 0; y < H; y++) {
    const v = Math.min(ph - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const v0 = Math.floor(v);
    const ra = v0 * pw;
    const rb = Math.min(ph - 1, v0 + 1) * pw;
    for (let x = 0; x < W; x++) {
      const c0 = labels[ra + u0s[x]!]!;
      const c1 = labels[ra + u1s[x]!]!;
      const c2 = labels[rb + u0s[x]!]!;
      const c3 = labels[rb + u1s[x]!]!;
      let label = c0;
      if (c1 !== label || c2 !== label || c3 !== label) {
        const p = (y * W + x) * 3;
        const r = src[p]!;
        const g = src[p + 1]!;
        const b = src[p + 2]!;
        let best = Infinity;
        for (let k = 0; k < 4; k++) {
          const l = k === 0 ? c0 : k === 1 ? c1 : k === 2 ? c2 : c3;
          const m = (l - 1) * 3;
          const dd = Math.abs(means[m]! - r) + Math.abs(means[m + 1]! - g) + Math.abs(means[m + 2]! - b);
          if (dd < best) {
            best = dd;
            label = l;
          }
        }
      }
      const c = (label - 1) * 3;
      const q = (y * W + x) * 4;
      d[q] = colours[c]!;
      d[q + 1] = colours[c + 1]!;
      d[q + 2] = colours[c + 2]!;
      d[q + 3] = 255;
    }
  }
  return content;
}

export const flatsContent = defineContent<FlatsRecipe>('classic.flats', flatPixels);

/**
 * The smooth shading offset `v`, limited to the way towards the final (`target` = final - flat): soft light
 * never overshoots the finished colour, so shading strokes always bring the canvas closer to the final.
 */
export function towards(v: number, target: number): number {
  return target >= 0 ? (v < 0 ? 0 : v > target ? target : v) : v > 0 ? 0 : v < target ? target : v;
}

/** Shaded colours: the flats plus the smooth plan-resolution offsets towards the final, never past the artwork's own pixel. */
export const shadingContent = defineContent<{ readonly flats: FlatsRecipe; readonly deltas: readonly [Float32Array, Float32Array, Float32Array] }>(
  'classic.shading',
  ({ flats, deltas }, target) => {
    const { art, scale } = target;
    const content = flatPixels(flats, target);
    const d = content.data;
    const src = art.data;
    for (let c = 0; c < 3; c++) {
      forEachUpsampled(deltas[c]!, flats.pw, flats.ph, art.width, art.height, scale, (i, v) => {
        const q = i * 4;
        const flat = d[q + c]!;
        d[q + c] = flat + towards(v, src[i * 3 + c]! - flat) + 0.5;
      });
    }
    return content;
  },
);

/**
 * Line-art alpha (0..255) of `art`: its own line pixels, so line weight and darkness match the final
 * exactly. Near the plan's lines (the `gate`: the line mask, dilated), a pixel is ink as far as it is a
 * valley at this size (valley.ts): the core of a line is solid, its anti-aliased border partial, and a
 * dark region next to a line (hair along its outline, a dark background) stays out.
 */
export function lineAlpha(art: RgbImage, gate: Float32Array, pw: number, ph: number, scale: number, contrast: number): Uint8Array {
  const w = art.width;
  const h = art.height;
  const n = w * h;
  const L = new Uint8Array(n);
  const src = art.data;
  for (let i = 0, p = 0; i < n; i++, p += 3) L[i] = (77 * src[p]! + 150 * src[p + 1]! + 29 * src[p + 2]! + 128) >> 8;
  const steps = valleySteps([...new Set([1, ...LINE_HALF_WIDTHS.map((d) => Math.max(1, Math.round(d * scale)))])]);
  const out = new Uint8Array(n);
  const faint = 5 * contrast;
  const ramp = 22 * contrast;
  forEachUpsampled(gate, pw, ph, w, h, scale, (i, g) => {
    if (g <= 0.02) return;
    const x = i % w;
    const v = valleyAt(L, w, h, x, (i - x) / w, steps);
    // 5..27 levels darker than both sides (scaled by the piece's tonal contrast) ramps from transparent to solid ink.
    if (v <= faint) return;
    out[i] = Math.round(255 * Math.min(1, (v - faint) / ramp) * Math.min(1, g));
  });
  // Above the plan size a line is several pixels wide and its inner edges are not valleys: widen it.
  // At the plan size and below, the valley widths already span it.
  if (scale > 1) widenToLineEdges(out, L, w, h, Math.max(1, Math.round(scale)));
  return out;
}

/** Levels a pixel may be lighter than the solid ink beside it and still be part of the same line. */
const SAME_INK = 12;

/**
 * A line wider than the valley widths measure is only a valley at its centre: the dark pixels between
 * that centre and its edges are ink too. Solid ink (alpha 200+) grows into neighbours about as dark as
 * it, `reach` pixels at most, so a thick outline keeps its whole weight; a region merely dark (hair
 * along an outline) gets at most that rim, in its own colour.
 */
function widenToLineEdges(alpha: Uint8Array, L: Uint8Array, w: number, h: number, reach: number): void {
  let front: number[] = [];
  for (let i = 0; i < alpha.length; i++) if (alpha[i]! >= 200) front.push(i);
  for (let step = 0; step < reach && front.length > 0; step++) {
    const next: number[] = [];
    for (const i of front) {
      const x = i % w;
      const y = (i - x) / w;
      const ink = L[i]!;
      for (const [dx, dy] of NEIGHBOURS) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const j = ny * w + nx;
        if (alpha[j]! >= 200 || L[j]! > ink + SAME_INK) continue;
        alpha[j] = 255;
        next.push(j);
      }
    }
    front = next;
  }
}

const NEIGHBOURS: readonly (readonly [number, number])[] = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
];

/** The artwork's own line pixels in their own colour, alpha from `lineAlpha`. */
export const lineArtContent = defineContent<PlanGrid & { readonly gate: Float32Array; readonly contrast: number }>('classic.lineart', ({ pw, ph, gate, contrast }, { art, scale }) => {
  const alpha = lineAlpha(art, gate, pw, ph, scale, contrast);
  const img = createRgba(art.width, art.height);
  const s = art.data;
  const d = img.data;
  for (let i = 0, p = 0, q = 0; i < alpha.length; i++, p += 3, q += 4) {
    const v = alpha[i]!;
    if (v === 0) continue;
    d[q] = s[p]!;
    d[q + 1] = s[p + 1]!;
    d[q + 2] = s[p + 2]!;
    d[q + 3] = v;
  }
  return img;
});

/**
 * How far a layer holds its values back: its colours drawn towards the paper, so every layer of the
 * process shows the picture at part strength and the next one deepens it (values build up from light to
 * dark, as with glazes). Every pixel then moves one way only, from paper to its final colour, and the
 * share of the way left to a layer is a share of the blank canvas's distance to the final: the last
 * pass is sure to carry that much, whatever the picture.
 */
export interface ValueHold {
  /** The colour everything is drawn towards: the paper. */
  readonly toward: readonly [number, number, number];
  /** 1 = the layer's own colours; 0.7 = 70% of the way from paper (pale, the darks not pushed yet). */
  readonly contrast: number;
}

/** A hold towards white paper keeping `contrast` of the way from paper to each colour. */
export function valueHold(contrast: number): ValueHold {
  return { toward: [255, 255, 255], contrast };
}

/** Plan planes with their values held back. */
export function heldPlanes(planes: readonly Float32Array[], hold: ValueHold): Float32Array[] {
  return planes.map((p, c) => {
    const toward = hold.toward[c]!;
    const k = hold.contrast;
    const out = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) out[i] = toward + (p[i]! - toward) * k;
    return out;
  });
}

/**
 * The plan image blurred into masses (sigma: the long side / `divisor`), its values held back by `hold`:
 * what the painterly layers (lay-in, block-in, refinement) paint, each at its own softness.
 */
export function heldMasses(a: Pick<Analysis, 'pw' | 'ph' | 'img'>, divisor: number, hold: ValueHold): Float32Array[] {
  const { pw, ph, img } = a;
  return heldPlanes([img.r, img.g, img.b].map((c) => gaussianBlur(c, pw, ph, Math.max(pw, ph) / divisor)), hold);
}

/** A layer showing three plan planes (r, g, b) as opaque colour. */
export function planesLayer(pw: number, ph: number, planes: readonly Float32Array[]): LayerContent {
  return planesContent({ pw, ph, r: planes[0]!, g: planes[1]!, b: planes[2]! });
}

/** `v` with its value held back. */
export function held(v: number, channel: number, hold: ValueHold): number {
  return hold.toward[channel]! + (v - hold.toward[channel]!) * hold.contrast;
}

/**
 * Another layer's content with its values held back (`held`): the flats and masses of an unfinished
 * piece, the rendering before the final pass; the layers above deepen them.
 */
export const heldContent = defineContent<{ readonly inner: LayerContent; readonly hold: ValueHold }>('classic.held', ({ inner, hold }, target) => {
  // The inner image may be shared (fixed pixels): write a new one.
  const image = renderContent(inner, target);
  const out = createRgba(image.width, image.height);
  const tables = [0, 1, 2].map((c) => Uint8Array.from({ length: 256 }, (_, v) => Math.round(held(v, c, hold))));
  const s = image.data;
  const d = out.data;
  for (let q = 0; q < d.length; q += 4) {
    d[q] = tables[0]![s[q]!]!;
    d[q + 1] = tables[1]![s[q + 1]!]!;
    d[q + 2] = tables[2]![s[q + 2]!]!;
    d[q + 3] = s[q + 3]!;
  }
  return out;
});
