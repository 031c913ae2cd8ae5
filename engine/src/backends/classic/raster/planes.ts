/**
 * The image types planning works on. Plan-resolution images are planar Float32 (one array per channel,
 * values 0..255, row-major); masks are Uint8 (0/1 or 0..255). Geometry is in "pixel index" coordinates:
 * pixel (i, j) has its centre at (i, j), the same convention the renderer uses for stamps.
 */

export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export interface PlanRgb {
  readonly width: number;
  readonly height: number;
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
}
