/**
 * The operation budget: how the 999 operations are shared among the phases of a recipe, and how a
 * phase's marks are fitted to the operations it was given.
 */
import type { Mark } from './phases/phase.js';

export interface Share {
  readonly target: number;
  readonly cap: number;
}

/**
 * Shares `total` operations among phases: each gets its target share, at most its capacity; what capped
 * phases leave is shared among the others by their targets. Whatever nobody can take goes to the last phase.
 */
export function shareBudget<K extends string>(total: number, shares: Record<K, Share>): Record<K, number> {
  const keys = Object.keys(shares) as K[];
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  let left = total;
  let open = keys.filter((k) => shares[k].cap > 0);
  for (let round = 0; round < 8 && left > 0 && open.length > 0; round++) {
    const weight = open.reduce((acc, k) => acc + shares[k].target, 0);
    let given = 0;
    for (const k of open) {
      const want = Math.floor((left * shares[k].target) / weight);
      const take = Math.min(want, shares[k].cap - out[k]);
      out[k] += take;
      given += take;
    }
    left -= given;
    open = open.filter((k) => out[k] < shares[k].cap);
    if (given === 0) break;
  }
  const last = keys[keys.length - 1]!;
  out[last] += left;
  return out;
}

/**
 * Merges consecutive stamps into `budget` operations (max of alphas), keeping the order. The pairs merged
 * are the ones closest together (smallest united box), so one operation stays one local shape, not two
 * far-apart marks.
 */
export function mergeStamps(stamps: readonly Mark[], budget: number): Mark[] {
  if (stamps.length <= budget) return [...stamps];
  // No operation to draw with (a phase given nothing on a tiny canvas): nothing is drawn.
  if (budget < 1) return [];
  // Groups of consecutive stamps, with their boxes; merge the cheapest neighbouring pair until few enough.
  const groups = stamps.map((s) => ({ items: [s], x0: s.stamp.x, y0: s.stamp.y, x1: s.stamp.x + s.stamp.width, y1: s.stamp.y + s.stamp.height }));
  type G = (typeof groups)[number];
  const unionCost = (a: G, b: G): number => {
    const area = (Math.max(a.x1, b.x1) - Math.min(a.x0, b.x0)) * (Math.max(a.y1, b.y1) - Math.min(a.y0, b.y0));
    return area - (a.x1 - a.x0) * (a.y1 - a.y0) - (b.x1 - b.x0) * (b.y1 - b.y0);
  };
  const cost = groups.slice(0, -1).map((g, k) => unionCost(g, groups[k + 1]!));
  while (groups.length > budget) {
    let best = 0;
    for (let k = 1; k < cost.length; k++) if (cost[k]! < cost[best]!) best = k;
    const a = groups[best]!;
    const b = groups[best + 1]!;
    const merged: G = { items: [...a.items, ...b.items], x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
    groups.splice(best, 2, merged);
    cost.splice(best, 1);
    if (best > 0) cost[best - 1] = unionCost(groups[best - 1]!, merged);
    if (best < groups.length - 1) cost[best] = unionCost(merged, groups[best + 1]!);
  }
  return groups.map((g) => (g.items.length === 1 ? g.items[0]! : unionMark(g.items)));
}

/**
 * Several marks as one: their union box, each pixel the highest coverage any of them leaves (a weaker
 * mark's strength folded into its alpha), so the one mark reveals exactly what they did together.
 */
export function unionMark(items: readonly Mark[]): Mark {
  const x0 = Math.min(...items.map((m) => m.stamp.x));
  const y0 = Math.min(...items.map((m) => m.stamp.y));
  const w = Math.max(...items.map((m) => m.stamp.x + m.stamp.width)) - x0;
  const h = Math.max(...items.map((m) => m.stamp.y + m.stamp.height)) - y0;
  const strength = Math.max(...items.map((m) => m.strength));
  const alpha = new Uint8Array(w * h);
  for (const { stamp: s, strength: st } of items) {
    // Strengths differ slightly between sketch strokes: fold them into the alpha.
    const f = st / strength;
    const src = s.alpha;
    for (let y = 0; y < s.height; y++) {
      const row = (y + s.y - y0) * w + (s.x - x0);
      const from = y * s.width;
      if (f === 1) {
        // The strongest marks (most of them): their alpha as it is.
        for (let x = 0; x < s.width; x++) {
          const v = src[from + x]!;
          if (v > alpha[row + x]!) alpha[row + x] = v;
        }
        continue;
      }
      for (let x = 0; x < s.width; x++) {
        const v = Math.round(src[from + x]! * f);
        if (v > alpha[row + x]!) alpha[row + x] = v;
      }
    }
  }
  return { stamp: { x: x0, y: y0, width: w, height: h, alpha }, strength };
}
