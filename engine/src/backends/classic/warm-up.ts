/**
 * Warming up: a fresh thread runs the planner and renderer several times slower than it will once V8 has
 * optimised them (a 4096 px canvas plans in ~2.2 s cold, ~1.3 s warm on a 2-core machine). An engine that
 * waits for work can spend that first slow run on a small picture of its own instead of the first canvas
 * a user sends. The picture is drawn here (no file, no decoder): flat shapes with dark outlines, soft
 * shading and a few loose strokes, so each recipe (forced by style) runs through its phases. The classic
 * backend's warmUp renders it through its own frame path, pass by pass.
 */
import type { RgbImage } from '../../core/image.js';
import type { Style } from './analyse.js';
import { Rng } from './rng.js';

/** The warm-up picture's size: above the plan's minimum, so its frames at panel size go through the area downscale real canvases use. */
const WIDTH = 384;
const HEIGHT = 480;
/** The passes, in order: line art (the recipe most art takes, and the code flat pieces share), painting, line art again (V8 optimises on the second run). */
export const WARM_UP_PASSES: readonly Style[] = ['lineart', 'painterly', 'lineart'];
/** Each pass's frames: a slider frame below the plan resolution (the area downscale) and a full-size one, each at two steps. */
export const WARM_UP_FRAMES: readonly { readonly size: number | undefined; readonly step: number }[] = [
  { size: 160, step: 700 },
  { size: 160, step: 300 },
  { size: undefined, step: 700 },
  { size: undefined, step: 300 },
];

/** A small illustration-like picture: a sky gradient, outlined flat shapes with a shaded side, loose strokes. */
export function warmUpPicture(width = WIDTH, height = HEIGHT): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const t = y / height;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = 200 + 40 * t;
      data[o + 1] = 220 + 20 * t;
      data[o + 2] = 245 - 25 * t;
    }
  }
  const rng = new Rng(0x5eed);
  const palette: readonly (readonly [number, number, number])[] = [
    [236, 196, 170], [90, 120, 190], [200, 70, 80], [250, 220, 120], [110, 170, 110], [150, 110, 90],
  ];
  for (let k = 0; k < 7; k++) {
    const cx = rng.range(0.2, 0.8) * width;
    const cy = rng.range(0.2, 0.85) * height;
    const rx = rng.range(0.08, 0.22) * width;
    const ry = rng.range(0.08, 0.2) * height;
    const [r, g, b] = palette[k % palette.length]!;
    fillEllipse(data, width, height, cx, cy, rx, ry, (dx, dy) => {
      // Lit from the upper left: the far side darker, a highlight near the light.
      const shade = dx + dy > 0.35 ? 0.72 : dx + dy < -0.9 ? 1.12 : 1;
      return [r * shade, g * shade, b * shade];
    });
    outlineEllipse(data, width, height, cx, cy, rx, ry, 1.6);
  }
  // Loose hair-like strokes.
  for (let k = 0; k < 24; k++) {
    let x = rng.range(0.25, 0.75) * width;
    let y = rng.range(0.1, 0.4) * height;
    const angle = rng.range(0, Math.PI * 2);
    for (let s = 0; s < 40; s++) {
      x += Math.cos(angle + s * 0.04);
      y += Math.sin(angle + s * 0.04);
      dot(data, width, height, x, y, 0.9, [40, 30, 35]);
    }
  }
  return { width, height, channels: 3, data };
}

function fillEllipse(
  data: Uint8Array,
  width: number,
  height: number,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  colour: (dx: number, dy: number) => readonly [number, number, number],
): void {
  for (let y = Math.max(0, Math.floor(cy - ry)); y <= Math.min(height - 1, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x <= Math.min(width - 1, Math.ceil(cx + rx)); x++) {
      const dx = (x - cx) / rx;
      const dy = (y - cy) / ry;
      if (dx * dx + dy * dy > 1) continue;
      const [r, g, b] = colour(dx, dy);
      const o = (y * width + x) * 3;
      data[o] = Math.min(255, r);
      data[o + 1] = Math.min(255, g);
      data[o + 2] = Math.min(255, b);
    }
  }
}

function outlineEllipse(data: Uint8Array, width: number, height: number, cx: number, cy: number, rx: number, ry: number, radius: number): void {
  const steps = Math.ceil(2 * Math.PI * Math.max(rx, ry));
  for (let s = 0; s < steps; s++) {
    const a = (s / steps) * 2 * Math.PI;
    dot(data, width, height, cx + rx * Math.cos(a), cy + ry * Math.sin(a), radius, [30, 25, 30]);
  }
}

function dot(data: Uint8Array, width: number, height: number, cx: number, cy: number, radius: number, colour: readonly [number, number, number]): void {
  fillEllipse(data, width, height, cx, cy, radius, radius, () => colour);
}
