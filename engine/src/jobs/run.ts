/**
 * The job runner shared by the CLI and the engine service. It takes a validated JobInput (core/job.ts),
 * resolves its image ids through the caller (the CLI decodes a file, the service looks up its store),
 * runs the backend with progress and cancellation, and either returns results in memory
 * (`renderFrame`, `renderKeyframes`, `renderLayers`, `renderInterpolation`, `timelapseFrames`) or
 * writes them (`runJob`). Provenance for every output is built here, in one place.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Backend, Keyframe, LayerStack, Progress, SourceImage } from '../core/backend.js';
import { PaintsUndoError, throwIfCancelled } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { processFrameCount, type JobInput } from '../core/job.js';
import { createBackend } from '../backends/registry.js';
import { PROVENANCE_NOTICE, engineVersion, makeProvenance, type Provenance } from '../io/provenance.js';
import type { Caption, compositeOver as CompositeOver, VideoOptions } from '../io/video.js';

export type FrameJob = Extract<JobInput, { kind: 'frame' }>;
export type KeyframesJob = Extract<JobInput, { kind: 'keyframes' }>;
export type InterpolateJob = Extract<JobInput, { kind: 'interpolate' }>;
export type TimelapseJob = Extract<JobInput, { kind: 'timelapse' }>;
export type LayersJob = Extract<JobInput, { kind: 'layers' }>;
export type EncodeJob = Extract<JobInput, { kind: 'encode' }>;

export interface JobEnvironment {
  /** Returns the decoded image of an id; throw INPUT_NOT_FOUND for unknown ids. */
  readonly resolveImage: (id: string) => SourceImage | Promise<SourceImage>;
  /**
   * Returns a ready backend for an id. The runner never disposes it: the caller owns backends (the
   * service keeps them warm between jobs). Default: `createBackend` from the registry, one per call.
   */
  readonly backend?: (id: string) => Promise<Backend>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
}

interface Prepared {
  readonly backend: Backend;
  readonly signal: AbortSignal;
  readonly report: (progress: Progress) => void;
  /** Disposes the backend when the runner created it. */
  readonly release: () => Promise<void>;
}

async function prepare(env: JobEnvironment, backendId: string, capability: keyof Backend['capabilities'], operation: string): Promise<Prepared> {
  const signal = env.signal ?? new AbortController().signal;
  throwIfCancelled(signal);
  const owned = env.backend === undefined;
  const backend = env.backend === undefined ? await createBackend(backendId) : await env.backend(backendId);
  if (backend.capabilities[capability] !== true) {
    if (owned) await backend.dispose();
    throw new PaintsUndoError('UNSUPPORTED', `The ${backend.id} backend cannot ${operation}.`, {
      hint: 'Choose another backend with --backend (see `paints-undo --help`).',
      details: { backend: backend.id, operation: capability },
    });
  }
  let last = -1;
  const report = (progress: Progress): void => {
    // Monotonic fraction: a progress bar that jumps back looks broken.
    last = Math.max(last, Math.min(1, Math.max(0, progress.fraction)));
    env.onProgress?.({ ...progress, fraction: last });
  };
  let released = false;
  const release = async (): Promise<void> => {
    // Idempotent: a timelapse releases from its generator and from its caller, whichever comes first.
    if (released || !owned) return;
    released = true;
    await backend.dispose();
  };
  return { backend, signal, report, release };
}

function provenanceFor(backend: Backend, seed: number, source: string, extra: { step?: number } = {}): Provenance {
  return makeProvenance({ backend: backend.id, backendVersion: backend.version, seed, source, ...extra });
}

export interface FrameResult {
  readonly image: RgbImage;
  readonly provenance: Provenance;
}

export async function renderFrame(job: FrameJob, env: JobEnvironment): Promise<FrameResult> {
  const source = await env.resolveImage(job.image);
  const run = await prepare(env, job.backend, 'frame', 'render single frames');
  try {
    const image = await run.backend.frame({ source, step: job.step, seed: job.seed }, { signal: run.signal, onProgress: run.report });
    run.report({ fraction: 1, stage: 'done' });
    return { image, provenance: provenanceFor(run.backend, job.seed, source.id, { step: job.step }) };
  } finally {
    await run.release();
  }
}

export interface KeyframesResult {
  readonly keyframes: readonly Keyframe[];
  /** Provenance without a step; each keyframe's file adds its own step. */
  readonly provenance: Provenance;
}

