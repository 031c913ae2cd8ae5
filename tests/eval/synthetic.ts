/**
 * Hand-built timelines for the metric tests: a small illustration (two flat colours under a grid of
 * black lines) and processes that draw it well or in one specific bad way.
 */
import { imageContent } from '../../engine/src/core/content.js';
import { createRgba, flattenOnWhite, type RgbImage, type RgbaImage } from '../../engine/src/core/image.js';
import { OPERATION_COUNT } from '../../engine/src/core/steps.js';
import type { LayerSpec, Operation, Phase, Stamp, Timeline } from '../../engine/src/core/timeline.js';

export const W = 128;
export const H = 96;
const GRID = 12;

const RED: [number, number, number] = [230, 120, 120];
const BLUE: [number, number, number] = [120, 150, 230];

const isLine = (x: number, y: number): boolean => x % GRID === 6 || y % GRID === 6;

function layerImage(paint: (x: number, y: number) => [number, number, number, number] | null): RgbaImage {
  const img = createRgba(W, H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const px = paint(x, y);
      if (px) img.data.set(px, (y * W + x) * 4);
    }
  }
  return img;
}

const flatsContent = (): RgbaImage => layerImage((x) => [...(x < W / 2 ? RED : BLUE), 255]);
const linesContent = (): RgbaImage => layerImage((x, y) => (isLine(x, y) ? [0, 0, 0, 255] : null));
const greenContent = (): RgbaImage => layerImage(() => [40, 200, 40, 255]);

/** The finished illustration every synthetic process must end on: flats under the line grid. */
export function finalImage(): RgbImage {
  const flats = flatsContent();
  const lines = linesContent();
  for (let i = 0; i < W * H; i++) if (lines.data[i * 4 + 3] === 255) flats.data.set([0, 0, 0, 255], i * 4);
  return flattenOnWhite(flats);
}

/** Line pixels in drawing order: each horizontal line left to right, then each vertical line top to bottom. */
function linePixels(): number[] {
  const out: number[] = [];
  for (let y = 6; y < H; y += GRID) for (let x = 0; x < W; x++) out.push(y * W + x);
  for (let x = 6; x < W; x += GRID) for (let y = 0; y < H; y++) if (y % GRID !== 6) out.push(y * W + x);
  return out;
}

/**
 * Every pixel (flats go under the line art, as a painter fills them), serpentine within vertical bands
 * 8 px wide, so consecutive runs are compact blobs and no run lies entirely under a line.
 */
function flatPixels(): number[] {
  const out: number[] = [];
  for (let bx = 0; bx < W; bx += 8) {
    for (let y = 0; y < H; y++) {
      for (let k = 0; k < 8; k++) out.push(y * W + (y % 2 === 0 ? bx + k : bx + 7 - k));
    }
  }
  return out;
}

/** Deterministic shuffle (a small LCG): the same "dust" every run. */
function shuffled(values: number[], seed = 7): number[] {
  const out = [...values];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A stamp covering exactly `pixels` (full alpha), positioned at their bounding box. */
function stampOf(pixels: readonly number[]): Stamp {
  let x0 = W;
  let y0 = H;
  let x1 = 0;
  let y1 = 0;
  for (const p of pixels) {
    const x = p % W;
    const y = (p - x) / W;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x + 1);
    y1 = Math.max(y1, y + 1);
  }
  const width = x1 - x0;
  const alpha = new Uint8Array(width * (y1 - y0));
  for (const p of pixels) {
    const x = p % W;
    const y = (p - x) / W;
    alpha[(y - y0) * width + (x - x0)] = 255;
  }
  return { x: x0, y: y0, width, height: y1 - y0, alpha };
}

/** `count` reveal operations drawing `pixels` in order, in runs of (nearly) equal length. */
function strokes(layer: number, pixels: readonly number[], count: number, phase: Phase, tool: 'pen' | 'bucket' | 'brush'): Operation[] {
  const ops: Operation[] = [];
  for (let i = 0; i < count; i++) {
    const run = pixels.slice(Math.floor((i * pixels.length) / count), Math.floor(((i + 1) * pixels.length) / count));
    ops.push({ kind: 'reveal', phase, layer, stamp: stampOf(run), strength: 1, tool });
  }
  return ops;
}

const fullStamp = (): Stamp => ({ x: 0, y: 0, width: W, height: H, alpha: new Uint8Array(W * H).fill(255) });

function layer(id: string, content: RgbaImage): LayerSpec {
  return { id, name: id, blend: 'normal', content: imageContent({ image: content }), initiallyVisible: true, initialOpacity: 1, exported: true };
}

/** Layer indices of every synthetic timeline. */
const SKETCH = 0;
const FLATS = 1;
const LINES = 2;

/**
 * The flat fills of a well-paced process: the last LATE_OPS operations lay the last LATE_SHARE of the
 * flats in patches about twice as large, so the picture keeps changing visibly until the end (the
 * last tenth of the process still carries more than a tenth of the way to the final image).
 */
