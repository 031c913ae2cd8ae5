/**
 * The keyframes job: several steps of the process at once (up to all 1000), as a folder of
 * step-NNNN.png files. Frames are written as the backend renders them, one plan for all of them: PNGs
 * are encoded and flushed to disk while the next frames render, with at most WRITES_IN_FLIGHT frames
 * held at a time, so a full 1000-step export of a 4096 px canvas runs in bounded memory with progress
 * all along.
 */
import { join } from 'node:path';
import { collectKeyframes, type Keyframe } from '../../core/backend.js';
import { PaintsUndoError, throwIfCancelled } from '../../core/errors.js';
import { fitLongSide } from '../../core/image.js';
import type { Provenance } from '../../io/provenance.js';
import { prepareBackend, provenanceFor, withBackend, type JobEnvironment } from '../environment.js';
import type { JobKindModule, JobOf } from '../kind.js';
import { optionalSignal, outputSummary } from '../output.js';

export type KeyframesJob = JobOf<'keyframes'>;

/** Frames being encoded and written while the next ones render (each write ends in an fsync). */
const WRITES_IN_FLIGHT = 3;

export interface KeyframesResult {
  /** In the order of the job's steps, each step once. */
  readonly keyframes: readonly Keyframe[];
  /** Provenance without a step; each keyframe's file adds its own step. */
  readonly provenance: Provenance;
}

/** The job's steps, each once, in the order given. */
function distinctSteps(job: KeyframesJob): number[] {
  return [...new Set(job.steps)];
}

/** The keyframes in memory, for a few of them (e.g. a contact sheet); exports stream with `keyframesKind.write`. */
export async function renderKeyframes(job: KeyframesJob, env: JobEnvironment): Promise<KeyframesResult> {
  const source = await env.resolveImage(job.image);
  const steps = distinctSteps(job);
  return withBackend(env, job.backend, 'keyframes', 'render keyframes', async ({ backend, signal, report }) => {
    const frames = await collectKeyframes(backend.keyframes({ source, steps, seed: job.seed, size: job.size }, { signal, onProgress: report }));
    const byStep = new Map(frames.map((k) => [k.step, k]));
    const keyframes = steps.flatMap((s) => {
      const k = byStep.get(s);
      return k ? [{ step: s, image: fitLongSide(k.image, job.size) }] : [];
    });
    return { keyframes, provenance: provenanceFor(backend, job.seed, source.id) };
  });
}

export const keyframesKind: JobKindModule<KeyframesJob> = {
  fileName: () => undefined,
  capability: () => 'keyframes',
  images: (job) => [job.image],
  subject: (job) => job.image,
  needsFfmpeg: false,
  async write(job, output, env) {
    const atomic = await import('../../io/atomic.js');
    const { encodePng, keyframeFileName } = await import('../../io/png.js');
    const folder = await atomic.ensureFolder(output);
    const source = await env.resolveImage(job.image);
    const steps = distinctSteps(job);
    const run = await prepareBackend(env, job.backend, 'keyframes', 'render keyframes');
    const provenance = provenanceFor(run.backend, job.seed, source.id);
    const written = new Map<number, string>();
    // All or nothing, and a cancelled run into an earlier run's folder leaves its files as they were.
    const files = new atomic.FileSet();
    let size: { width: number; height: number } | undefined;
    // Files being encoded and written, oldest first, while the backend renders the next frames.
    const pending: Promise<void>[] = [];
    try {
      const frames = run.backend.keyframes({ source, steps, seed: job.seed, size: job.size }, { signal: run.signal, onProgress: run.report });
      for await (const frame of frames) {
        throwIfCancelled(run.signal);
        const { step } = frame;
        const image = fitLongSide(frame.image, job.size);
        if (pending.length >= WRITES_IN_FLIGHT) await pending.shift();
        size ??= { width: image.width, height: image.height };
        const path = join(folder, keyframeFileName(step));
        const write = encodePng(image, { ...provenance, step })
          .then((png) => files.write(path, png, optionalSignal(run.signal)))
          .then(() => void written.set(step, path));
        // A failed write surfaces when it is awaited; until then it must not count as unhandled.
        write.catch(() => undefined);
        pending.push(write);
      }
      await Promise.all(pending);
      const missing = steps.filter((s) => !written.has(s));
      if (missing.length > 0) throw new PaintsUndoError('INTERNAL', `The ${run.backend.id} backend rendered no frame for steps ${missing.join(', ')}.`);
      await files.commit();
      run.report({ fraction: 1, stage: 'done' });
      return outputSummary(job, steps.map((s) => written.get(s)!), provenance, size);
    } catch (error) {
      // All or nothing: frames written so far are removed, files they replaced put back.
      await Promise.allSettled(pending);
      await files.rollback();
      throw error;
    } finally {
      await run.release();
    }
  },
};