export async function renderKeyframes(job: KeyframesJob, env: JobEnvironment): Promise<KeyframesResult> {
  const source = await env.resolveImage(job.image);
  const run = await prepare(env, job.backend, 'keyframes', 'render keyframes');
  try {
    const keyframes = await run.backend.keyframes({ source, steps: job.steps, seed: job.seed }, { signal: run.signal, onProgress: run.report });
    run.report({ fraction: 1, stage: 'done' });
    return { keyframes, provenance: provenanceFor(run.backend, job.seed, source.id) };
  } finally {
    await run.release();
  }
}

export interface LayersResult {
  readonly stack: LayerStack;
  /** The finished artwork (the input flattened on white), used as the PSD composite. */
  readonly composite: RgbImage;
  readonly provenance: Provenance;
}

export async function renderLayers(job: LayersJob, env: JobEnvironment): Promise<LayersResult> {
  const source = await env.resolveImage(job.image);
  const run = await prepare(env, job.backend, 'layers', 'export layers');
  try {
    const stack = await run.backend.layers({ source, seed: job.seed }, { signal: run.signal, onProgress: run.report });
    run.report({ fraction: 1, stage: 'done' });
    return { stack, composite: source.image, provenance: provenanceFor(run.backend, job.seed, source.id) };
  } finally {
    await run.release();
  }
}

export interface InterpolationResult {
  readonly frames: readonly RgbImage[];
  readonly provenance: Provenance;
}

export async function renderInterpolation(job: InterpolateJob, env: JobEnvironment): Promise<InterpolationResult> {
  const [from, to] = await Promise.all([env.resolveImage(job.from), env.resolveImage(job.to)]);
  if (from.image.width !== to.image.width || from.image.height !== to.image.height) {
    throw new PaintsUndoError('INVALID_OPTION', `Both images must have the same size, but from is ${from.image.width}x${from.image.height} and to is ${to.image.width}x${to.image.height}.`, {
      hint: 'Export both states of the artwork at the same size.',
    });
  }
  const run = await prepare(env, job.backend, 'interpolate', 'interpolate between frames');
  try {
    const frames = await run.backend.interpolate({ from, to, frames: job.frames, seed: job.seed }, { signal: run.signal, onProgress: run.report });
    run.report({ fraction: 1, stage: 'done' });
    return { frames, provenance: provenanceFor(run.backend, job.seed, to.id) };
  } finally {
    await run.release();
  }
}

/** What a video job hands to the encoder: frames of one size, streamed once. */
export interface VideoFramePlan {
  /** Size of the streamed frames. */
  readonly width: number;
  readonly height: number;
  /** Every frame of the video, intro and hold included. */
  readonly totalFrames: number;
  /** The frame the video settles on (e.g. for a GIF palette). */
  readonly finished: RgbImage;
  /** Iterate once; the backend is released when the iteration ends (completed, broken off or failed). */
  readonly frames: AsyncIterable<RgbImage>;
  /** Releases the backend if `frames` was never iterated to its end (safe to call more than once). */
  readonly release: () => Promise<void>;
}

/**
 * A timelapse at the input's size: the finished artwork for `intro` seconds, the process (`direction`
 * draw: blank to finished; undo: the reverse), then its last frame for `hold` seconds; the caption (if
 * `label`) burnt into every frame. `finished` is the decoded input.
 */
export interface TimelapsePlan extends VideoFramePlan {
  readonly fps: number;
  readonly introFrames: number;
  readonly processFrames: number;
  readonly holdFrames: number;
  readonly provenance: Provenance;
}

/** Caption text of `label`: true -> the standard notice, a string -> that text, false -> none. */
export function captionText(label: boolean | string): string | undefined {
  if (label === false) return undefined;
  return label === true ? DEFAULT_CAPTION_TEXT : label;
}

export const DEFAULT_CAPTION_TEXT = 'Generated reconstruction - not a recording';

