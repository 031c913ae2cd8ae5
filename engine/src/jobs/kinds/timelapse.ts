/**
 * The timelapse job: a video of the generated drawing process — the finished artwork for `intro`
 * seconds, the process (`direction` draw: blank to finished; undo: the reverse), then its last frame for
 * `hold` seconds; the caption (if `label`) burnt into every frame. Frames are rendered at the video's
 * size (a 1080p video of a 4096 px canvas renders 1080p frames), never above the input's own size.
 */
import type { FrameBuffers } from '../../core/backend.js';
import { outputSize, resizeRgbArea, type RgbImage } from '../../core/image.js';
import { PaintsUndoError, throwIfCancelled } from '../../core/errors.js';
import { processFrameCount } from '../../core/job.js';
import type { Provenance } from '../../io/provenance.js';
import { prepareBackend, provenanceFor, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { outputSummary } from '../output.js';
import { frameCounter, partProgress } from '../progress.js';
import { captionText, captioner, writeVideo, type VideoFramePlan } from '../video-writer.js';

export type TimelapseJob = JobOf<'timelapse'>;

/** A timelapse ready to stream at its render size; `finished` is the decoded input at that size. */
export interface TimelapsePlan extends VideoFramePlan {
  readonly fps: number;
  readonly introFrames: number;
  readonly processFrames: number;
  readonly holdFrames: number;
  readonly provenance: Provenance;
  /** The frames, rendered into the buffers given when there are any (see VideoFrames). */
  readonly frames: (buffers?: FrameBuffers) => AsyncIterable<RgbImage>;
}

export async function timelapseFrames(job: TimelapseJob, env: JobEnvironment): Promise<TimelapsePlan> {
  const source = await env.resolveImage(job.image);
  const run = await prepareBackend(env, job.backend, 'timelapse', 'make timelapses');
  const { videoSize } = await import('../../io/video.js');
  const video = videoSize(source.image.width, source.image.height, job.format, job.size);
  // Rendered at the video's long side, or at the input's own size when the video enlarges it.
  const renderLong = Math.min(Math.max(video.width, video.height), Math.max(source.image.width, source.image.height));
  const { width, height } = outputSize(source.image.width, source.image.height, renderLong);
  /** Any backend's frame at the render size (the classic backend renders at it already). */
  const sized = (frame: RgbImage): RgbImage => (frame.width === width && frame.height === height ? frame : resizeRgbArea(frame, width, height));
  const finished = sized(source.image);
  const processFrames = processFrameCount(job);
  const introFrames = Math.round(job.intro * job.fps);
  const holdFrames = Math.round(job.hold * job.fps);
  const totalFrames = introFrames + processFrames + holdFrames;
  let label: (frame: RgbImage) => RgbImage;
  try {
    label = await captioner(captionText(job.label), width, height);
  } catch (error) {
    await run.release();
    throw error;
  }
  const backend = run.backend;

  async function* generate(buffers?: FrameBuffers): AsyncGenerator<RgbImage> {
    try {
      const tick = frameCounter(run.report, totalFrames);
      if (introFrames > 0) {
        const intro = label(finished);
        for (let i = 0; i < introFrames; i++) {
          throwIfCancelled(run.signal);
          yield intro;
          tick('intro');
        }
      }
      let last: RgbImage | undefined;
      let produced = 0;
      // The backend's own fraction covers the process part (planning, sampling, frames) and keeps its
      // messages (e.g. "segment 3 of 6, step 12 of 50") coming even when it yields frames only at the end.
      const process = backend.timelapse(
        { source, seed: job.seed, frames: processFrames, direction: job.direction, size: renderLong, frameBuffers: buffers },
        { signal: run.signal, onProgress: partProgress(run.report, introFrames, processFrames, totalFrames) },
      );
      for await (const frame of process) {
        throwIfCancelled(run.signal);
        produced++;
        // The last frame may live in a slot the encoder lent: it stays valid for the hold, as no frame is taken after it.
        last = label(sized(frame));
        yield last;
        tick('rendering');
      }
      if (produced !== processFrames) {
        throw new PaintsUndoError('INTERNAL', `The ${backend.id} backend produced ${produced} timelapse frames instead of ${processFrames}.`);
      }
      for (let i = 0; i < holdFrames && last; i++) {
        throwIfCancelled(run.signal);
        yield last;
        tick('hold');
      }
    } finally {
      await run.release();
    }
  }

  return {
    width,
    height,
    fps: job.fps,
    introFrames,
    processFrames,
    holdFrames,
    totalFrames,
    provenance: provenanceFor(backend, job.seed, source.id),
    finished,
    frames: generate,
    release: run.release,
  };
}

export const timelapseKind: JobKindModule<TimelapseJob> = {
  fileName: (job) => `timelapse.${job.format}`,
  capability: () => 'timelapse',
  images: (job) => [job.image],
  subject: (job) => job.image,
  needsFfmpeg: true,
  async write(job, output, env) {
    const atomic = await import('../../io/atomic.js');
    const target = await atomic.ensureWritableFile(output);
    const written = await writeVideo(target, job, () => timelapseFrames(job, env), (plan) => ({ fps: plan.fps, provenance: plan.provenance }), env.signal);
    return { ...outputSummary(job, [target], written.plan.provenance), ...written.video };
  },
};
