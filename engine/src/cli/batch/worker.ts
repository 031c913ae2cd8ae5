/**
 * A batch worker process, forked by runner.ts: runs the jobs it is sent, one at a time, through the same
 * path as a single CLI job (job-runner.ts executeCliJob), and reports progress, notices and the outcome
 * over IPC. A process per concurrent job gives each job a core of its own (the backends are synchronous
 * CPU code) and isolates a job that crashes or runs out of memory from the rest of the batch.
 *
 * Stopping: a `cancel` message, the parent going away (IPC disconnect), or Ctrl+C itself (a terminal
 * signals the whole process group) aborts the running job, whose writers then remove their temp files;
 * a second Ctrl+C ends the process at once, as it does for a single job.
 */
import { dirname, join, relative } from 'node:path';
import type { JobOutput } from '../../jobs/run.js';
import { describeError, debugDetails, debugEnabled } from '../errors.js';
import { executeCliJob, interruptSignal } from '../job-runner.js';
import { Reporter } from '../reporter.js';
import type { FromWorker, RunMessage, ToWorker } from './messages.js';

/** Progress is forwarded at most this often per job (a backend may report every frame). */
const PROGRESS_INTERVAL_MS = 100;

if (!process.send) throw new Error('cli/batch/worker.ts must be started by the batch runner with an IPC channel');

function send(message: FromWorker): void {
  // The parent may be gone (killed) between the check and the write: the failed send is ignored, and the
  // 'disconnect' that follows cancels the job, which removes its partial output.
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
}

/** The official-model backends register when imported, as the CLI does before every command. */
const ready = import('../../../../models/src/backends/register.js').then(() => import('../../core/job.js'));

// A JSON reporter prints nothing: the parent tells the user about cancelling.
const interrupt = interruptSignal(new Reporter({ json: true }));
const stop = new AbortController();
const signal = AbortSignal.any([interrupt.signal, stop.signal]);
process.on('disconnect', () => stop.abort());

async function run(request: RunMessage): Promise<JobOutput> {
  const { parseOrThrow, JobInputSchema } = await ready;
  const job = parseOrThrow(JobInputSchema, request.job);
  let lastProgress = 0;
  let lastStage = '';
  const hooks = {
    signal,
    onNotice: (text: string) => send({ type: 'notice', id: request.id, text }),
    onProgress: (p: { fraction: number; stage: string; message?: string }) => {
      const now = Date.now();
      if (now - lastProgress < PROGRESS_INTERVAL_MS && p.stage === lastStage && p.fraction < 1) return;
      lastProgress = now;
      lastStage = p.stage;
      send({ type: 'progress', id: request.id, fraction: p.fraction, stage: p.stage, ...(p.message === undefined ? {} : { message: p.message }) });
    },
  };
  if (request.outputKind === 'file') {
    // With --recursive the output mirrors the input's sub-folder, which may not exist yet (and goes again if the job fails).
    const { withOutputFolder } = await import('../../io/atomic.js');
    return withOutputFolder(dirname(request.output), () => executeCliJob(job, request.input, request.output, hooks));
  }
  const { withAtomicFolder } = await import('../../io/atomic-folder.js');
  return withAtomicFolder(
    request.output,
    async (temp) => {
      const result = await executeCliJob(job, request.input, temp, hooks);
      // The files as they will be named once the temp folder is renamed.
      return { ...result, files: result.files.map((file) => join(request.output, relative(temp, file))) };
    },
    { signal },
  );
}

// Listening from the first moment: a message that arrives before a listener exists is lost.
process.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') {
    stop.abort();
    return;
  }
  run(message).then(
    (result) => send({ type: 'done', id: message.id, result }),
    (error: unknown) => send({ type: 'failed', id: message.id, error: describeError(error), ...(debugEnabled() ? { debug: debugDetails(error) } : {}) }),
  );
});
