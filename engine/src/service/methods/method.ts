/**
 * The shape of one protocol method on the engine side: its params schema (the protocol's own, shared with
 * clients), its message size limit and its handler. Handlers see the engine only through EngineServices,
 * so a method module never imports the engine (and the engine imports the table, not the handlers).
 */
import type { z } from 'zod';
import type { Job, EngineInfo, Limits, MethodName, MethodResult, PutImageResult, RawPixels, METHODS } from '../../client/protocol.js';
import type { ResultCache } from '../cache.js';
import type { UploadBytes } from '../images.js';
import type { JobManager, JobRecord } from '../jobs.js';
import type { Session } from '../session.js';

/** What a method handler may use of the engine. */
export interface EngineServices {
  readonly token: string;
  readonly limits: Limits;
  readonly cache: ResultCache;
  readonly jobs: JobManager;
  info(session: Session): Promise<EngineInfo>;
  /** Pairs a session (after hello checked its token); throws TOO_MANY_CONNECTIONS when no slot is left. */
  authenticate(session: Session): void;
  /** Stores the upload `read` returns (raw pixels of `pixels`, else an encoded file); `read` runs when the upload's turn comes (see Engine.putImage). */
  putImage(read: () => Promise<Uint8Array | UploadBytes>, pixels?: RawPixels): Promise<PutImageResult>;
  /** A job as one session sees it (download URLs or file paths). */
  toJob(record: JobRecord, session: Session): Job;
}

export interface MethodContext {
  readonly engine: EngineServices;
  readonly session: Session;
}

export type MethodParamsSchema<M extends MethodName> = (typeof METHODS)[M]['params'];

export interface MethodEntry<M extends MethodName> {
  readonly params: MethodParamsSchema<M>;
  /** Largest message (bytes of JSON text) that may carry this method; default `limits.maxMessageBytes`. */
  readonly maxMessageBytes?: (limits: Limits) => number;
  /** Answers once params passed the schema. Errors thrown here become JSON-RPC errors. */
  readonly handle: (params: z.output<MethodParamsSchema<M>>, context: MethodContext) => MethodResult<M> | Promise<MethodResult<M>>;
}

/** Entries for some of the methods: one module per method area exports one of these. */
export type MethodEntries = { readonly [M in MethodName]?: MethodEntry<M> };
/** Every protocol method, exactly once (the compiler checks the table is complete). */
export type MethodTable = { readonly [M in MethodName]: MethodEntry<M> };
