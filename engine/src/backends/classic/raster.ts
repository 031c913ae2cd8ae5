/**
 * Lean typed-array image helpers for planning, one module per area under raster/: the plan image types
 * (planes), downscaling from the input (downscale), blurs (filters), mask operations (masks), and what
 * turns plan planes into renderer input (stamps).
 */
export { planeQuantile, type Plane, type PlanRgb } from './raster/planes.js';
export { downscaleRgb, downscaleWithDarkest, downscaleWithDetail, luminance } from './raster/downscale.js';
export { gaussianBlur, maskedBlur, maskedBlurPlanes, boxBlur } from './raster/filters.js';
export { distanceTo, thin, labelComponents } from './raster/masks.js';
export { sample, forEachUpsampled, StampBuilder, stampFromLabel } from './raster/stamps.js';