const LATE_OPS = 100;
const LATE_SHARE = 0.2;
function pacedFlats(flats: readonly number[], count: number): Operation[] {
  const split = Math.round(flats.length * (1 - LATE_SHARE));
  return [...strokes(FLATS, flats.slice(0, split), count - LATE_OPS, 'flats', 'bucket'), ...strokes(FLATS, flats.slice(split), LATE_OPS, 'flats', 'bucket')];
}

function timeline(operations: Operation[], style = 'lineart'): Timeline {
  if (operations.length !== OPERATION_COUNT) throw new Error(`built ${operations.length} operations`);
  return {
    width: W,
    height: H,
    planScale: 1,
    finished: finalImage(),
    // The "sketch" layer (an early idea in green) sits below the flats, so flats cover it at the end.
    layers: [layer('sketch', greenContent()), layer('flats', flatsContent()), layer('lineart', linesContent())],
    operations,
    info: { backend: 'synthetic', backendVersion: '1', seed: 1, style },
  };
}

export type Variant =
  | 'good'
  | 'fade'
  | 'dust'
  | 'idle'
  | 'colour-first'
  | 'early-idea'
  | 'hidden-sketch'
  | 'blink'
  | 'flip-episode'
  | 'rushed';

/**
 * good: 250 line strokes, then 749 compact flat fills, each changing a small connected patch, the last
 * 100 of them larger (pacedFlats).
 * The others change one thing: fade (flats arrive as 40 whole-canvas washes), dust (fills scattered
 * across the canvas), idle (60 repeated strokes), colour-first (flats before lines), early-idea
 * (100 green strokes later painted over), hidden-sketch (the same strokes, on a layer hidden at the end),
 * blink (line art hidden for 12 operations), flip-episode (canvas flipped for 60 operations), rushed
 * (done at 60% of the process; the last 400 operations add one pixel each).
 */
export function syntheticTimeline(variant: Variant): Timeline {
  const lines = linePixels();
  const flats = flatPixels();
  switch (variant) {
    case 'good':
      return timeline([...strokes(LINES, lines, 250, 'lineart', 'pen'), ...pacedFlats(flats, 749)]);
    case 'fade': {
      const washes: Operation[] = [];
      for (let i = 1; i <= 40; i++) washes.push({ kind: 'reveal', phase: 'flats', layer: FLATS, stamp: fullStamp(), strength: i / 40, tool: 'airbrush' });
      // The remaining operations keep the line art as strokes, so only the fade is wrong.
      return timeline([...strokes(LINES, lines, 959, 'lineart', 'pen'), ...washes]);
    }
    case 'dust':
      return timeline([...strokes(LINES, lines, 250, 'lineart', 'pen'), ...strokes(FLATS, shuffled(flats), 749, 'flats', 'brush')]);
    case 'idle': {
      const ops = [...strokes(LINES, lines, 250, 'lineart', 'pen'), ...strokes(FLATS, flats, 689, 'flats', 'bucket')];
      // Each repeat re-reveals a patch that is already fully revealed: nothing on the canvas changes.
      for (let i = 0; i < 60; i++) ops.splice(300 + i * 10, 0, ops[260 + i * 10]!);
      return timeline(ops);
    }
    case 'colour-first':
      return timeline([...strokes(FLATS, flats, 749, 'flats', 'bucket'), ...strokes(LINES, lines, 250, 'lineart', 'pen')]);
    case 'early-idea':
    case 'hidden-sketch': {
      // Off the lines: green is farther from the red and blue flats than white paper is, everywhere it lands.
      const idea = strokes(SKETCH, flats.filter((p) => !isLine(p % W, Math.floor(p / W))), 100, 'sketch', 'brush');
      const hide: Operation[] = variant === 'hidden-sketch' ? [{ kind: 'visibility', phase: 'lineart', layer: SKETCH, visible: false }] : [];
      const rest = [...strokes(LINES, lines, 250, 'lineart', 'pen'), ...strokes(FLATS, flats, 649 - hide.length, 'flats', 'bucket')];
      return timeline([...idea, ...hide, ...rest]);
    }
    case 'blink': {
      const ops = [...strokes(LINES, lines, 250, 'lineart', 'pen'), ...strokes(FLATS, flats, 747, 'flats', 'bucket')];
      ops.splice(600, 0, { kind: 'visibility', phase: 'flats', layer: LINES, visible: false });
      ops.splice(612, 0, { kind: 'visibility', phase: 'flats', layer: LINES, visible: true });
      return timeline(ops);
    }
    case 'flip-episode': {
      const ops = [...strokes(LINES, lines, 250, 'lineart', 'pen'), ...pacedFlats(flats, 747)];
      ops.splice(500, 0, { kind: 'flip', phase: 'flats', flipped: true });
      ops.splice(560, 0, { kind: 'flip', phase: 'flats', flipped: false });
      return timeline(ops);
    }
    case 'rushed': {
      const tail = 400;
      const early = flats.slice(0, flats.length - tail);
      const dabs = flats.slice(flats.length - tail);
      return timeline([...strokes(LINES, lines, 250, 'lineart', 'pen'), ...strokes(FLATS, early, 349, 'flats', 'bucket'), ...strokes(FLATS, dabs, tail, 'rendering', 'brush')]);
    }
  }
}
