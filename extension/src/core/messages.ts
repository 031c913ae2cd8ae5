/**
 * Messages between the timeline webview and the extension host: one discriminated union per direction,
 * validated with zod on arrival at both ends (a webview is a web page; the host never trusts it).
 *
 * Requests from the webview carry a `requestId`; the host answers every request with exactly one
 * `reply` (ok + typed result, or an error with a stable code), possibly preceded by `progress` messages.
 * The webview gives up waiting after a timeout (see rpc.ts), so a lost reply never hangs the UI.
 *
 * Runs in the extension host (Node) and in the webview (browser): no Node, DOM or vscode imports.
 */
import { z } from 'zod';

export const MAX_STEP = 999;
/** Every step once: a keyframes export can take the whole process (the engine's MAX_KEYFRAME_STEPS). */
export const MAX_KEYFRAME_STEPS = MAX_STEP + 1;
export const KEYFRAME_PRESETS: readonly number[] = [400, 600, 800, 900, 950, 999];

const Step = z.number().int().min(0).max(MAX_STEP);
const Seed = z.number().int().min(0).max(0xffffffff);
const Backend = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/);
const RequestId = z.number().int().nonnegative();
/** Long side of a frame in pixels (the engine's FrameSizeSchema). */
const FrameSize = z.number().int().min(16).max(16384);

// ---------------------------------------------------------------------------------------------
// Webview -> host

/** `size`: the long side, in device pixels, the preview shows frames at (see previewFrameSize). */
export const FrameRequestSchema = z
  .object({ type: z.literal('frame'), requestId: RequestId, step: Step, seed: Seed, backend: Backend, size: FrameSize.optional() })
  .strict();

export const TimelapseExportSchema = z
  .object({
    what: z.literal('timelapse'),
    format: z.enum(['mp4', 'webm', 'gif']),
    frames: z.number().int().min(2).max(3000),
    fps: z.number().int().min(1).max(60),
    /** Long side in pixels; absent: the image's size (capped by the engine). */
    size: z.number().int().min(64).max(4096).optional(),
    label: z.boolean(),
  })
  .strict();
export const KeyframesExportSchema = z.object({ what: z.literal('keyframes'), steps: z.array(Step).min(1).max(MAX_KEYFRAME_STEPS) }).strict();
export const LayersExportSchema = z.object({ what: z.literal('layers') }).strict();
export const ExportSpecSchema = z.discriminatedUnion('what', [TimelapseExportSchema, KeyframesExportSchema, LayersExportSchema]);
export type ExportSpec = z.infer<typeof ExportSpecSchema>;

export const ExportRequestSchema = z
  .object({ type: z.literal('export'), requestId: RequestId, seed: Seed, backend: Backend, spec: ExportSpecSchema })
  .strict();

/** Cancels an earlier request of this webview (a frame or an export), by its requestId. */
export const CancelRequestSchema = z.object({ type: z.literal('cancel'), requestId: RequestId, target: RequestId }).strict();

/** Asks the host to restart the engine (the button shown next to an engine error). */
export const RestartRequestSchema = z.object({ type: z.literal('restartEngine'), requestId: RequestId }).strict();

/** The webview loaded (or reloaded after being hidden) and wants `init`. */
export const ReadySchema = z.object({ type: z.literal('ready') }).strict();

export const WebviewMessageSchema = z.discriminatedUnion('type', [
  ReadySchema,
  FrameRequestSchema,
  ExportRequestSchema,
  CancelRequestSchema,
  RestartRequestSchema,
]);
export type WebviewMessage = z.infer<typeof WebviewMessageSchema>;
export type WebviewRequest = Exclude<WebviewMessage, { type: 'ready' }>;
export type RequestType = WebviewRequest['type'];

// ---------------------------------------------------------------------------------------------
// Host -> webview

export const FrameResultSchema = z.object({
  step: Step,
  /** Encoded PNG of the frame; VS Code transfers typed arrays without base64. */
  png: z.instanceof(Uint8Array),
  cached: z.boolean(),
});
export const ExportResultSchema = z.object({
  /** Where the files went; null when the user dismissed the save dialog. */
  saved: z.array(z.string()).nullable(),
});
export const EmptyResultSchema = z.object({});

