/**
 * The operation timeline: how a drawing process is represented, independent of who planned it.
 *
 * A timeline is a small stack of layers over white paper plus exactly OPERATION_COUNT operations.
 * Every layer has `content` (what the layer shows once painted, produced at whatever size a frame is
 * rendered: see content.ts) and a coverage ("reveal") mask that starts empty; stroke-like operations
 * raise the mask with a stamp, so painting a stroke reveals that layer's content under the stroke.
 * Other operations change layer visibility or opacity, flip the canvas, move a region for a while, or
 * set a global colour curve.
 *
 * Planning happens at a smaller "plan" resolution (timeline.planScale = full / plan), and so does the
 * replay: coverage masks are plan-resolution images that stamps raise pixel by pixel, and a frame of
 * any size samples them bilinearly (see replay.ts and renderer.ts). Only the output pixels are
 * computed at the output size, which is what keeps a 4096 px canvas interactive.
 */
import type { LayerContent } from './content.js';
import type { RgbImage } from './image.js';

export type BlendMode = 'normal' | 'multiply';

/** Drawing-process phases, in the order artists usually go through them. */
export type Phase =
  | 'sketch'
  | 'lineart'
  | 'flats'
  | 'blockin'
  | 'values'
  | 'shading'
  | 'rendering'
  | 'finish';

export interface LayerSpec {
  /** Stable identifier, e.g. "lineart". */
  readonly id: string;
  /** Human name, used for PSD layers and layer PNGs, e.g. "Line art". */
  readonly name: string;
  readonly blend: BlendMode;
  /** What the layer shows where it is revealed, at any output size; alpha is the painted shape. */
  readonly content: LayerContent;
  readonly initiallyVisible: boolean;
  readonly initialOpacity: number;
  /** Whether the layer belongs in a layer decomposition (PSD/PNG export). */
  readonly exported: boolean;
}

/** A coverage mask at plan resolution, placed at integer plan pixel (x, y) (it may reach past the canvas). */
export interface Stamp {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** width * height values, 0..255. */
  readonly alpha: Uint8Array;
}

/** A global colour adjustment applied to the whole canvas; the identity is {1, 1, 0, 0}. */
export interface Curve {
  /** Contrast around mid grey; 1 = unchanged. Black and white stay fixed. */
  readonly contrast: number;
  /** Saturation multiplier; 1 = unchanged. */
  readonly saturation: number;
  /** Gamma-like lift of mid tones in [-1, 1]; 0 = unchanged. Black and white stay fixed. */
  readonly lift: number;
  /** Warm (+) / cool (-) balance of mid tones in [-1, 1]; 0 = unchanged. */
  readonly warmth: number;
}

export const IDENTITY_CURVE: Curve = { contrast: 1, saturation: 1, lift: 0, warmth: 0 };

interface OperationBase {
  readonly phase: Phase;
}

/** A brush stroke, pen line, bucket fill...: raises the layer's plan-resolution reveal mask to at least round(stamp * strength). */
export interface RevealOperation extends OperationBase {
  readonly kind: 'reveal';
  readonly layer: number;
  readonly stamp: Stamp;
  /** 0..1 */
  readonly strength: number;
  readonly tool: 'pencil' | 'pen' | 'bucket' | 'brush' | 'airbrush';
}

export interface VisibilityOperation extends OperationBase {
  readonly kind: 'visibility';
  readonly layer: number;
  readonly visible: boolean;
}

export interface OpacityOperation extends OperationBase {
  readonly kind: 'opacity';
  readonly layer: number;
  /** 0..1 */
  readonly opacity: number;
}

/** Horizontal canvas flip, as artists do to check proportions. A view change: layers are untouched. */
export interface FlipOperation extends OperationBase {
  readonly kind: 'flip';
  readonly flipped: boolean;
}

export interface CurveOperation extends OperationBase {
  readonly kind: 'curve';
  readonly curve: Curve;
}

/**
 * Moves (and scales) the pixels of one layer inside `region` by (dx, dy) plan pixels, scaling about
 * the region's centre, the way a lasso-and-transform does; `region: null` settles the layer back.
 * Only one transform per layer is active at a time.
 */
export interface TransformOperation extends OperationBase {
  readonly kind: 'transform';
  readonly layer: number;
  readonly region: Stamp | null;
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
}

export type Operation =
  | RevealOperation
  | VisibilityOperation
  | OpacityOperation
  | FlipOperation
  | CurveOperation
  | TransformOperation;

/** Operations that change the canvas on purpose rather than add paint (excluded from convergence metrics). */
export function isDeliberateEvent(op: Operation): boolean {
  return op.kind !== 'reveal';
}

export interface TimelineInfo {
  readonly backend: string;
  readonly backendVersion: string;
  readonly seed: number;
  /** e.g. "lineart", "painterly", "monochrome" */
  readonly style: string;
}

export interface Timeline {
  /** Full-resolution size. */
  readonly width: number;
  readonly height: number;
  /** Full-resolution pixels per plan pixel (>= 1 unless the image is smaller than the plan size). */
  readonly planScale: number;
  /** The finished artwork at full resolution: what step 0 shows, and what layer contents are made from. */
  readonly finished: RgbImage;
  readonly layers: readonly LayerSpec[];
  /** Exactly OPERATION_COUNT operations, first to last. */
  readonly operations: readonly Operation[];
  readonly info: TimelineInfo;
}