export async function timelapseFrames(job: TimelapseJob, env: JobEnvironment): Promise<TimelapsePlan> {
  const source = await env.resolveImage(job.image);
  const run = await prepare(env, job.backend, 'timelapse', 'make timelapses');
  const { width, height } = source.image;
  const processFrames = processFrameCount(job);
  const introFrames = Math.round(job.intro * job.fps);
  const holdFrames = Math.round(job.hold * job.fps);
  const totalFrames = introFrames + processFrames + holdFrames;
  const text = captionText(job.label);
  let caption: Caption | undefined;
  let compositeOver: typeof CompositeOver | undefined;
  try {
    if (text !== undefined) {
      const video = await import('../io/video.js');
      caption = await video.renderCaption(text, width, height);
      compositeOver = video.compositeOver;
    }
  } catch (error) {
    await run.release();
    throw error;
  }
  const label = (frame: RgbImage): RgbImage => (caption && compositeOver ? compositeOver(frame, caption) : frame);
  const backend = run.backend;

  async function* generate(): AsyncGenerator<RgbImage> {
    try {
      let emitted = 0;
      const tick = (stage: string): void => {
        emitted++;
        run.report({ fraction: emitted / totalFrames, stage, message: `frame ${emitted} of ${totalFrames}` });
      };
      if (introFrames > 0) {
        const intro = label(source.image);
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
      const onProgress = (p: Progress): void => {
        run.report({ ...p, fraction: (introFrames + p.fraction * processFrames) / totalFrames });
      };
      const process = backend.timelapse(
        { source, seed: job.seed, frames: processFrames, direction: job.direction },
        { signal: run.signal, onProgress },
      );
      for await (const frame of process) {
        throwIfCancelled(run.signal);
        produced++;
        last = label(frame);
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
    finished: source.image,
    frames: generate(),
    release: run.release,
  };
}

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

/**
 * Plans a video of recorded frames (`video.encode`). Frames of another size than the first are fitted
 * into the first's size (aspect kept, white bars): a history can contain canvas resizes, and refusing
 * the whole export for that would lose the recording.
 */
export async function encodeFrames(job: EncodeJob, env: JobEnvironment): Promise<EncodePlan> {
  const signal = env.signal ?? new AbortController().signal;
  throwIfCancelled(signal);
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
  const run = job.leadIn > 0 ? await prepare(env, job.backend, 'timelapse', 'generate lead-in frames') : undefined;
  const report = run?.report ?? ((p: Progress): void => env.onProgress?.(p));
  const leadInProvenance = run ? provenanceFor(run.backend, job.seed, first.id) : undefined;
  const release = async (): Promise<void> => {
    await run?.release();
  };
  let recordedCaption: Caption | undefined;
  let generatedCaption: Caption | undefined;
  let compositeOver: typeof CompositeOver | undefined;
  try {
    const text = job.label === false ? undefined : job.label === true ? `Recorded from ${job.from}` : job.label;
    if (text !== undefined) {
      const video = await import('../io/video.js');
      recordedCaption = await video.renderCaption(text, width, height);
      // Lead-in frames always say they are generated, whatever the recorded part's caption says.
      if (job.leadIn > 0) generatedCaption = await video.renderCaption(DEFAULT_CAPTION_TEXT, width, height);
      compositeOver = video.compositeOver;
    }
  } catch (error) {
    await release();
    throw error;
  }
  const label = (frame: RgbImage, caption: Caption | undefined): RgbImage => (caption && compositeOver ? compositeOver(frame, caption) : frame);

  async function* generate(): AsyncGenerator<RgbImage> {
    try {
      let emitted = 0;
      const tick = (stage: string): void => {
        emitted++;
        report({ fraction: emitted / totalFrames, stage, message: `frame ${emitted} of ${totalFrames}` });
      };
      if (introFrames > 0) {
        const intro = label(last, recordedCaption);
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
          yield label(frame, generatedCaption);
          tick('lead-in');
        }
        await run.release();
      }
      let final: RgbImage | undefined;
      for (const id of job.images) {
        throwIfCancelled(signal);
        final = label(await fit(id), recordedCaption);
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

export interface JobOutput {
  readonly kind: JobInput['kind'];
  /** Absolute paths of the files written, in a stable order. */
  readonly files: readonly string[];
  readonly backend: string;
  readonly backendVersion: string;
  readonly seed: number;
  /** Timelapse only. */
  readonly frames?: number;
  readonly width?: number;
  readonly height?: number;
}

/** Whether a job writes one file or a folder of files under its output path. */
export function outputKindOf(job: JobInput): 'file' | 'folder' {
  switch (job.kind) {
    case 'frame':
    case 'timelapse':
    case 'encode':
      return 'file';
    case 'keyframes':
    case 'interpolate':
      return 'folder';
    case 'layers':
      return job.format === 'psd' ? 'file' : 'folder';
  }
}

/**
 * Fails fast, creating nothing: the output can be written and, for videos, ffmpeg is there.
 * Call it before slow work (decoding, planning); runJob checks again anyway.
 */
export async function preflight(job: JobInput, output: string): Promise<void> {
  const atomic = await import('../io/atomic.js');
  if (outputKindOf(job) === 'file') await atomic.ensureWritableFile(output);
  else await atomic.checkFolderWritable(output);
  if (job.kind === 'timelapse' || job.kind === 'encode') await (await import('../io/ffmpeg.js')).findFfmpeg();
}

/**
 * Runs a job and writes its result under `output`: a PNG file (frame), a folder (keyframes,
 * interpolate, layers with format "png"), a PSD file (layers) or a video file (timelapse).
 * Every file is written atomically; on cancel or error no partial output is left under the requested name.
 */
export async function runJob(job: JobInput, output: string, env: JobEnvironment): Promise<JobOutput> {
  const signal = env.signal;
  const atomic = await import('../io/atomic.js');
  const { encodePng, keyframeFileName } = await import('../io/png.js');
  switch (job.kind) {
    case 'frame': {
      const target = await atomic.ensureWritableFile(output);
      const result = await renderFrame(job, env);
      await atomic.writeFileAtomic(target, await encodePng(result.image, result.provenance), optionalSignal(signal));
      return summary(job, [target], result.provenance, result.image);
    }
    case 'keyframes': {
      const folder = await atomic.ensureFolder(output);
      const result = await renderKeyframes(job, env);
      const files = await writeAll(
        result.keyframes.map((k) => ({ path: join(folder, keyframeFileName(k.step)), data: () => encodePng(k.image, { ...result.provenance, step: k.step }) })),
        signal,
      );
      return summary(job, files, result.provenance, result.keyframes[0]?.image);
    }
    case 'interpolate': {
      const folder = await atomic.ensureFolder(output);
      const result = await renderInterpolation(job, env);
      const files = await writeAll(
        result.frames.map((f, i) => ({ path: join(folder, `frame-${String(i + 1).padStart(4, '0')}.png`), data: () => encodePng(f, result.provenance) })),
        signal,
      );
      return summary(job, files, result.provenance, result.frames[0]);
    }
    case 'layers': {
      const psd = await import('../io/psd.js');
      if (job.format === 'psd') {
        const target = await atomic.ensureWritableFile(output);
        const result = await renderLayers(job, env);
        await atomic.writeFileAtomic(target, await psd.encodeLayeredPsd(result.stack, result.composite, result.provenance), optionalSignal(signal));
        return summary(job, [target], result.provenance, result.composite);
      }
      await atomic.ensureFolder(output);
      const result = await renderLayers(job, env);
      const files = await psd.writeLayerPngs(output, result.stack, result.composite, result.provenance, signal);
      return summary(job, files, result.provenance, result.composite);
    }
    case 'timelapse': {
      const target = await atomic.ensureWritableFile(output);
      const written = await writeVideo(target, job, () => timelapseFrames(job, env), (plan) => ({ fps: plan.fps, provenance: plan.provenance }), signal);
      return { ...summary(job, [target], written.plan.provenance), ...written.video };
    }
    case 'encode': {
      const target = await atomic.ensureWritableFile(output);
      const written = await writeVideo(target, job, () => encodeFrames(job, env), (plan) => ({ fps: job.fps, metadata: plan.metadata }), signal);
      return { kind: job.kind, files: [target], backend: job.leadIn > 0 ? job.backend : 'none', backendVersion: '', seed: job.seed, ...written.video };
    }
  }
}

/**
 * Plans a video job and streams its frames to ffmpeg into `target`. ffmpeg is found before planning, so
 * a missing encoder fails in milliseconds, not after the plan; the plan's backend is always released.
 */
async function writeVideo<P extends VideoFramePlan>(
  target: string,
  job: Pick<TimelapseJob, 'format' | 'size'>,
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

function optionalSignal(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}

function summary(job: JobInput, files: string[], p: Provenance, image?: { width: number; height: number }): JobOutput {
  return {
    kind: job.kind,
    files,
    backend: p.backend,
    backendVersion: p.backendVersion,
    seed: p.seed,
    ...(image ? { width: image.width, height: image.height } : {}),
  };
}

/** Writes files one by one (each atomic); on error or abort removes the ones this call wrote. */
async function writeAll(items: readonly { path: string; data: () => Promise<Uint8Array> }[], signal: AbortSignal | undefined): Promise<string[]> {
  const { writeFileAtomic } = await import('../io/atomic.js');
  const written: string[] = [];
  try {
    for (const item of items) {
      throwIfCancelled(signal);
      await writeFileAtomic(item.path, await item.data(), optionalSignal(signal));
      written.push(item.path);
    }
    return written;
  } catch (error) {
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw error;
  }
}
