/** What the canvas shows under a phase, and how far that is from a target: the error a brush phase paints down. */

/** A painted layer as seen at plan resolution: its colour planes and how much of each pixel it covers (0..1). */
export interface Laid {
  readonly planes: readonly Float32Array[];
  readonly coverage: Float32Array;
}

/**
 * Colour distance (sum over channels, + 1 so no pixel is ever "done" by the error alone) between
 * `target` and the canvas: `base` where `cover` says so (everywhere when `cover` is null), paper
 * elsewhere; blank paper when `base` is null.
 */
export function errorTo(target: readonly Float32Array[], base: readonly Float32Array[] | null, cover: Float32Array | null): Float32Array {
  const n = target[0]!.length;
  const e = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = cover ? cover[i]! : base ? 1 : 0;
    let s = 0;
    for (let ch = 0; ch < 3; ch++) {
      const shown = base ? base[ch]![i]! * c + 255 * (1 - c) : 255;
      s += Math.abs(target[ch]![i]! - shown);
    }
    e[i] = s + 1;
  }
  return e;
}

/** The colour planes of layers laid over white paper, bottom first. */
export function shownAfter(layers: readonly Laid[]): Float32Array[] {
  const n = layers[0]!.coverage.length;
  return [0, 1, 2].map((ch) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = 255;
      for (const l of layers) {
        const c = l.coverage[i]!;
        v = l.planes[ch]![i]! * c + v * (1 - c);
      }
      out[i] = v;
    }
    return out;
  });
}

/** How much of each plan pixel a phase's marks cover (their maximum, 0..1): what the layer shows once they are laid. */
export function coverageOf(marks: readonly { readonly stamp: { x: number; y: number; width: number; height: number; alpha: Uint8Array }; readonly strength: number }[], pw: number, ph: number): Float32Array {
  const out = new Float32Array(pw * ph);
  for (const { stamp: s, strength } of marks) {
    const k = strength / 255;
    for (let y = Math.max(0, s.y); y < Math.min(ph, s.y + s.height); y++) {
      const row = (y - s.y) * s.width - s.x;
      for (let x = Math.max(0, s.x); x < Math.min(pw, s.x + s.width); x++) {
        const v = s.alpha[row + x]! * k;
        if (v > out[y * pw + x]!) out[y * pw + x] = v;
      }
    }
  }
  return out;
}
