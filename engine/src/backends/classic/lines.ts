/**
 * Line tracing and ordering: skeleton pixels become polylines, polylines become pen strokes, and strokes
 * are ordered the way an inker works (main subject first, large contours before small ones, each
 * contour continued from where the pen is rather than jumping around).
 */
import type { Rng } from './rng.js';

/** A polyline in plan pixel-index coordinates: [x0, y0, x1, y1, ...]. */
export type Path = number[];

const NEIGHBOURS: readonly (readonly [number, number])[] = [
  [1, 0], [0, 1], [-1, 0], [0, -1], [1, 1], [-1, 1], [-1, -1], [1, -1],
];

/** Walks a one-pixel-wide skeleton into polylines; junctions are passed through along the straightest branch. */
export function traceSkeleton(skel: Uint8Array, width: number, height: number, minPoints = 3): Path[] {
  const n = width * height;
  const degree = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!skel[i]) continue;
      let d = 0;
      for (const [dx, dy] of NEIGHBOURS) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < width && yy < height && skel[yy * width + xx]) d++;
      }
      degree[i] = d;
    }
  }
  const visited = new Uint8Array(n);
  const paths: Path[] = [];
  const walk = (start: number): void => {
    const path: Path = [];
    let cur = start;
    let dirX = 0;
    let dirY = 0;
    visited[cur] = 1;
    path.push(cur % width, Math.floor(cur / width));
    while (true) {
      const cx = cur % width;
      const cy = (cur - cx) / width;
      let best = -1;
      let bestScore = -Infinity;
      let junction = -1;
      for (let k = 0; k < NEIGHBOURS.length; k++) {
        const [dx, dy] = NEIGHBOURS[k]!;
        const xx = cx + dx;
        const yy = cy + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        const j = yy * width + xx;
        if (!skel[j]) continue;
        if (visited[j]) {
          if (degree[j]! >= 3 && path.length > 2) junction = j;
          continue;
        }
        const len = k < 4 ? 1 : Math.SQRT2;
        const score = (dirX * dx + dirY * dy) / len + (k < 4 ? 0.01 : 0);
        if (score > bestScore) {
          bestScore = score;
          best = j;
        }
      }
      if (best < 0) {
        if (junction >= 0) path.push(junction % width, Math.floor(junction / width));
        break;
      }
      const nx = best % width;
      const ny = (best - nx) / width;
      // Direction smoothed over a few steps so pixel staircases do not decide the branch at a junction.
      dirX = dirX * 0.6 + (nx - cx);
      dirY = dirY * 0.6 + (ny - cy);
      visited[best] = 1;
      path.push(nx, ny);
      cur = best;
    }
    if (path.length / 2 >= minPoints) paths.push(path);
  };
  for (let i = 0; i < n; i++) if (skel[i] && !visited[i] && degree[i]! <= 1) walk(i);
  for (let i = 0; i < n; i++) if (skel[i] && !visited[i] && degree[i]! >= 3) walk(i);
  for (let i = 0; i < n; i++) if (skel[i] && !visited[i]) walk(i);
  return paths;
}

export function pathLength(p: Path): number {
  let len = 0;
  for (let k = 2; k < p.length; k += 2) len += Math.hypot(p[k]! - p[k - 2]!, p[k + 1]! - p[k - 1]!);
  return len;
}

/** Moving-average smoothing that keeps the end points (removes the pixel staircase of a skeleton). */
export function smoothPath(p: Path, radius: number): Path {
  const m = p.length / 2;
  if (m < 3) return p.slice();
  const out: Path = [];
  for (let k = 0; k < m; k++) {
    const r = Math.min(radius, k, m - 1 - k);
    let sx = 0;
    let sy = 0;
    for (let t = -r; t <= r; t++) {
      sx += p[2 * (k + t)]!;
      sy += p[2 * (k + t) + 1]!;
    }
    out.push(sx / (2 * r + 1), sy / (2 * r + 1));
  }
  return out;
}

/** Ramer-Douglas-Peucker simplification. */
export function simplify(p: Path, epsilon: number): Path {
  const m = p.length / 2;
  if (m <= 2) return p.slice();
  const keep = new Uint8Array(m);
  keep[0] = 1;
  keep[m - 1] = 1;
  const stack: [number, number][] = [[0, m - 1]];
  while (stack.length > 0) {
    const [a, b] = stack.pop()!;
    const ax = p[2 * a]!;
    const ay = p[2 * a + 1]!;
    const vx = p[2 * b]! - ax;
    const vy = p[2 * b + 1]! - ay;
    const len = Math.hypot(vx, vy) || 1;
    let worst = -1;
    let worstD = epsilon;
    for (let k = a + 1; k < b; k++) {
      const d = Math.abs((p[2 * k]! - ax) * vy - (p[2 * k + 1]! - ay) * vx) / len;
      if (d > worstD) {
        worstD = d;
        worst = k;
      }
    }
    if (worst >= 0) {
      keep[worst] = 1;
      stack.push([a, worst], [worst, b]);
    }
  }
  const out: Path = [];
  for (let k = 0; k < m; k++) if (keep[k]) out.push(p[2 * k]!, p[2 * k + 1]!);
  return out;
}

