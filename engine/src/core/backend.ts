/**
 * The one interface every backend implements: the classic CPU planner and the official PaintsUndo
 * models alike. Requests arrive already validated (see job.ts); every call takes a seed, reports
 * progress and honours its AbortSignal (throwing PaintsUndoError CANCELLED).
 */
import type { RgbImage, RgbaImage } from './image.js';
import type { MemoryShare } from './memory.js';
import type { BlendMode } from './timeline.js';

/** A decoded input, flattened onto white, identified by the hash of its pixels. */
export interface SourceImage {
  /** Content id: sha256 (hex) of width, height and RGBA pixels. Equal pixels, equal id. */
  readonly id: string;
  readonly image: RgbImage;
  /** The input's own alpha (width * height), when it had transparency. */
  readonly alpha?: Uint8Array | undefined;
}

export interface BackendCapabilities {
  readonly frame: boolean;
  readonly keyframes: boolean;
  readonly interpolate: boolean;
  readonly timelapse: boolean;
  /** Can export a layer decomposition (sketch, line art, flats...). */
  readonly layers: boolean;
  /** Progress events can carry a low-resolution preview. */
  readonly preview: boolean;
  /** Where the heavy work runs; GPU-bound backends run one job at a time. */
  readonly device: 'cpu' | 'gpu';
}

export interface Progress {
  /** 0..1 for the whole call. */
  readonly fraction: number;
  /** Short machine-friendly stage name, e.g. "planning", "rendering", "sampling". */
  readonly stage: string;
  /** Optional human detail, e.g. "segment 3 of 6". */
  readonly message?: string;
  /** A small preview of the current result, where the backend has one. */
  readonly preview?: RgbImage;
}

export interface JobContext {
  readonly signal: AbortSignal;
  readonly onProgress: (progress: Progress) => void;
}

export interface FrameRequest {
  readonly source: SourceImage;
  readonly step: number;
  readonly seed: number;
  /**
   * Long side in pixels the frame is shown at (a slider preview at panel size); absent or not smaller
   * than the input: full size. Backends that produce another size are resized by the job runner.
   */
  readonly size?: number | undefined;
}

export interface KeyframesRequest {
  readonly source: SourceImage;
  /** Distinct steps; the backend yields each exactly once, in the order it renders them best. */
  readonly steps: readonly number[];
  readonly seed: number;
  /** Long side of the frames, as in FrameRequest. */
  readonly size?: number | undefined;
}

export interface Keyframe {
  readonly step: number;
  readonly image: RgbImage;
}

/** Frames leading from `from` (an earlier state, e.g. a sketch) to `to` (a later state), both excluded. */
export interface InterpolateRequest {
  readonly from: SourceImage;
  readonly to: SourceImage;
  readonly frames: number;
  readonly seed: number;
}

export interface TimelapseRequest {
  readonly source: SourceImage;
  readonly seed: number;
  /** Number of process frames, first and last included. */
  readonly frames: number;
  /** 'draw': blank canvas to finished artwork (default); 'undo': the reverse. */
  readonly direction: 'draw' | 'undo';
  /** Long side of the frames, as in FrameRequest (a 1080p video of a 4096 px canvas renders at 1080p). */
  readonly size?: number | undefined;
  /** Buffers the consumer lends for the frames (optional; see FrameBuffers): yielded frames may then live in them. */
  readonly frameBuffers?: FrameBuffers | undefined;
}

/**
 * Buffers that a consumer streaming frames lends for them, such as a video encoder's ring of slots: a
 * backend whose frames are exactly `bytes` long may write each frame into the buffer `take` gives instead
 * of a new one, and spare the consumer a copy. A lent buffer is valid until the next `take`, which the
 * backend makes when the next frame is asked for: a consumer that keeps a frame longer copies it.
 */
export interface FrameBuffers {
  readonly bytes: number;
  /** A buffer of `bytes` for the next frame; waits while the consumer has none free. */
  take(): Promise<Uint8Array>;
}

export interface LayersRequest {
  readonly source: SourceImage;
  readonly seed: number;
}

export interface DecomposedLayer {
  readonly id: string;
  readonly name: string;
  readonly blend: BlendMode;
  readonly visible: boolean;
  readonly image: RgbaImage;
}

export interface LayerStack {
  readonly width: number;
  readonly height: number;
  /** Bottom to top. */
  readonly layers: readonly DecomposedLayer[];
}

export interface Backend {
  /** Name used on the command line and in the protocol, e.g. "classic". */
  readonly id: string;
  readonly displayName: string;
  /** Changes whenever results for the same input could change (part of every cache key). */
  readonly version: string;
  readonly capabilities: BackendCapabilities;

  frame(request: FrameRequest, context: JobContext): Promise<RgbImage>;
  /** Streams the keyframes as they are made, so a thousand of them never sit in memory at once. */
  keyframes(request: KeyframesRequest, context: JobContext): AsyncIterable<Keyframe>;
  interpolate(request: InterpolateRequest, context: JobContext): Promise<RgbImage[]>;
  /** Yields `frames` frames in the requested direction; frames are produced lazily so they can be streamed. */
  timelapse(request: TimelapseRequest, context: JobContext): AsyncIterable<RgbImage>;
  layers(request: LayersRequest, context: JobContext): Promise<LayerStack>;
  /**
   * Plan sharing between worker threads of one process (optional): `exportPlan` returns what this
   * backend prepared for (image id, seed), structured-cloneable and mostly in shared memory, or undefined
   * when it holds none; `importPlan` takes such a value from another instance of the same backend, so
   * frames of one image render on several workers without planning again.
   */
  exportPlan?(imageId: string, seed: number): SharedPlan | undefined;
  importPlan?(plan: SharedPlan): void;
  /** Drops what this backend prepared for (image id, seed), its plan and what renders from it (optional). */
  forgetPlan?(imageId: string, seed: number): void;
  /**
   * Prepares what every request on (image, seed) renders from (its plan) before any is made (optional),
   * e.g. right after an upload. A request made meanwhile waits for this same preparation instead of
   * starting another, and the preparation stops only once every call waiting for it is cancelled.
   */
  preparePlan?(source: SourceImage, seed: number, context: JobContext): Promise<void>;
  /**
   * Runs this backend's hot code on material of its own, so that the first real request does not pay for
   * V8 compiling it (optional; an engine calls it while it waits for work). Gives the event loop turns,
   * throws CANCELLED soon after `signal` reads aborted, and keeps nothing.
   */
  warmUp?(signal: AbortSignal): Promise<void>;
  /** Releases sessions, caches and workers. */
  dispose(): Promise<void>;
}

/** What a backend gets when it is created. */
export interface BackendOptions {
  /** The share of the engine's memory budget that what the backend keeps for reuse may hold (memory.ts). */
  readonly memory?: MemoryShare;
}

/** A prepared plan handed between worker threads; only the backend that made it reads `data`. */
export interface SharedPlan {
  readonly backend: string;
  readonly backendVersion: string;
  readonly imageId: string;
  readonly seed: number;
  /** Memory the plan holds, not counting the source image's pixels (which the engine's image store counts). */
  readonly bytes: number;
  readonly data: unknown;
}

/** Every keyframe of a keyframes call, in the order they came, for callers that want them all at once. */
export async function collectKeyframes(frames: AsyncIterable<Keyframe>): Promise<Keyframe[]> {
  const out: Keyframe[] = [];
  for await (const frame of frames) out.push(frame);
  return out;
}

/** A context that ignores progress and never cancels, for library callers and tests. */
export function quietContext(signal: AbortSignal = new AbortController().signal): JobContext {
  return { signal, onProgress: () => undefined };
}
