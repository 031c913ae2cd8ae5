/**
 * How a region is filled in several operations: solid regions in brush bands (broad strokes laid side by
 * side along the region, the way a background or a big shape is laid in with a wide brush), complex ones
 * in geodesic chunks that follow their shape. Every chunk is one connected piece of the region.
 */
import type { Stamp } from '../../../core/timeline.js';
import type { Rng } from '../rng.js';
import type { Region, Segmentation } from '../segment.js';

/**
 * Chunks of `region` for `parts` operations (about), in filling order. Chunks are grown by one pixel so
 * that neighbouring fills meet without a gap; `mayCover[label]` says into which neighbouring regions
 * (those already painted, or paper) they may grow: growing into a region not painted yet would show a
 * thin outline of its colour (the layer's content there) before it is filled. Null: anywhere.
 */
export function fillChunks(seg: Segmentation, region: Region, pw: number, parts: number, rng: Rng, mayCover: Uint8Array | null = null): Stamp[] {
  const [x0, y0, x1, y1] = region.box;
  if (parts <= 1) {
    const rw = x1 - x0 + 1;
    const whole = new Int32Array(rw * (y1 - y0 + 1)).fill(-1);
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (seg.labels[y * pw + x] === region.label) whole[(y - y0) * rw + x - x0] = 0;
    return cellStamps(whole, rw, y1 - y0 + 1, x0, y0, 1, seg, pw, region.label, mayCover);
  }
  const solid = region.area / ((x1 - x0 + 1) * (y1 - y0 + 1));
  return solid >= 0.3 ? brushBands(seg, region, pw, parts, rng, mayCover) : regionChunks(seg, region, pw, parts, rng, mayCover);
}

/**
 * Broad strokes side by side along the region's long axis, in a brick pattern, each band's border gently
 * wavy; band after band from one side, the hand going back and forth. Pieces of a stroke that the
 * region's shape cuts apart are separate chunks; slivers join their neighbour.
 */
export function brushBands(seg: Segmentation, region: Region, pw: number, parts: number, rng: Rng, mayCover: Uint8Array | null = null): Stamp[] {
  const [x0, y0, x1, y1] = region.box;
  const rw = x1 - x0 + 1;
  const rh = y1 - y0 + 1;
  const { labels } = seg;
  const label = region.label;
  // Long axis from the second moments; strokes run along it.
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (labels[y * pw + x] !== label) continue;
      const dx = x - region.cx;
      const dy = y - region.cy;
      sxx += dx * dx;
      syy += dy * dy;
      sxy += dx * dy;
    }
  }
  const theta = 0.5 * Math.atan2(2 * sxy, sxx - syy) + rng.range(-0.12, 0.12);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  // Cell size for about `parts` strokes of aspect ~4:1.
  const band = Math.max(3, Math.sqrt(region.area / parts / 4));
  const length = band * 4;
  let vmin = Infinity;
  let umin = Infinity;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (labels[y * pw + x] !== label) continue;
      const u = (x - region.cx) * c + (y - region.cy) * s;
      const v = -(x - region.cx) * s + (y - region.cy) * c;
      if (v < vmin) vmin = v;
      if (u < umin) umin = u;
    }
  }
  const wave = band * 0.22;
  const waveLength = length * rng.range(1.2, 2);
  const phase = rng.range(0, Math.PI * 2);
  const offsets: number[] = [];
  const key = new Int32Array(rw * rh).fill(-1);
  let maxBand = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (labels[y * pw + x] !== label) continue;
      const u = (x - region.cx) * c + (y - region.cy) * s - umin;
      const v = -(x - region.cx) * s + (y - region.cy) * c - vmin;
      const b = Math.max(0, Math.floor((v + wave * Math.sin((u / waveLength) * 2 * Math.PI + phase)) / band));
      while (offsets.length <= b) offsets.push(rng.range(0, length));
      const k = Math.floor((u + offsets[b]!) / length);
      key[(y - y0) * rw + (x - x0)] = b * 4096 + k;
      if (b > maxBand) maxBand = b;
    }
  }
  // Connected pieces of each stroke, ordered band by band, back and forth along the bands.
  const piece = new Int32Array(rw * rh).fill(-1);
  const pieces: { band: number; along: number; size: number }[] = [];
  const stack: number[] = [];
  for (let j = 0; j < rw * rh; j++) {
    if (key[j]! < 0 || piece[j]! >= 0) continue;
    const id = pieces.length;
    const k = key[j]!;
    let size = 0;
    piece[j] = id;
    stack.push(j);
    while (stack.length > 0) {
      const q = stack.pop()!;
      size++;
      const qx = q % rw;
      const qy = (q - qx) / rw;
      for (let d = 0; d < 4; d++) {
        const nx = d === 0 ? qx + 1 : d === 1 ? qx - 1 : qx;
        const ny = d === 2 ? qy + 1 : d === 3 ? qy - 1 : qy;
        if (nx < 0 || ny < 0 || nx >= rw || ny >= rh) continue;
        const nj = ny * rw + nx;
        if (key[nj] === k && piece[nj]! < 0) {
          piece[nj] = id;
          stack.push(nj);
        }
      }
    }
    pieces.push({ band: Math.floor(k / 4096), along: k % 4096, size });
  }
  // Slivers (a corner of the shape cut off by a band) join a neighbouring piece: two passes suffice.
  const minSize = Math.max(6, band * band * 0.3);
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < rw * rh; j++) {
      const p = piece[j]!;
      if (p < 0 || pieces[p]!.size >= minSize) continue;
      const qx = j % rw;
      const qy = (j - qx) / rw;
      for (let d = 0; d < 4; d++) {
        const nx = d === 0 ? qx + 1 : d === 1 ? qx - 1 : qx;
        const ny = d === 2 ? qy + 1 : d === 3 ? qy - 1 : qy;
        if (nx < 0 || ny < 0 || nx >= rw || ny >= rh) continue;
        const q = piece[ny * rw + nx]!;
        if (q >= 0 && q !== p && pieces[q]!.size >= minSize) {
          piece[j] = q;
          pieces[q]!.size++;
          pieces[p]!.size--;
          break;
        }
      }
    }
  }
  const order = pieces
    .map((p, id) => ({ ...p, id }))
    .filter((p) => p.size > 0)
    .sort((p, q) => p.band - q.band || (p.band % 2 === 0 ? p.along - q.along : q.along - p.along));
  const rank = new Int32Array(pieces.length).fill(-1);
  order.forEach((p, r) => (rank[p.id] = r));
  for (let j = 0; j < rw * rh; j++) if (piece[j]! >= 0) piece[j] = rank[piece[j]!]!;
  return cellStamps(piece, rw, rh, x0, y0, order.length, seg, pw, label, mayCover);
}

