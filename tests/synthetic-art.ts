/**
 * Pictures made in code, for tests that need art of a kind the shared samples lack.
 */

/** Straight RGBA, row-major. */
export interface RgbaPicture {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * A soft painting with no drawn lines and no border of any contrast (colour masses melting into a
 * gradient, as airbrushed): the classic backend reconstructs it as a painterly process at any size,
 * whose sketch ends multiplied on top, and hidden.
 */
export function softPainting(width: number, height: number): RgbaPicture {
  const data = new Uint8Array(width * height * 4);
  const masses: readonly [number, number, number, readonly [number, number, number]][] = [
    [0.33, 0.31, 0.25, [200, 90, 70]],
    [0.7, 0.62, 0.33, [60, 110, 180]],
    [0.5, 0.81, 0.21, [230, 200, 90]],
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 150 + (60 * y) / height;
      let g = 170 - (40 * x) / width;
      let b = 190 - (50 * y) / height;
      for (const [cx, cy, radius, colour] of masses) {
        const d = Math.hypot(x / width - cx, (y / height - cy) * (height / width)) / radius;
        const t = Math.max(0, Math.min(1, 1.6 - d));
        const s = t * t * (3 - 2 * t);
        r += (colour[0] - r) * s;
        g += (colour[1] - g) * s;
        b += (colour[2] - b) * s;
      }
      data.set([Math.round(r), Math.round(g), Math.round(b), 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}