/** Splits a path into strokes no longer than `maxLen` and at sharp corners (a pen lifts at corners). */
export function splitIntoStrokes(p: Path, maxLen: number, rng: Rng): Path[] {
  const m = p.length / 2;
  const out: Path[] = [];
  let cur: Path = [p[0]!, p[1]!];
  let len = 0;
  let limit = maxLen * rng.range(0.7, 1.3);
  for (let k = 1; k < m; k++) {
    const x = p[2 * k]!;
    const y = p[2 * k + 1]!;
    len += Math.hypot(x - p[2 * k - 2]!, y - p[2 * k - 1]!);
    cur.push(x, y);
    let corner = false;
    if (k >= 3 && k + 3 < m) {
      const ax = x - p[2 * (k - 3)]!;
      const ay = y - p[2 * (k - 3) + 1]!;
      const bx = p[2 * (k + 3)]! - x;
      const by = p[2 * (k + 3) + 1]! - y;
      const cos = (ax * bx + ay * by) / ((Math.hypot(ax, ay) || 1) * (Math.hypot(bx, by) || 1));
      corner = cos < 0.3 && len > 4;
    }
    if ((len >= limit || corner) && k < m - 2) {
      out.push(cur);
      cur = [x, y];
      len = 0;
      limit = maxLen * rng.range(0.7, 1.3);
    }
  }
  if (cur.length >= 4) out.push(cur);
  else if (out.length > 0) out[out.length - 1]!.push(...cur.slice(2));
  return out;
}

export interface OrderedPath {
  readonly path: Path;
  readonly group: number;
}

/**
 * Orders paths like a person drawing: groups (connected contours) by importance (length x subject weight)
 * discounted by distance from the pen, and inside a group the nearest path next, entered from its nearer end.
 */
export function orderPaths(
  paths: readonly Path[],
  groupOf: (p: Path) => number,
  weightAt: (x: number, y: number) => number,
  start: readonly [number, number],
  reach: number,
  rng: Rng,
): OrderedPath[] {
  const groups = new Map<number, Path[]>();
  for (const p of paths) {
    const g = groupOf(p);
    const list = groups.get(g);
    if (list) list.push(p);
    else groups.set(g, [p]);
  }
  interface G {
    id: number;
    paths: Path[];
    score: number;
    cx: number;
    cy: number;
  }
  const gs: G[] = [];
  for (const [id, list] of groups) {
    let len = 0;
    let sx = 0;
    let sy = 0;
    let count = 0;
    for (const p of list) {
      len += pathLength(p);
      for (let k = 0; k < p.length; k += 2) {
        sx += p[k]!;
        sy += p[k + 1]!;
        count++;
      }
    }
    const cx = sx / count;
    const cy = sy / count;
    gs.push({ id, paths: list, score: len * (0.25 + weightAt(cx, cy)) * rng.range(0.75, 1.3), cx, cy });
  }
  const out: OrderedPath[] = [];
  let penX = start[0];
  let penY = start[1];
  const remaining = new Set(gs);
  while (remaining.size > 0) {
    let best: G | null = null;
    let bestScore = -Infinity;
    for (const g of remaining) {
      const d = Math.hypot(g.cx - penX, g.cy - penY);
      const s = g.score / (1 + d / reach);
      if (s > bestScore) {
        bestScore = s;
        best = g;
      }
    }
    const g = best!;
    remaining.delete(g);
    const left = new Set(g.paths);
    while (left.size > 0) {
      let pick: Path | null = null;
      let reverse = false;
      let pickScore = Infinity;
      for (const p of left) {
        const m = p.length;
        const d0 = Math.hypot(p[0]! - penX, p[1]! - penY);
        const d1 = Math.hypot(p[m - 2]! - penX, p[m - 1]! - penY);
        const len = Math.max(1, p.length / 2);
        // Long strokes are drawn before short ticks nearby; the distance term keeps the hand local.
        const s = Math.min(d0, d1) - 0.35 * Math.sqrt(len) * 4;
        if (s < pickScore) {
          pickScore = s;
          pick = p;
          reverse = d1 < d0;
        }
      }
      const p = pick!;
      left.delete(p);
      const path = reverse ? reversePath(p) : p;
      out.push({ path, group: g.id });
      penX = path[path.length - 2]!;
      penY = path[path.length - 1]!;
    }
  }
  return out;
}

export function reversePath(p: Path): Path {
  const out: Path = [];
  for (let k = p.length - 2; k >= 0; k -= 2) out.push(p[k]!, p[k + 1]!);
  return out;
}
