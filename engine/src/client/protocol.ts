/**
 * The engine protocol, shared by the server and every client: method names, parameter and result
 * schemas, events and error codes. JSON-RPC 2.0, one JSON object per line over stdio, one per
 * WebSocket text message over 127.0.0.1. PROTOCOL.md documents every entry here; a test checks that.
 *
 * This module runs in Node, in browsers and in UXP: it imports only zod and the engine core's
 * plain-TypeScript job schemas, never a Node module.
 */
import { z } from 'zod';
import {
  EncodeJobSchema,
  FrameJobSchema,
  ImageIdSchema,
  InterpolateJobSchema,
  KeyframesJobSchema,
  LayersJobSchema,
  TimelapseJobSchema,
} from '../core/job.js';
import { ERROR_CODES, type ErrorCode } from '../core/errors.js';

export { DEFAULT_PORT, PROTOCOL_VERSION, WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX } from './constants.js';
/** HTTP header carrying the token (or `Authorization: Bearer <token>`). */
export const TOKEN_HEADER = 'x-paints-undo-token';
/** A token is 32 random bytes in lowercase hex. */
export const TokenSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a token (64 lowercase hex digits)');

// ---------------------------------------------------------------------------------------------
// Error codes

/** Errors of the service itself, in addition to the engine core's codes (core/errors.ts). */
export const SERVICE_ERROR_CODES = {
  PARSE_ERROR: { rpc: -32700, summary: 'The message is not valid JSON.' },
  INVALID_REQUEST: { rpc: -32600, summary: 'The message is JSON but not a JSON-RPC 2.0 request.' },
  METHOD_NOT_FOUND: { rpc: -32601, summary: 'No method has that name; the message lists the methods.' },
  UNAUTHORIZED: { rpc: -32001, summary: 'The token is missing or wrong; pair the client with the token the engine printed.' },
  VERSION_MISMATCH: { rpc: -32002, summary: 'Client and engine speak different protocol versions; update the older one.' },
  NOT_FOUND: { rpc: -32003, summary: 'No image, job or result has that id (it may have been evicted; upload again).' },
  RATE_LIMITED: { rpc: -32004, summary: 'Too many requests per second from this connection; slow down and retry.' },
  TOO_MANY_JOBS: { rpc: -32005, summary: 'This client already has the maximum number of unfinished jobs; wait or cancel some.' },
  BODY_TOO_LARGE: { rpc: -32006, summary: 'The message or upload exceeds the size limit.' },
  SHUTTING_DOWN: { rpc: -32007, summary: 'The engine is shutting down and accepts no new work.' },
  TOO_MANY_CONNECTIONS: { rpc: -32008, summary: 'The engine already serves the maximum number of connections.' },
  FORBIDDEN: { rpc: -32009, summary: 'The request came from a web origin or Host that is not allowed (DNS rebinding / cross-site protection).' },
} as const;
export type ServiceErrorCode = keyof typeof SERVICE_ERROR_CODES;
export type ProtocolErrorCode = ErrorCode | ServiceErrorCode;

/** JSON-RPC error numbers of the engine core's codes (stable; never reuse a number). */
export const CORE_ERROR_RPC: Readonly<Record<ErrorCode, number>> = {
  INVALID_OPTION: -32602, // JSON-RPC "Invalid params"
  INPUT_NOT_FOUND: -32010,
  INPUT_NOT_IMAGE: -32011,
  INPUT_CORRUPT: -32012,
  INPUT_TOO_SMALL: -32013,
  INPUT_TOO_LARGE: -32014,
  OUTPUT_NOT_WRITABLE: -32015,
  UNKNOWN_BACKEND: -32016,
  UNSUPPORTED: -32017,
  MODEL_MISSING: -32018,
  FFMPEG_MISSING: -32019,
  CANCELLED: -32020,
  ENCODER_FAILED: -32021,
  INTERNAL: -32603, // JSON-RPC "Internal error"
};

export function rpcCodeOf(code: ProtocolErrorCode): number {
  if (code in SERVICE_ERROR_CODES) return SERVICE_ERROR_CODES[code as ServiceErrorCode].rpc;
  return CORE_ERROR_RPC[code as ErrorCode];
}

