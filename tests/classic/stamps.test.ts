/**
 * Stroke stamps (classic/raster/stamps.ts StampBuilder.segment): visiting only the columns of each row
 * that lie near the segment gives exactly the alpha that testing every pixel of the box gives, for
 * segments at every angle, length and taper, including points, and ones reaching past the builder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StampBuilder } from '../../engine/src/backends/classic/raster.js';
import { Rng } from '../../engine/src/backends/classic/rng.js';

/** The capsule's alpha by definition, at every pixel of the builder: distance to the segment, radius tapering from ra to rb, a linear feather. */
function plainSegment(builder: StampBuilder, ax: number, ay: number, ra: number, bx: number, by: number, rb: number, feather: number, strength: number): void {
  const vx = bx - ax;
  const vy = by - ay;
  const len2 = vx * vx + vy * vy;
  const half = feather / 2;
  const outer = Math.max(ra, rb) + half;
  const inner = Math.min(ra, rb) - half;
  const inner2 = inner > 0 ? inner * inner : -1;
  for (let y = builder.y0; y < builder.y0 + builder.height; y++) {
    for (let x = builder.x0; x < builder.x0 + builder.width; x++) {
      let t = len2 > 0 ? ((x - ax) * vx + (y - ay) * vy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = x - (ax + vx * t);
      const dy = y - (ay + vy * t);
      const d2 = dx * dx + dy * dy;
      if (d2 >= outer * outer) continue;
      let a: number;
      if (d2 <= inner2 && feather > 0) a = strength;
      else {
        const d = Math.sqrt(d2);
        const r = ra + (rb - ra) * t;
        const v = feather > 0 ? (r + half - d) / feather : d <= r ? 1 : 0;
        if (v <= 0) continue;
        a = (v >= 1 ? 1 : v) * strength;
      }
      const i = (y - builder.y0) * builder.width + (x - builder.x0);
      if (a > builder.alpha[i]!) builder.alpha[i] = a;
    }
  }
}

describe('stroke stamps', () => {
  it('a segment covers exactly the pixels and alpha of its definition, at any angle, taper and feather', () => {
    const rng = new Rng(3);
    for (let k = 0; k < 400; k++) {
      const ax = rng.range(-5, 45);
      const ay = rng.range(-5, 45);
      // Points, short dabs, long strokes, and exactly horizontal or vertical ones.
      const length = k % 10 === 0 ? 0 : rng.range(0.2, k % 3 === 0 ? 60 : 8);
      const angle = k % 7 === 0 ? (k % 2) * (Math.PI / 2) : rng.range(0, Math.PI * 2);
      const bx = ax + Math.cos(angle) * length;
      const by = ay + Math.sin(angle) * length;
      const ra = rng.range(0.3, 6);
      const rb = k % 4 === 0 ? ra : rng.range(0.3, 6);
      const feather = k % 5 === 0 ? 0 : rng.range(0.5, 3);
      const strength = rng.range(0.2, 1);
      const fast = new StampBuilder(0, 0, 40, 40);
      const plain = new StampBuilder(0, 0, 40, 40);
      fast.segment(ax, ay, ra, bx, by, rb, feather, strength);
      plainSegment(plain, ax, ay, ra, bx, by, rb, feather, strength);
      assert.deepEqual(fast.alpha, plain.alpha, `segment ${k}: (${ax}, ${ay}) r ${ra} to (${bx}, ${by}) r ${rb}, feather ${feather}`);
    }
  });
});
