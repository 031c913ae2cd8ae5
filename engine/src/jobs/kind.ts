/**
 * The contract of a job kind: everything the CLI and the service need to know about one kind of job,
 * in one module per kind (jobs/kinds/), listed once in the table of jobs/kinds.ts.
 */
import type { JobInput, JobKind } from '../core/job.js';
import type { JobCapability, JobEnvironment } from './environment.js';
import type { JobOutput } from './output.js';

/** The validated input of one kind, e.g. `JobOf<'frame'>`. */
export type JobOf<K extends JobKind> = Extract<JobInput, { kind: K }>;

export interface JobKindModule<J extends JobInput> {
  /**
   * The name of the single file the job writes, when it writes one (its output path is then a file, and
   * the service names it so in its staging folder); undefined when it writes a folder of files.
   */
  readonly fileName: (job: J) => string | undefined;
  /** The backend operation the job needs; undefined when it needs no backend. */
  readonly capability: (job: J) => JobCapability | undefined;
  /** The distinct images the job reads. */
  readonly images: (job: J) => string[];
  /** The image the job is about (its provenance source; the service's worker affinity). */
  readonly subject: (job: J) => string;
  /** Whether it encodes video, so ffmpeg must be there. */
  readonly needsFfmpeg: boolean;
  /**
   * Version of the set of files the job writes, part of its cache key (1 when absent): raised when a
   * kind writes different files for the same job, so results cached before are not served as its own.
   */
  readonly resultFormat?: number;
  /** Runs the job and writes its result under `output`; on cancel or error no partial output is left. */
  readonly write: (job: J, output: string, env: JobEnvironment) => Promise<JobOutput>;
}
