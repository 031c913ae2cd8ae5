/**
 * Masses: the painted regions a painter lays in together. Region growing splits a smooth gradient (a sky,
 * a lit cheek) into bands wherever its running colour drifts too far, and the bands meet along borders
 * that the artwork does not have. Filling such bands one after the other leaves a straight-edged block of
 * paper (a rectangle in a background) for many steps; a painter lays the whole gradient as one mass in big
 * strokes. Painted regions that meet along a soft border (no visible colour step across it) are joined
 * into one mass; the flats fill masses, while each pixel still shows its own region's colour.
 */
import type { PlanRgb } from '../raster.js';
import type { Region, Segmentation } from '../segment.js';

/**
 * Colour change (sum over RGB, 0..765) across a border, measured from one pixel before it to one pixel
 * after it (the segmentation's borders sit a pixel off an antialiased edge), below which both sides are
 * one smooth surface: a gradient moves a few levels per pixel, a drawn or painted shape border tens.
 */
export const SOFT_STEP = 16;
/**
 * Share of a shared border that must be soft for two regions to be one mass (robust to the few
 * pixels where the border also runs along a third shape's antialiased edge).
 */
const SOFT_SHARE = 0.5;

/**
 * The segmentation with the soft-bordered painted regions of `painted` joined: labels 1..n over masses,
 * each mass a `Region` (area, box, centre and subject weight of its members; colours of its largest).
 * Regions outside `painted` (paper) stay masses of their own. `members[m - 1]` lists mass m's labels.
 */
export function joinMasses(seg: Segmentation, img: PlanRgb, pw: number, painted: ReadonlySet<number>): Segmentation & { members: number[][] } {
  const { labels, regions } = seg;
  const n = labels.length;
  const ph = n / pw;
  const count = regions.length + 1;
  // Soft pixel pairs and length of every shared border, keyed by the label pair.
  const soft = new Map<number, number>();
  const length = new Map<number, number>();
  const { r, g, b } = img;
  // Neighbours i and j = i + d; the change is read from i - d to j + d where the canvas has them.
  const pair = (i: number, j: number, before: number, after: number): void => {
    const p = labels[i]!;
    const q = labels[j]!;
    if (p === q || !painted.has(p) || !painted.has(q)) return;
    const key = p < q ? p * count + q : q * count + p;
    const d = Math.abs(r[before]! - r[after]!) + Math.abs(g[before]! - g[after]!) + Math.abs(b[before]! - b[after]!);
    if (d < SOFT_STEP) soft.set(key, (soft.get(key) ?? 0) + 1);
    length.set(key, (length.get(key) ?? 0) + 1);
  };
  for (let y = 0; y < ph; y++) {
    const row = y * pw;
    for (let x = 0; x < pw; x++) {
      const i = row + x;
      if (x + 1 < pw) pair(i, i + 1, x > 0 ? i - 1 : i, x + 2 < pw ? i + 2 : i + 1);
      if (y + 1 < ph) pair(i, i + pw, y > 0 ? i - pw : i, y + 2 < ph ? i + 2 * pw : i + pw);
    }
  }
  const parent = Int32Array.from({ length: count }, (_, k) => k);
  const root = (k: number): number => {
    while (parent[k] !== k) {
      parent[k] = parent[parent[k]!]!;
      k = parent[k]!;
    }
    return k;
  };
  for (const [key, softPairs] of soft) {
    if (softPairs < length.get(key)! * SOFT_SHARE) continue;
    const p = root(Math.floor(key / count));
    const q = root(key % count);
    if (p !== q) parent[Math.max(p, q)] = Math.min(p, q);
  }
  // Masses numbered in label order of their first member.
  const massOf = new Int32Array(count);
  const members: number[][] = [];
  for (let k = 1; k < count; k++) {
    const rk = root(k);
    if (massOf[rk] === 0) {
      members.push([]);
      massOf[rk] = members.length;
    }
    massOf[k] = massOf[rk]!;
    members[massOf[k]! - 1]!.push(k);
  }
  const massLabels = new Int32Array(n);
  for (let i = 0; i < n; i++) massLabels[i] = massOf[labels[i]!]!;
  const masses = members.map((list, m): Region => {
    const parts = list.map((k) => regions[k - 1]!);
    const area = parts.reduce((acc, p) => acc + p.area, 0);
    const largest = parts.reduce((best, p) => (p.area > best.area ? p : best));
    const weigh = (f: (p: Region) => number): number => parts.reduce((acc, p) => acc + f(p) * p.area, 0) / area;
    return {
      label: m + 1,
      area,
      box: [Math.min(...parts.map((p) => p.box[0])), Math.min(...parts.map((p) => p.box[1])), Math.max(...parts.map((p) => p.box[2])), Math.max(...parts.map((p) => p.box[3]))],
      cx: weigh((p) => p.cx),
      cy: weigh((p) => p.cy),
      flat: largest.flat,
      mean: largest.mean,
      subject: weigh((p) => p.subject),
    };
  });
  return { labels: massLabels, regions: masses, members };
}