export const ALL_ERROR_CODES: readonly ProtocolErrorCode[] = [
  ...(Object.keys(SERVICE_ERROR_CODES) as ServiceErrorCode[]),
  ...(Object.keys(ERROR_CODES) as ErrorCode[]),
];

/** `error.data` of every JSON-RPC error the engine sends. */
export const ErrorDataSchema = z.object({
  code: z.string(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorData = z.infer<typeof ErrorDataSchema>;

/** An error as clients see it: stable string `code`, numeric `rpcCode`, actionable message. */
export class EngineError extends Error {
  readonly code: string;
  readonly rpcCode: number;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options: { rpcCode?: number; hint?: string; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.rpcCode = options.rpcCode ?? (isProtocolErrorCode(code) ? rpcCodeOf(code) : -32603);
    this.hint = options.hint;
    this.details = options.details;
  }
}

export function isProtocolErrorCode(code: string): code is ProtocolErrorCode {
  return code in SERVICE_ERROR_CODES || code in ERROR_CODES;
}

// ---------------------------------------------------------------------------------------------
// Shared shapes

export const JobIdSchema = z.string().regex(/^j[0-9a-z]{1,32}$/, 'a job id such as "j1k2x9"');
export const JobStateSchema = z.enum(['queued', 'running', 'done', 'failed', 'cancelled']);
export type JobState = z.infer<typeof JobStateSchema>;
export const JobKindSchema = z.enum(['frame', 'keyframes', 'interpolate', 'timelapse', 'layers', 'encode']);
/** 'interactive' (slider frames) always runs before 'batch' (everything else). */
export const PrioritySchema = z.enum(['interactive', 'batch']);

export const ResultFileSchema = z.object({
  /** File name inside the result, e.g. "frame.png", "step-0400.png", "timelapse.mp4", "layers.psd". */
  name: z.string(),
  mime: z.string(),
  bytes: z.number().int().nonnegative(),
  /** The step a frame or keyframe shows, where that applies. */
  step: z.number().int().optional(),
  /** HTTP URL (with its access signature) to download it; present when the engine listens on HTTP. */
  url: z.string().optional(),
  /** Absolute path on the engine's disk; present for stdio clients only (they run on the same machine). */
  path: z.string().optional(),
});
export type ResultFile = z.infer<typeof ResultFileSchema>;

export const JobResultSchema = z.object({
  /** Content-addressed id of the result in the cache (64 hex digits). */
  id: z.string(),
  files: z.array(ResultFileSchema),
  /** True when the result came from the cache without recomputation. */
  cached: z.boolean(),
});
export type JobResult = z.infer<typeof JobResultSchema>;

export const JobErrorSchema = z.object({ code: z.string(), message: z.string(), hint: z.string().optional() });

export const ProgressSchema = z.object({
  /** 0..1 for the whole job. */
  fraction: z.number().min(0).max(1),
  stage: z.string(),
  message: z.string().optional(),
  /** Estimated seconds until done, once it can be estimated. */
  etaSeconds: z.number().nonnegative().optional(),
});
export type JobProgress = z.infer<typeof ProgressSchema>;

export const JobSchema = z.object({
  id: JobIdSchema,
  kind: JobKindSchema,
  state: JobStateSchema,
  priority: PrioritySchema,
  backend: z.string(),
  /** The validated parameters the job was created with. */
  params: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  progress: ProgressSchema,
  result: JobResultSchema.optional(),
  error: JobErrorSchema.optional(),
  /** Set when a newer slider request of the same client replaced this one. */
  supersededBy: JobIdSchema.optional(),
});
export type Job = z.infer<typeof JobSchema>;

export const BackendInfoSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  version: z.string(),
  capabilities: z.object({
    frame: z.boolean(),
    keyframes: z.boolean(),
    interpolate: z.boolean(),
    timelapse: z.boolean(),
    layers: z.boolean(),
    preview: z.boolean(),
    device: z.enum(['cpu', 'gpu']),
  }),
});

export const LimitsSchema = z.object({
  maxUploadBytes: z.number(),
  maxPixels: z.number(),
  maxMessageBytes: z.number(),
  maxConnections: z.number(),
  maxQueuedJobsPerClient: z.number(),
  maxRequestsPerSecond: z.number(),
  /** video.encode: total pixels of the distinct frames of one job (absent from engines before video.encode). */
  maxEncodePixels: z.number().optional(),
  /**
   * The long side uploads are reduced to (a bigger image is downscaled on the way in): a client that can
   * read its canvas at any size sends no more than this.
   */
  workingLongSide: z.number().optional(),
});
export type Limits = z.infer<typeof LimitsSchema>;

export const EngineInfoSchema = z.object({
  name: z.literal('paints-undo'),
  version: z.string(),
  protocol: z.number().int(),
  backends: z.array(BackendInfoSchema),
  devices: z.array(z.object({ kind: z.enum(['cpu', 'gpu']), name: z.string() })),
  models: z.array(z.object({ id: z.string(), path: z.string().optional(), ok: z.boolean() })),
  limits: LimitsSchema,
  /** The HTTP base URL for binary bodies, when the engine listens on a port. */
  httpBase: z.string().optional(),
  /** 'stdio' or 'websocket': how this client is connected. */
  transport: z.enum(['stdio', 'websocket']),
  /**
   * The methods this engine answers. Optional because engines before `video.encode` did not send it:
   * a client that finds no list (or no method in it) falls back to what it did before.
   */
  methods: z.array(z.string()).optional(),
});
export type EngineInfo = z.infer<typeof EngineInfoSchema>;

// ---------------------------------------------------------------------------------------------
// Methods: params (strict: unknown keys are errors, so typos are caught) and results

/** A frame for a slider: `slider` names the slider; a newer request with the same name supersedes. */
export const FrameParamsSchema = FrameJobSchema.omit({ kind: true })
  .extend({ slider: z.string().min(1).max(64).optional() })
  .strict();
export const KeyframesParamsSchema = KeyframesJobSchema.omit({ kind: true }).strict();
export const InterpolateParamsSchema = InterpolateJobSchema.omit({ kind: true }).strict();
export const TimelapseParamsSchema = TimelapseJobSchema.omit({ kind: true }).strict();
export const LayersParamsSchema = LayersJobSchema.omit({ kind: true }).strict();
/** `video.encode`: frames the client recorded (uploaded with image.put, in order) as a video job of kind "encode". */
export const VideoEncodeParamsSchema = EncodeJobSchema.omit({ kind: true }).strict();

/**
 * Uncompressed 8-bit pixels, row-major, chunky (RGB or RGBA with straight alpha), exactly
 * width x height x channels bytes: what a host application reads from its canvas, sent without encoding
 * (a 4096 px canvas costs a panel seconds to encode as PNG). HTTP: `POST /images?width=W&height=H&channels=C`.
 */
export const RawPixelsSchema = z
  .object({
    width: z.number().int().min(1).max(1_000_000),
    height: z.number().int().min(1).max(1_000_000),
    channels: z.union([z.literal(3), z.literal(4)]),
  })
  .strict();
export type RawPixels = z.infer<typeof RawPixelsSchema>;

export const PutImageParamsSchema = z.union([
  /**
   * Image bytes in base64: an encoded file (PNG, JPEG, WebP, ...), or raw pixels when `pixels` describes
   * them. Large images: prefer HTTP POST /images.
   */
  z.object({ data: z.string().min(1), pixels: RawPixelsSchema.optional() }).strict(),
  /** A file on the engine's disk; stdio clients only (they run on the same machine as the engine). */
  z.object({ path: z.string().min(1).max(4096) }).strict(),
]);
export const PutImageResultSchema = z.object({
  image: ImageIdSchema,
  width: z.number().int(),
  height: z.number().int(),
  hasAlpha: z.boolean(),
  /** True when the engine already had these pixels (nothing was decoded or stored). */
  reused: z.boolean(),
  /**
   * What decoding changed or found, in words for the user: downscaled to the working size, converted
   * from CMYK or 16-bit, EXIF orientation applied, only the first frame of an animation used, too small
   * to look good. Empty when the upload was used as it is.
   */
  notices: z.array(z.string()).default([]),
});
export type PutImageResult = z.infer<typeof PutImageResultSchema>;

export const HelloParamsSchema = z
  .object({
    protocol: z.number().int(),
    token: z.string().max(200).optional(),
    client: z.string().max(100).optional(),
  })
  .strict();

const empty = z.object({}).strict().optional();
export const JobRefSchema = z.object({ job: JobIdSchema }).strict();
export const JobsListParamsSchema = z
  .object({
    state: JobStateSchema.optional(),
    /** Only jobs created by this connection. */
    mine: z.boolean().default(false),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .strict()
  .optional();

export const CacheStatsSchema = z.object({
  dir: z.string(),
  entries: z.number().int(),
  bytes: z.number().int(),
  capBytes: z.number().int(),
  /** Since this engine started. */
  hits: z.number().int(),
  misses: z.number().int(),
  evictions: z.number().int(),
  corruptRemoved: z.number().int(),
});
export type CacheStats = z.infer<typeof CacheStatsSchema>;

export const JobStatsSchema = z.object({
  created: z.number().int(),
  /** Jobs that ran a backend (cache misses). */
  computed: z.number().int(),
  fromCache: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  superseded: z.number().int(),
  /**
   * Uploads whose plan was started ahead of any request on an idle worker, how many of those were cancelled
   * (a job needed the worker), and the plans the workers made in all. Optional: engines before planning
   * ahead do not send them.
   */
  plansAhead: z.number().int().optional(),
  plansAheadCancelled: z.number().int().optional(),
  plansMade: z.number().int().optional(),
  queued: z.number().int(),
  running: z.number().int(),
});
export type JobStats = z.infer<typeof JobStatsSchema>;

export const METHODS = {
  hello: { params: HelloParamsSchema, result: EngineInfoSchema },
  'engine.info': { params: empty, result: EngineInfoSchema },
  'image.put': { params: PutImageParamsSchema, result: PutImageResultSchema },
  frame: { params: FrameParamsSchema, result: JobSchema },
  keyframes: { params: KeyframesParamsSchema, result: JobSchema },
  interpolate: { params: InterpolateParamsSchema, result: JobSchema },
  timelapse: { params: TimelapseParamsSchema, result: JobSchema },
  layers: { params: LayersParamsSchema, result: JobSchema },
  'video.encode': { params: VideoEncodeParamsSchema, result: JobSchema },
  'jobs.list': { params: JobsListParamsSchema, result: z.object({ jobs: z.array(JobSchema), stats: JobStatsSchema }) },
  'jobs.get': { params: JobRefSchema, result: JobSchema },
  'jobs.cancel': { params: JobRefSchema, result: JobSchema },
  'cache.stats': { params: empty, result: CacheStatsSchema },
  'cache.clear': { params: empty, result: z.object({ removedEntries: z.number().int(), freedBytes: z.number().int() }) },
} as const;
export type MethodName = keyof typeof METHODS;
export type MethodParams<M extends MethodName> = z.input<(typeof METHODS)[M]['params']>;
export type MethodResult<M extends MethodName> = z.output<(typeof METHODS)[M]['result']>;
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];
/** Methods that start a job (their result is a Job; events follow). */
export const JOB_METHODS = ['frame', 'keyframes', 'interpolate', 'timelapse', 'layers', 'video.encode'] as const;
export type JobMethod = (typeof JOB_METHODS)[number];

// ---------------------------------------------------------------------------------------------
// Events: JSON-RPC notifications from the engine

export const PreviewSchema = z.object({
  mime: z.literal('image/png'),
  width: z.number().int(),
  height: z.number().int(),
  /** base64 PNG, at most 128 px on the long side. */
  data: z.string(),
});

export const EVENTS = {
  'job.queued': z.object({ job: JobSchema }),
  'job.progress': z.object({ job: JobIdSchema, progress: ProgressSchema, preview: PreviewSchema.optional() }),
  'job.done': z.object({ job: JobSchema }),
  'job.failed': z.object({ job: JobSchema }),
  'job.cancelled': z.object({ job: JobSchema }),
} as const;
export type EventName = keyof typeof EVENTS;
export type EventPayload<E extends EventName> = z.output<(typeof EVENTS)[E]>;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

/** Backend id used when a request names none. */
export const DEFAULT_BACKEND = 'classic';
