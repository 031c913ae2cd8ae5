/**
 * The unoptimised reference renderer: the definition of a frame, written as plainly as possible so the
 * fast renderer (engine/src/core/renderer.ts: snapshots, dirty tiles, opaque shortcut) can be checked
 * against it. It replays every operation from the blank canvas at plan resolution, then computes every
 * output pixel from scratch: each showing layer's coverage is the bilinear sample of its plan mask at the
 * pixel centre, its colour its content at the output size, composited bottom-up over white paper; then
 * the global curve and the flip.
 */
import { renderContent } from '../../engine/src/core/content.js';
import { outputSize, resizeRgbArea, type RgbImage, type RgbaImage } from '../../engine/src/core/image.js';
import { planSizeOf } from '../../engine/src/core/replay.js';
import { stampAt } from '../../engine/src/core/sampling.js';
import { applyCurve, flipRowsInPlace, isIdentityCurve } from '../../engine/src/core/view-effects.js';
import { operationsAppliedAt } from '../../engine/src/core/steps.js';
import { IDENTITY_CURVE, type Curve, type Stamp, type Timeline } from '../../engine/src/core/timeline.js';

interface Transform {
  readonly region: Stamp;
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
}

interface Geometry {
  readonly width: number;
  readonly height: number;
  readonly pw: number;
  readonly ph: number;
  /** Output pixels per plan pixel. */
  readonly k: number;
  /** Largest plan coordinate sampled (the plan canvas edge, in pixel centres). */
  readonly maxU: number;
  readonly maxV: number;
}

/** Coverage 0..255 of a plan mask at output pixel (x, y) (clamped to the canvas): bilinear at the pixel centre. */
function coverageAt(mask: Uint8Array, g: Geometry, x: number, y: number): number {
  const xx = Math.min(g.width - 1, Math.max(0, x));
  const yy = Math.min(g.height - 1, Math.max(0, y));
  const u = Math.min(g.maxU, Math.max(0, (xx + 0.5) / g.k - 0.5));
  const v = Math.min(g.maxV, Math.max(0, (yy + 0.5) / g.k - 0.5));
  const u0 = Math.floor(u);
  const v0 = Math.floor(v);
  const u1 = Math.min(g.pw - 1, u0 + 1);
  const v1 = Math.min(g.ph - 1, v0 + 1);
  const top = mask[v0 * g.pw + u0]! + (mask[v0 * g.pw + u1]! - mask[v0 * g.pw + u0]!) * (u - u0);
  const bottom = mask[v1 * g.pw + u0]! + (mask[v1 * g.pw + u1]! - mask[v1 * g.pw + u0]!) * (u - u0);
  return top + (bottom - top) * (v - v0);
}

/**
 * The frame at `step`, `longSide` on its long side (default full size); with `rows` = [y0, y1), only
 * those rows (the returned image is that band), so a full-size frame of a big canvas can be checked in part.
 */