/** Splits a big region into chunks (Voronoi cells of random points inside it), filled one after another. */
export function regionChunks(seg: Segmentation, region: Region, pw: number, parts: number, rng: Rng, mayCover: Uint8Array | null = null): Stamp[] {
  if (parts <= 1) return fillChunks(seg, region, pw, 1, rng, mayCover);
  const [x0, y0, x1, y1] = region.box;
  const pts: [number, number][] = [];
  for (let tries = 0; pts.length < parts && tries < parts * 50; tries++) {
    const x = rng.int(x0, x1);
    const y = rng.int(y0, y1);
    if (seg.labels[y * pw + x] === region.label) pts.push([x, y]);
  }
  if (pts.length === 0) return fillChunks(seg, region, pw, 1, rng, mayCover);
  // Visit cells in a chain from the first point, nearest next, like filling with a big brush.
  const order: [number, number][] = [pts[0]!];
  const rest = pts.slice(1);
  while (rest.length > 0) {
    const [lx, ly] = order[order.length - 1]!;
    let bi = 0;
    let bd = Infinity;
    rest.forEach(([x, y], k) => {
      const d = Math.hypot(x - lx, y - ly);
      if (d < bd) {
        bd = d;
        bi = k;
      }
    });
    order.push(rest.splice(bi, 1)[0]!);
  }
  // Cells grow from their seeds through the region (a breadth-first, geodesic Voronoi): O(area), and
  // each chunk follows the region's shape the way a brush fill would.
  const rw = x1 - x0 + 1;
  const rh = y1 - y0 + 1;
  const cellOf = new Int32Array(rw * rh).fill(-1);
  const queue = new Int32Array(rw * rh);
  let head = 0;
  let tail = 0;
  order.forEach(([x, y], k) => {
    const j = (y - y0) * rw + (x - x0);
    if (cellOf[j] === -1) {
      cellOf[j] = k;
      queue[tail++] = j;
    }
  });
  while (head < tail) {
    const j = queue[head++]!;
    const lx = j % rw;
    const ly = (j - lx) / rw;
    const k = cellOf[j]!;
    for (let d = 0; d < 4; d++) {
      const nx = d === 0 ? lx + 1 : d === 1 ? lx - 1 : lx;
      const ny = d === 2 ? ly + 1 : d === 3 ? ly - 1 : ly;
      if (nx < 0 || ny < 0 || nx >= rw || ny >= rh) continue;
      const nj = ny * rw + nx;
      if (cellOf[nj] !== -1 || seg.labels[(ny + y0) * pw + nx + x0] !== region.label) continue;
      cellOf[nj] = k;
      queue[tail++] = nj;
    }
  }
  return cellStamps(cellOf, rw, rh, x0, y0, order.length, seg, pw, region.label, mayCover);
}

