/**
 * What a viewer sees change between two frames of a picture: the colour difference of a pixel (CIELAB
 * ΔE*ab) and how much of the canvas must change by how much for a frame-to-frame change to show. The
 * evaluation judges timelapses by it (eval/metrics/invisible.ts) and planners pace their work by it, so
 * both use this one definition.
 */
/**
 * One just-noticeable difference in CIELAB (ΔE*ab 2.3, Mahy et al. 1994): the smallest colour
 * difference seen between two large fields side by side. Applies to changes over a large area.
 */
export const JND = 2.3;
/**
 * A change of a small area must be a clearly different colour to be seen in a moving picture: ΔE*ab
 * 10 is the top of the "perceptible at a glance" range (2–10) for patches side by side; a small
 * mark among the whole picture, shown for a fraction of a second, needs that much.
 */
export const CLEAR_CHANGE = 10;
/** The smallest area a clear change must cover: 0.1% of the canvas (a 16 px square, or a 1 px stroke 330 px long, at 512x640). */
export const SMALL_AREA = 0.001;
/** The smallest area a just-noticeable change must cover: 5% of the canvas, a large field (a glaze, a colour pass). */
export const LARGE_AREA = 0.05;

/** sRGB level (0..255) to linear light. */
const LINEAR = Float64Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});
const labF = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);

/** CIELAB (D65) of one sRGB pixel, written to out[o..o+2]. */
export function srgbToLab(r: number, g: number, b: number, out: Float32Array, o: number): void {
  const R = LINEAR[r]!;
  const G = LINEAR[g]!;
  const B = LINEAR[b]!;
  // sRGB (IEC 61966-2-1) to XYZ, normalised by the D65 white.
  const fx = labF((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
  const fy = labF(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = labF((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
  out[o] = 116 * fy - 16;
  out[o + 1] = 500 * (fx - fy);
  out[o + 2] = 200 * (fy - fz);
}

const labA = new Float32Array(3);
const labB = new Float32Array(3);

/** A colour value (any number) as an sRGB level: clamped to 0..255 and rounded. */
function level(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/** ΔE*ab between two sRGB colours (values taken as levels: clamped to 0..255 and rounded). */
export function deltaE(r1: number, g1: number, b1: number, r2: number, g2: number, b2: number): number {
  srgbToLab(level(r1), level(g1), level(b1), labA, 0);
  srgbToLab(level(r2), level(g2), level(b2), labB, 0);
  return Math.hypot(labA[0]! - labB[0]!, labA[1]! - labB[1]!, labA[2]! - labB[2]!);
}

/** How one frame's change from the previous one reads: the share of the canvas changed by each amount. */
export interface FrameChange {
  /** Share of the canvas whose colour changed by at least CLEAR_CHANGE (ΔE*ab). */
  readonly clearArea: number;
  /** Share of the canvas whose colour changed by at least JND (ΔE*ab). */
  readonly noticeableArea: number;
}

/** A frame change is visible when a small area changes clearly or a large area changes noticeably. */
export function isVisible(change: FrameChange): boolean {
  return change.clearArea >= SMALL_AREA || change.noticeableArea >= LARGE_AREA;
}
