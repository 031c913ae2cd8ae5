/**
 * Runs the jobs of a batch on a few worker processes (worker.ts), `jobs` at a time, and reports each
 * one's progress and outcome. A worker that dies (a crash, out of memory) fails only the job it was
 * running; the next job gets a fresh process. When `signal` fires, running jobs are cancelled (their temp
 * outputs removed by the workers), no new job starts, and runTasks resolves once every worker is gone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Progress } from '../../core/backend.js';
import type { JobInput } from '../../core/job.js';
import { usableMemoryBytes } from '../../core/memory.js';
import type { JobOutput } from '../../jobs/run.js';
import { EXIT } from '../exit-codes.js';
import { debugEnabled, type ErrorReport } from '../errors.js';
import type { FromWorker, ToWorker } from './messages.js';

export interface BatchTask {
  readonly id: number;
  readonly input: string;
  readonly output: string;
}

export type TaskOutcome =
  | { readonly status: 'written'; readonly result: JobOutput }
  | { readonly status: 'failed'; readonly error: ErrorReport }
  | { readonly status: 'cancelled' };

export interface RunTasksOptions {
  /** The validated job, with a placeholder image id: each worker decodes its own input. */
  readonly job: JobInput;
  readonly outputKind: 'file' | 'folder';
  readonly jobs: number;
  readonly signal: AbortSignal;
  readonly onStart: (task: BatchTask) => void;
  readonly onProgress: (task: BatchTask, progress: Progress) => void;
  readonly onNotice: (task: BatchTask, text: string) => void;
  readonly onOutcome: (task: BatchTask, outcome: TaskOutcome) => void;
}

/**
 * Memory one job may need at its peak: issue 12's target for a 6000x4000 input with the classic backend
 * (smaller inputs need far less). Official-model backends need more; lower --jobs for them.
 */
export const JOB_MEMORY_BYTES = 2 * 1024 ** 3;

/**
 * The default --jobs: one per core (a classic job keeps about one core busy), fewer when the memory this
 * process may use (a container's limit where there is one) would not hold that many jobs at their peak,
 * never more than there are inputs.
 */
export function defaultJobs(inputs: number): number {
  const byMemory = Math.floor((usableMemoryBytes() * 0.75) / JOB_MEMORY_BYTES);
  return Math.max(1, Math.min(availableParallelism(), byMemory, inputs));
}

/** From dist/ the worker is plain JS; under tsx (tests, benchmarks) it is TypeScript and needs tsx. */
function workerEntry(): { path: string; execArgv: string[] } {
  const typescript = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(typescript ? './worker.ts' : './worker.js', import.meta.url));
  return { path, execArgv: typescript ? [...process.execArgv, '--import', 'tsx'] : process.execArgv };
}

/** The last bytes a worker wrote on stderr, kept to explain a crash. */
const STDERR_TAIL_BYTES = 4096;

class WorkerProcess {
  private child: ChildProcess | undefined;
  private current: { task: BatchTask; resolve: (outcome: TaskOutcome) => void } | undefined;
  private stderrTail = '';

  constructor(private readonly options: RunTasksOptions) {}

  run(task: BatchTask): Promise<TaskOutcome> {
    return new Promise((resolve) => {
      this.current = { task, resolve };
      const child = this.child ?? this.start();
      const message: ToWorker = { type: 'run', id: task.id, job: this.options.job, input: task.input, output: task.output, outputKind: this.options.outputKind };
      child.send(message, (error) => {
        if (error) this.finish({ status: 'failed', error: internal(`Could not start the job for ${task.input}: ${error.message}.`) });
      });
    });
  }

  cancel(): void {
    if (this.child?.connected) this.child.send({ type: 'cancel' } satisfies ToWorker, () => undefined);
  }

  /** Lets the worker end (it exits when its IPC channel closes) and waits for it. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.disconnect();
    await exited;
  }

  private start(): ChildProcess {
    const entry = workerEntry();
    const child = fork(entry.path, [], { execArgv: entry.execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    this.child = child;
    this.stderrTail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (debugEnabled()) process.stderr.write(text);
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (message: FromWorker) => this.receive(message));
    child.on('error', (error) => this.finish({ status: 'failed', error: internal(`The worker process failed: ${error.message}.`) }));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const how = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
      this.finish({ status: 'failed', error: internal(`The worker process ${how} while it worked on this input${tail ? ` (${tail})` : ''}.`) });
    });
    return child;
  }

  private receive(message: FromWorker): void {
    const current = this.current;
    if (!current || message.id !== current.task.id) return;
    switch (message.type) {
      case 'progress':
        this.options.onProgress(current.task, { fraction: message.fraction, stage: message.stage, ...(message.message === undefined ? {} : { message: message.message }) });
        return;
      case 'notice':
        this.options.onNotice(current.task, message.text);
        return;
      case 'done':
        this.finish({ status: 'written', result: message.result });
        return;
      case 'failed':
        if (message.debug) process.stderr.write(message.debug);
        this.finish(message.error.code === 'CANCELLED' ? { status: 'cancelled' } : { status: 'failed', error: message.error });
    }
  }

  private finish(outcome: TaskOutcome): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    // A worker that died while the batch was being cancelled was cancelled, not broken.
    current.resolve(outcome.status === 'failed' && this.options.signal.aborted ? { status: 'cancelled' } : outcome);
  }
}

function internal(message: string): ErrorReport {
  return {
    code: 'INTERNAL',
    message,
    hint: 'Run the batch again with PAINTS_UNDO_DEBUG=1 to see the worker output, and report it; a very large input may need more memory (try --jobs 1).',
    exitCode: EXIT.internal,
  };
}

/** Runs `tasks` in order of the list, `options.jobs` at a time. */
export async function runTasks(tasks: readonly BatchTask[], options: RunTasksOptions): Promise<void> {
  const queue = [...tasks];
  const workers = Array.from({ length: Math.max(1, Math.min(options.jobs, tasks.length)) }, () => new WorkerProcess(options));
  const cancelAll = (): void => workers.forEach((w) => w.cancel());
  options.signal.addEventListener('abort', cancelAll, { once: true });
  try {
    await Promise.all(
      workers.map(async (worker) => {
        while (!options.signal.aborted && queue.length > 0) {
          const task = queue.shift()!;
          options.onStart(task);
          options.onOutcome(task, await worker.run(task));
        }
      }),
    );
  } finally {
    options.signal.removeEventListener('abort', cancelAll);
    await Promise.all(workers.map((w) => w.close()));
  }
}
