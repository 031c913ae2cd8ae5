/**
 * Jobs: one method per job kind (each submits a validated JobInput to the job manager and answers with the
 * Job at once; events follow), and `jobs.list`, `jobs.get`, `jobs.cancel`.
 */
import type { z } from 'zod';
import { METHODS, type Job, type JobMethod } from '../../client/protocol.js';
import { JobInputSchema, parseOrThrow, type JobInput, type JobKind } from '../../core/job.js';
import type { MethodContext, MethodEntries, MethodParamsSchema } from './method.js';

/** A job method submits a job of this kind (the method's params are the job input without `kind`). */
function jobMethod<M extends JobMethod>(
  method: M,
  kind: JobKind,
): { params: MethodParamsSchema<M>; handle: (params: z.output<MethodParamsSchema<M>>, context: MethodContext) => Promise<Job> } {
  return {
    params: METHODS[method].params,
    handle: async (params, { engine, session }) => {
      // `slider` belongs to the request (which older frame it supersedes), not to the job input.
      const { slider, ...rest } = params as typeof params & { slider?: string };
      // Already validated by the method schema; the core schema gives the discriminated type.
      const input: JobInput = parseOrThrow(JobInputSchema, { kind, ...rest }, 'params');
      const record = await engine.jobs.submit({ id: session.id }, input, slider);
      return engine.toJob(record, session);
    },
  };
}

export const jobMethods = {
  frame: jobMethod('frame', 'frame'),
  keyframes: jobMethod('keyframes', 'keyframes'),
  interpolate: jobMethod('interpolate', 'interpolate'),
  timelapse: jobMethod('timelapse', 'timelapse'),
  layers: jobMethod('layers', 'layers'),
  'video.encode': jobMethod('video.encode', 'encode'),
  'jobs.list': {
    params: METHODS['jobs.list'].params,
    handle: (params, { engine, session }) => {
      const p = params ?? { mine: false, limit: 100 };
      const records = engine.jobs.list({ ...(p.state ? { state: p.state } : {}), ...(p.mine ? { owner: session.id } : {}), limit: p.limit });
      return { jobs: records.map((r) => engine.toJob(r, session)), stats: engine.jobs.stats() };
    },
  },
  'jobs.get': { params: METHODS['jobs.get'].params, handle: (params, { engine, session }) => engine.toJob(engine.jobs.get(params.job), session) },
  'jobs.cancel': { params: METHODS['jobs.cancel'].params, handle: (params, { engine, session }) => engine.toJob(engine.jobs.cancel(params.job), session) },
} satisfies MethodEntries;