/**
 * One stamp per cell of a region's cell map (`cellOf`, -1 outside, over the box at x0, y0), in cell
 * order, each grown by one pixel (into its own region, or where `mayCover` allows) so neighbouring
 * chunks overlap and the region ends fully covered.
 */
function cellStamps(
  cellOf: Int32Array,
  rw: number,
  rh: number,
  x0: number,
  y0: number,
  count: number,
  seg: Segmentation,
  pw: number,
  label: number,
  mayCover: Uint8Array | null,
): Stamp[] {
  const boxes = cellBoxes(cellOf, rw, rh, count);
  const stamps: Stamp[] = [];
  for (let k = 0; k < count; k++) {
    if (boxes[4 * k]! > boxes[4 * k + 2]!) continue;
    stamps.push(cellStamp(cellOf, rw, k, boxes.subarray(4 * k, 4 * k + 4), x0, y0, seg, pw, label, mayCover));
  }
  return stamps;
}

/**
 * Each cell's bounding box, as x0, y0, x1, y1 per cell (x0 > x1 for a cell with no pixel).
 *
 * This and `cellStamp` are functions of their own so that V8 optimises each loop with the whole
 * function's feedback: one function with all the loops was optimised on stack in its first loop and then
 * left that code at the next, on every call (see the classic README, "Performance").
 */
function cellBoxes(cellOf: Int32Array, rw: number, rh: number, count: number): Int32Array {
  const boxes = new Int32Array(4 * count);
  for (let k = 0; k < count; k++) {
    boxes[4 * k] = rw;
    boxes[4 * k + 1] = rh;
    boxes[4 * k + 2] = -1;
    boxes[4 * k + 3] = -1;
  }
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) {
      const c = cellOf[y * rw + x]!;
      if (c < 0) continue;
      const b = 4 * c;
      if (x < boxes[b]!) boxes[b] = x;
      if (y < boxes[b + 1]!) boxes[b + 1] = y;
      if (x > boxes[b + 2]!) boxes[b + 2] = x;
      if (y > boxes[b + 3]!) boxes[b + 3] = y;
    }
  }
  return boxes;
}

/** Cell `k` within `box` (x0, y0, x1, y1 in `cellOf`), grown by a 3x3 ring where the region or `mayCover` allows. */
function cellStamp(
  cellOf: Int32Array,
  rw: number,
  k: number,
  box: Int32Array,
  x0: number,
  y0: number,
  seg: Segmentation,
  pw: number,
  label: number,
  mayCover: Uint8Array | null,
): Stamp {
  const ph = seg.labels.length / pw;
  const bx0 = box[0]!;
  const by0 = box[1]!;
  const bx1 = box[2]!;
  const by1 = box[3]!;
  const w = bx1 - bx0 + 3;
  const h = by1 - by0 + 3;
  // The cell, then a 3x3 dilation as two 1-D passes (rows, then columns).
  const inCell = new Uint8Array(w * h);
  for (let y = by0; y <= by1; y++) {
    const row = y * rw;
    const out = (y - by0 + 1) * w + 1 - bx0;
    for (let x = bx0; x <= bx1; x++) if (cellOf[row + x] === k) inCell[out + x] = 1;
  }
  const wide = new Uint8Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (inCell[row + x] || (x > 0 && inCell[row + x - 1]) || (x + 1 < w && inCell[row + x + 1])) wide[row + x] = 1;
    }
  }
  const alpha = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const py = y + by0 + y0 - 1;
    for (let x = 0; x < w; x++) {
      const j = row + x;
      if (!wide[j] && !(y > 0 && wide[j - w]) && !(y + 1 < h && wide[j + w])) continue;
      // The grown ring only reaches into the region itself or where `mayCover` allows.
      if (!inCell[j] && mayCover) {
        const px = x + bx0 + x0 - 1;
        if (px >= 0 && py >= 0 && px < pw && py < ph) {
          const l = seg.labels[py * pw + px]!;
          if (l !== label && !mayCover[l]) continue;
        }
      }
      alpha[j] = 255;
    }
  }
  return { x: bx0 + x0 - 1, y: by0 + y0 - 1, width: w, height: h, alpha };
}
