/** Masks: distance to a mask, thinning to one-pixel lines, connected components. */

/**
 * Two-pass chamfer (3-4) distance to the nearest pixel where `mask` is non-zero, in pixels
 * (within ~8% of Euclidean), capped at `cap`.
 */
export function distanceTo(mask: Uint8Array, width: number, height: number, cap = 1e6): Float32Array {
  const d = new Float32Array(mask.length);
  const big = cap * 3;
  for (let i = 0; i < mask.length; i++) d[i] = mask[i] ? 0 : big;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x > 0) v = Math.min(v, d[i - 1]! + 3);
      if (y > 0) {
        v = Math.min(v, d[i - width]! + 3);
        if (x > 0) v = Math.min(v, d[i - width - 1]! + 4);
        if (x < width - 1) v = Math.min(v, d[i - width + 1]! + 4);
      }
      d[i] = v;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x < width - 1) v = Math.min(v, d[i + 1]! + 3);
      if (y < height - 1) {
        v = Math.min(v, d[i + width]! + 3);
        if (x < width - 1) v = Math.min(v, d[i + width + 1]! + 4);
        if (x > 0) v = Math.min(v, d[i + width - 1]! + 4);
      }
      d[i] = v;
    }
  }
  for (let i = 0; i < d.length; i++) d[i] = Math.min(cap, d[i]! / 3);
  return d;
}

/** Zhang-Suen thinning of a 0/1 mask, in place: one-pixel-wide, 8-connected centre lines. */
export function thin(mask: Uint8Array, width: number, height: number): void {
  const toClear: number[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (let pass = 0; pass < 2; pass++) {
      toClear.length = 0;
      for (let y = 1; y < height - 1; y++) {
        for (let x = 1; x < width - 1; x++) {
          const i = y * width + x;
          if (!mask[i]) continue;
          const p2 = mask[i - width]!;
          const p3 = mask[i - width + 1]!;
          const p4 = mask[i + 1]!;
          const p5 = mask[i + width + 1]!;
          const p6 = mask[i + width]!;
          const p7 = mask[i + width - 1]!;
          const p8 = mask[i - 1]!;
          const p9 = mask[i - width - 1]!;
          const b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
          if (b < 2 || b > 6) continue;
          const a =
            (p2 === 0 && p3 === 1 ? 1 : 0) +
            (p3 === 0 && p4 === 1 ? 1 : 0) +
            (p4 === 0 && p5 === 1 ? 1 : 0) +
            (p5 === 0 && p6 === 1 ? 1 : 0) +
            (p6 === 0 && p7 === 1 ? 1 : 0) +
            (p7 === 0 && p8 === 1 ? 1 : 0) +
            (p8 === 0 && p9 === 1 ? 1 : 0) +
            (p9 === 0 && p2 === 1 ? 1 : 0);
          if (a !== 1) continue;
          if (pass === 0 ? p2 * p4 * p6 !== 0 || p4 * p6 * p8 !== 0 : p2 * p4 * p8 !== 0 || p2 * p6 * p8 !== 0) continue;
          toClear.push(i);
        }
      }
      for (const i of toClear) mask[i] = 0;
      if (toClear.length > 0) changed = true;
    }
  }
}

/** 8-connected component labels (1..count) of a non-zero mask; 0 = background. */
export function labelComponents(mask: Uint8Array, width: number, height: number): { labels: Int32Array; count: number; sizes: number[] } {
  const labels = new Int32Array(mask.length);
  const sizes: number[] = [0];
  const stack: number[] = [];
  let count = 0;
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || labels[s]) continue;
    count++;
    let size = 0;
    labels[s] = count;
    stack.push(s);
    while (stack.length > 0) {
      const i = stack.pop()!;
      size++;
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (mask[j] && !labels[j]) {
            labels[j] = count;
            stack.push(j);
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes };
}
