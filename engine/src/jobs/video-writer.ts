/**
 * The video side shared by the video job kinds (timelapse, recorded video): a plan of frames streamed
 * once, captions burnt into frames, and the writer that streams a plan to ffmpeg.
 */
import type { RgbImage } from '../core/image.js';
import type { VideoFrames, VideoOptions } from '../io/video.js';
import type { TimelapseOptions } from '../core/job.js';
import { optionalSignal } from './output.js';

/** What a video job hands to the encoder: frames of one size, streamed once. */
export interface VideoFramePlan {
  /** Size of the streamed frames. */
  readonly width: number;
  readonly height: number;
  /** Every frame of the video, intro and hold included. */
  readonly totalFrames: number;
  /** The frame the video settles on (e.g. for a GIF palette). */
  readonly finished: RgbImage;
  /**
   * Streamed once, possibly rendered into buffers the encoder lends (VideoFrames); the backend is
   * released when the iteration ends (completed, broken off or failed).
   */
  readonly frames: VideoFrames;
  /** Releases the backend if `frames` was never iterated to its end (safe to call more than once). */
  readonly release: () => Promise<void>;
}

export const DEFAULT_CAPTION_TEXT = 'Generated reconstruction - not a recording';

/** Caption text of `label`: true -> the standard notice, a string -> that text, false -> none. */
export function captionText(label: boolean | string): string | undefined {
  if (label === false) return undefined;
  return label === true ? DEFAULT_CAPTION_TEXT : label;
}

/** A function that burns `text` into frames of `width` x `height`; the identity when there is no text. */
export async function captioner(text: string | undefined, width: number, height: number): Promise<(frame: RgbImage) => RgbImage> {
  if (text === undefined) return (frame) => frame;
  const video = await import('../io/video.js');
  const caption = await video.renderCaption(text, width, height);
  return (frame) => video.compositeOver(frame, caption);
}

/**
 * Plans a video job and streams its frames to ffmpeg into `target`. ffmpeg is found before planning, so
 * a missing encoder fails in milliseconds, not after the plan; the plan's backend is always released.
 */
export async function writeVideo<P extends VideoFramePlan>(
  target: string,
  job: Pick<TimelapseOptions, 'format' | 'size'>,
  makePlan: () => Promise<P>,
  tags: (plan: P) => { fps: number } & Pick<VideoOptions, 'provenance' | 'metadata'>,
  signal: AbortSignal | undefined,
): Promise<{ plan: P; video: { frames: number; width: number; height: number } }> {
  const video = await import('../io/video.js');
  await (await import('../io/ffmpeg.js')).findFfmpeg();
  const plan = await makePlan();
  const size = video.videoSize(plan.width, plan.height, job.format, job.size);
  try {
    const frames = await video.writeVideoFile(target, plan.frames, {
      format: job.format,
      width: plan.width,
      height: plan.height,
      outWidth: size.width,
      outHeight: size.height,
      totalFrames: plan.totalFrames,
      paletteFrom: plan.finished,
      ...tags(plan),
      ...optionalSignal(signal),
    });
    return { plan, video: { frames, width: size.width, height: size.height } };
  } finally {
    await plan.release();
  }
}