export function referenceFrame(timeline: Timeline, step: number, longSide?: number, rows?: readonly [number, number]): RgbImage {
  const { planWidth: pw, planHeight: ph } = planSizeOf(timeline);
  const masks = timeline.layers.map(() => new Uint8Array(pw * ph));
  const visible = timeline.layers.map((l) => l.initiallyVisible);
  const opacity = timeline.layers.map((l) => l.initialOpacity);
  const transforms: (Transform | null)[] = timeline.layers.map(() => null);
  let flipped = false;
  let curve: Curve = IDENTITY_CURVE;
  for (const op of timeline.operations.slice(0, operationsAppliedAt(step))) {
    if (op.kind === 'reveal') {
      const s = op.stamp;
      for (let y = 0; y < s.height; y++) {
        for (let x = 0; x < s.width; x++) {
          const px = s.x + x;
          const py = s.y + y;
          if (px < 0 || py < 0 || px >= pw || py >= ph) continue;
          const v = Math.round(s.alpha[y * s.width + x]! * op.strength);
          masks[op.layer]![py * pw + px] = Math.max(masks[op.layer]![py * pw + px]!, v);
        }
      }
    } else if (op.kind === 'visibility') visible[op.layer] = op.visible;
    else if (op.kind === 'opacity') opacity[op.layer] = op.opacity;
    else if (op.kind === 'flip') flipped = op.flipped;
    else if (op.kind === 'curve') curve = op.curve;
    else transforms[op.layer] = op.region ? { region: op.region, dx: op.dx, dy: op.dy, scale: op.scale } : null;
  }

  const { width, height } = outputSize(timeline.width, timeline.height, longSide);
  const k = (timeline.planScale * Math.max(width, height)) / Math.max(timeline.width, timeline.height);
  const art = width === timeline.width && height === timeline.height ? timeline.finished : resizeRgbArea(timeline.finished, width, height);
  const contents = timeline.layers.map((l) => renderContent(l.content, { art, scale: k }));

  const geometry: Geometry = { width, height, pw, ph, k, maxU: Math.max(0, timeline.width / timeline.planScale - 1), maxV: Math.max(0, timeline.height / timeline.planScale - 1) };
  const coverage = (l: number, x: number, y: number): number => coverageAt(masks[l]!, geometry, x, y);
  /** Layer l's paint at fractional output position (fx, fy): [r, g, b, alpha 0..1] or null. */
  const paintAt = (l: number, c: RgbaImage, fx: number, fy: number): [number, number, number, number] | null => {
    let r = 0;
    let g = 0;
    let b = 0;
    let a = 0;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
      const weight = (dx ? fx - x0 : 1 - (fx - x0)) * (dy ? fy - y0 : 1 - (fy - y0));
      if (weight === 0) continue;
      const xx = Math.min(width - 1, Math.max(0, x0 + dx));
      const yy = Math.min(height - 1, Math.max(0, y0 + dy));
      const i = (yy * width + xx) * 4;
      const wa = (weight * coverage(l, xx, yy) * c.data[i + 3]!) / 65025;
      r += c.data[i]! * wa;
      g += c.data[i + 1]! * wa;
      b += c.data[i + 2]! * wa;
      a += wa;
    }
    return a > 0 ? [r / a, g / a, b / a, a] : null;
  };

  const [y0, y1] = rows ?? [0, height];
  const bandHeight = y1 - y0;
  const composite = new Uint8Array(width * bandHeight * 3);
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < width; x++) {
      let r = 255;
      let g = 255;
      let b = 255;
      timeline.layers.forEach((spec, l) => {
        if (!visible[l] || !(opacity[l]! > 0)) return;
        const c = contents[l]!;
        const t = transforms[l];
        let paint: [number, number, number, number] | null;
        if (t) {
          // A moved region shows the pixels from where they came; the place they left is empty.
          const cx = t.region.x + t.region.width / 2;
          const cy = t.region.y + t.region.height / 2;
          const px = (x + 0.5) / k;
          const py = (y + 0.5) / k;
          const qx = cx + (px - t.dx - cx) / t.scale;
          const qy = cy + (py - t.dy - cy) / t.scale;
          if (stampAt(t.region, qx, qy) >= 128) paint = paintAt(l, c, qx * k - 0.5, qy * k - 0.5);
          else if (stampAt(t.region, px, py) >= 128) paint = null;
          else paint = paintAt(l, c, x, y);
        } else {
          const p = (y * width + x) * 4;
          const a = (coverage(l, x, y) * c.data[p + 3]!) / 65025;
          paint = a > 0 ? [c.data[p]!, c.data[p + 1]!, c.data[p + 2]!, a] : null;
        }
        if (!paint) return;
        const a = paint[3] * opacity[l]!;
        if (spec.blend === 'multiply') {
          r *= 1 - a + (a * paint[0]) / 255;
          g *= 1 - a + (a * paint[1]) / 255;
          b *= 1 - a + (a * paint[2]) / 255;
        } else {
          r += (paint[0] - r) * a;
          g += (paint[1] - g) * a;
          b += (paint[2] - b) * a;
        }
      });
      const o = ((y - y0) * width + x) * 3;
      composite[o] = Math.round(r);
      composite[o + 1] = Math.round(g);
      composite[o + 2] = Math.round(b);
    }
  }
  const out = new Uint8Array(composite.length);
  if (isIdentityCurve(curve)) out.set(composite);
  else applyCurve(composite, out, curve);
  if (flipped) flipRowsInPlace(out, width, bandHeight);
  return { width, height: bandHeight, channels: 3, data: out };
}
