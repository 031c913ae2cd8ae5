/**
 * Slider frames at the size they are shown: a client asks the engine for frames as big as its preview
 * area, in device pixels, so a 4096 px canvas scrubs at the cost of the pixels on screen.
 */

/** The frame size a client asks for when it cannot measure its preview area. */
export const DEFAULT_PREVIEW_SIZE = 768;

/**
 * The `size` (long side) to ask for to fill a preview of `devicePixels`: rounded up to a multiple of 128,
 * so a panel resized by a few pixels keeps hitting the engine's cache, at least 256, at most 4096.
 */
export function previewFrameSize(devicePixels: number): number {
  if (!Number.isFinite(devicePixels) || devicePixels <= 0) return DEFAULT_PREVIEW_SIZE;
  return Math.min(4096, Math.max(256, Math.ceil(devicePixels / 128) * 128));
}

/** The long side of `element` in device pixels (0 while it is not laid out). */
export function deviceLongSide(element: { readonly clientWidth: number; readonly clientHeight: number }): number {
  const ratio = (globalThis as { devicePixelRatio?: number }).devicePixelRatio ?? 1;
  return Math.round(Math.max(element.clientWidth, element.clientHeight) * ratio);
}
