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
import { applyCurve, flipRowsInPlace, isIdentityCurve, stampAt } from '../../engine/src/core/renderer.js';
import { operationsAppliedAt } from '../../engine/src/core/steps.js';
import { IDENTITY_CURVE, type Curve, type Stamp, type Timeline } from '../../engine/src/core/timeline.js';

interface Transform {
  readonly region: Stamp;
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
}

export function referenceFrame(timeline: Timeline, step: number, longSide?: number): RgbImage {
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
  const maxU = Math.max(0, timeline.width / timeline.planScale - 1);
  const maxV = Math.max(0, timeline.height / timeline.planScale - 1);

  // Coverage 0..255 of every layer at every output pixel: the plan mask sampled bilinearly at the pixel centre.
  const cover = masks.map((mask) => {
    const plane = new Float64Array(width * height);
    for (let y = 0; y < height; y++) {
      const v = Math.min(maxV, Math.max(0, (y + 0.5) / k - 0.5));
      const v0 = Math.floor(v);
      const v1 = Math.min(ph - 1, v0 + 1);
      for (let x = 0; x < width; x++) {
        const u = Math.min(maxU, Math.max(0, (x + 0.5) / k - 0.5));
        const u0 = Math.floor(u);
        const u1 = Math.min(pw - 1, u0 + 1);
        const top = mask[v0 * pw + u0]! + (mask[v0 * pw + u1]! - mask[v0 * pw + u0]!) * (u - u0);
        const bottom = mask[v1 * pw + u0]! + (mask[v1 * pw + u1]! - mask[v1 * pw + u0]!) * (u - u0);
        plane[y * width + x] = top + (bottom - top) * (v - v0);
      }
    }
    return plane;
  });
  const coverage = (l: number, x: number, y: number): number => cover[l]![Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))]!;
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

  const composite = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
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
      const o = (y * width + x) * 3;
      composite[o] = Math.round(r);
      composite[o + 1] = Math.round(g);
      composite[o + 2] = Math.round(b);
    }
  }
  const out = new Uint8Array(composite.length);
  if (isIdentityCurve(curve)) out.set(composite);
  else applyCurve(composite, out, curve);
  if (flipped) flipRowsInPlace(out, width, height);
  return { width, height, channels: 3, data: out };
}