export interface ResultMap {
  frame: z.infer<typeof FrameResultSchema>;
  export: z.infer<typeof ExportResultSchema>;
  cancel: z.infer<typeof EmptyResultSchema>;
  restartEngine: z.infer<typeof EmptyResultSchema>;
}
export const RESULT_SCHEMAS: { readonly [K in RequestType]: z.ZodType<ResultMap[K]> } = {
  frame: FrameResultSchema,
  export: ExportResultSchema,
  cancel: EmptyResultSchema,
  restartEngine: EmptyResultSchema,
};

export const ErrorInfoSchema = z.object({
  /** Stable code: the engine's (INPUT_CORRUPT, CANCELLED, ...) or the extension's (TIMEOUT, BAD_MESSAGE). */
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

export const ReplySchema = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('reply'), requestId: RequestId, ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal('reply'), requestId: RequestId, ok: z.literal(false), error: ErrorInfoSchema }),
]);
export type Reply = z.infer<typeof ReplySchema>;

export const ProgressMessageSchema = z.object({
  type: z.literal('progress'),
  requestId: RequestId,
  fraction: z.number().min(0).max(1),
  stage: z.string(),
});

/** Engine connection state as the webview shows it (mirrors the status bar item). */
export const EngineStateSchema = z.enum(['idle', 'starting', 'connecting', 'connected', 'disconnected', 'unauthorized', 'version-mismatch', 'failed']);
export type EngineState = z.infer<typeof EngineStateSchema>;

export const EngineMessageSchema = z.object({
  type: z.literal('engine'),
  state: EngineStateSchema,
  /** What is wrong and what to do, when not connected. */
  message: z.string().optional(),
});

export const BackendSchema = z.object({
  id: Backend,
  displayName: z.string(),
  timelapse: z.boolean(),
  keyframes: z.boolean(),
  layers: z.boolean(),
});
export type BackendChoice = z.infer<typeof BackendSchema>;

export const DefaultsSchema = z.object({
  seed: Seed,
  backend: Backend,
  format: z.enum(['mp4', 'webm', 'gif']),
  frames: z.number().int().min(2).max(3000),
  fps: z.number().int().min(1).max(60),
  size: z.number().int().min(0).max(4096),
});
export type Defaults = z.infer<typeof DefaultsSchema>;

export const InitMessageSchema = z.object({
  type: z.literal('init'),
  /** File name of the source image (for titles and default export names). */
  fileName: z.string(),
  /** The image as the engine holds it, and what decoding it changed or found (image.put's notices). */
  image: z.object({ width: z.number().int().positive(), height: z.number().int().positive(), notices: z.array(z.string()).default([]) }).nullable(),
  backends: z.array(BackendSchema),
  defaults: DefaultsSchema,
  engine: EngineMessageSchema.omit({ type: true }),
  /** Set when the image could not be loaded into the engine. */
  error: ErrorInfoSchema.optional(),
});
export type InitMessage = z.infer<typeof InitMessageSchema>;

export const HostMessageSchema = z.union([ReplySchema, ProgressMessageSchema, EngineMessageSchema, InitMessageSchema]);
export type HostMessage = z.infer<typeof HostMessageSchema>;

/** How long the webview waits for a reply. Exports wait for the user's save dialog, so they get longer. */
export const REQUEST_TIMEOUT_MS: { readonly [K in RequestType]: number } = {
  frame: 60_000,
  export: 30 * 60_000,
  cancel: 10_000,
  restartEngine: 60_000,
};

/** Errors the extension itself produces (engine codes pass through unchanged). */
export const EXTENSION_ERROR_CODES = {
  TIMEOUT: 'The extension host did not answer in time; the engine may be busy or stopped. Try "PaintsUndo: Restart Engine".',
  BAD_MESSAGE: 'A message between the editor and the extension did not match the expected shape (a bug; please report it).',
  ENGINE_NOT_FOUND: 'No paints-undo engine was found; the message lists where the extension looked and the settings that fix it.',
  ENGINE_START_FAILED: 'The engine could not be started, or kept exiting as it started; the message says why and which setting fixes it.',
} as const;
