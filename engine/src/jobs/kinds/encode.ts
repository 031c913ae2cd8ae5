/**
 * The encode job (protocol method video.encode): a video of frames the client recorded, e.g. a painting
 * app's history states — not generated, and labelled so. Frames of another size than the first are
 * fitted into the first's size (aspect kept, white bars): a history can contain canvas resizes, and
 * refusing the whole export for that would lose the recording. An optional generated lead-in runs from a
 * blank canvas to the first recorded frame and says it is generated.
 */
import type { SourceImage } from '../../core/backend.js';
import { PaintsUndoError, throwIfCancelled } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import { PROVENANCE_NOTICE, engineVersion, type Provenance } from '../../io/provenance.js';
import { jobSignal, prepareBackend, provenanceFor, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { frameCounter, monotonicProgress } from '../progress.js';
import { DEFAULT_CAPTION_TEXT, captioner, writeVideo, type VideoFramePlan } from '../video-writer.js';

export type EncodeJob = JobOf<'encode'>;

/** What the metadata and caption of a recorded video say; the generated lead-in is named as such. */
export interface RecordedMetadata {
  readonly title: string;
  readonly comment: string;
}

export function recordedMetadata(job: Pick<EncodeJob, 'from' | 'leadIn' | 'seed'>, recordedFrames: number, leadInProvenance?: Provenance): RecordedMetadata {
  const title = `Recorded from ${job.from}` + (job.leadIn > 0 ? ` (first ${job.leadIn} frames generated, not recorded)` : '');
  let comment = `Recorded from ${job.from}: ${recordedFrames} recorded frames, encoded with paints-undo ${engineVersion()}.`;
  if (job.leadIn > 0) {
    const backend = leadInProvenance ? `backend ${leadInProvenance.backend} ${leadInProvenance.backendVersion}, seed ${leadInProvenance.seed}` : `seed ${job.seed}`;
    comment += ` The first ${job.leadIn} frames are generated, not recorded: ${PROVENANCE_NOTICE} (${backend}).`;
  }
  return { title, comment };
}

/**
 * Recorded frames at the first one's size: intro (last recorded frame), generated lead-in, recorded
 * frames, hold; captions burnt in when `label`. `finished` is the last recorded frame (fitted).
 */
export interface EncodePlan extends VideoFramePlan {
  readonly recordedFrames: number;
  readonly metadata: RecordedMetadata;
}

export async function encodeFrames(job: EncodeJob, env: JobEnvironment): Promise<EncodePlan> {
  const signal = jobSignal(env);
  const distinct = new Map<string, SourceImage>();
  for (const id of job.images) if (!distinct.has(id)) distinct.set(id, await env.resolveImage(id));
  const first = distinct.get(job.images[0]!)!;
  const { width, height } = first.image;
  const fitted = new Map<string, RgbImage>();
  const fit = async (id: string): Promise<RgbImage> => {
    const known = fitted.get(id);
    if (known) return known;
    const source = distinct.get(id)!.image;
    const image = source.width === width && source.height === height ? source : await fitInto(source, width, height);
    fitted.set(id, image);
    return image;
  };
  const last = await fit(job.images[job.images.length - 1]!);
  const introFrames = Math.round(job.intro * job.fps);
  const holdFrames = Math.round(job.hold * job.fps);
  const recordedFrames = job.images.length;
  const totalFrames = introFrames + job.leadIn + recordedFrames + holdFrames;
  const run = job.leadIn > 0 ? await prepareBackend(env, job.backend, 'timelapse', 'generate lead-in frames') : undefined;
  const report = run?.report ?? monotonicProgress(env.onProgress);
  const leadInProvenance = run ? provenanceFor(run.backend, job.seed, first.id) : undefined;
  const release = async (): Promise<void> => {
    await run?.release();
  };
  let recordedLabel: (frame: RgbImage) => RgbImage;
  let generatedLabel: (frame: RgbImage) => RgbImage;
  try {
    const text = job.label === false ? undefined : job.label === true ? `Recorded from ${job.from}` : job.label;
    recordedLabel = await captioner(text, width, height);
    // Lead-in frames always say they are generated, whatever the recorded part's caption says.
    generatedLabel = await captioner(text !== undefined && job.leadIn > 0 ? DEFAULT_CAPTION_TEXT : undefined, width, height);
  } catch (error) {
    await release();
    throw error;
  }

  async function* generate(): AsyncGenerator<RgbImage> {
    try {
      const tick = frameCounter(report, totalFrames);
      if (introFrames > 0) {
        const intro = recordedLabel(last);
        for (let i = 0; i < introFrames; i++) {
          throwIfCancelled(signal);
          yield intro;
          tick('intro');
        }
      }
      if (run) {
        // leadIn + 1 frames from blank to the first recorded frame; its last equals that frame, so it is dropped.
        let produced = 0;
        const process = run.backend.timelapse({ source: first, seed: job.seed, frames: job.leadIn + 1, direction: 'draw' }, { signal, onProgress: () => undefined });
        for await (const frame of process) {
          throwIfCancelled(signal);
          produced++;
          if (produced > job.leadIn) continue;
          yield generatedLabel(frame);
          tick('lead-in');
        }
        await run.release();
      }
      let final: RgbImage | undefined;
      for (const id of job.images) {
        throwIfCancelled(signal);
        final = recordedLabel(await fit(id));
        yield final;
        tick('recorded');
      }
      for (let i = 0; i < holdFrames && final; i++) {
        throwIfCancelled(signal);
        yield final;
        tick('hold');
      }
    } finally {
      await release();
    }
  }

  return {
    width,
    height,
    totalFrames,
    recordedFrames,
    metadata: recordedMetadata(job, recordedFrames, leadInProvenance),
    finished: last,
    frames: generate(),
    release,
  };
}

/** `image` scaled to fit `width` x `height`, aspect kept, centred on white. */
async function fitInto(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'contain', background: { r: 255, g: 255, b: 255 }, kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new PaintsUndoError('INTERNAL', `Fitting a ${image.width}x${image.height} frame gave ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3.`);
  }
  return { width, height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export const encodeKind: JobKindModule<EncodeJob> = {
  fileName: (job) => `recorded.${job.format}`,
  // The backend only makes the generated lead-in frames, with its timelapse.
  capability: (job) => (job.leadIn > 0 ? 'timelapse' : undefined),
  // A recording may show one state more than once; it is read once.
  images: (job) => [...new Set(job.images)],
  subject: (job) => job.images[0]!,
  needsFfmpeg: true,
  async write(job, output, env) {
    const atomic = await import('../../io/atomic.js');
    const target = await atomic.ensureWritableFile(output);
    const written = await writeVideo(target, job, () => encodeFrames(job, env), (plan) => ({ fps: job.fps, metadata: plan.metadata }), env.signal);
    return { kind: job.kind, files: [target], backend: job.leadIn > 0 ? job.backend : 'none', backendVersion: '', seed: job.seed, ...written.video };
  },
};
