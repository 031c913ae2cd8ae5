/**
 * The job contract: one validated input type that carries everything a job needs. The CLI builds it
 * from flags, the protocol receives it as JSON (stdio, WebSocket, HTTP), and backends get it validated.
 */
import { z } from 'zod';
import { MAX_STEP } from './steps.js';
import { PaintsUndoError } from './errors.js';

export const SeedSchema = z.number().int().min(0).max(0xffffffff);
export const StepSchema = z.number().int().min(0).max(MAX_STEP);
/** A content id returned by putImage, or the id of a decoded input (64 hex digits). */
export const ImageIdSchema = z.string().regex(/^[0-9a-f]{64}$/, 'an image id (64 lowercase hex digits)');
export const BackendIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a backend name such as "classic"');

export const VideoFormatSchema = z.enum(['mp4', 'webm', 'gif']);
export type VideoFormat = z.infer<typeof VideoFormatSchema>;

export const DEFAULT_SEED = 12345;

/** Export options of a timelapse, the ones artists know from Krita's recorder and Procreate. */
export const TimelapseOptionsSchema = z.object({
  format: VideoFormatSchema.default('mp4'),
  /** Process frames (first and last included). Ignored when `duration` is given. */
  frames: z.number().int().min(2).max(3000).default(100),
  /** Target length of the process part in seconds (e.g. 15, 30, 60): frames = duration * fps. */
  duration: z.number().positive().max(600).optional(),
  fps: z.number().int().min(1).max(60).default(25),
  /** Long side of the output in pixels (rounded to even); default: the input size, capped at 1920. */
  size: z.number().int().min(64).max(4096).optional(),
  /** Seconds of the finished artwork shown before the process starts. */
  intro: z.number().min(0).max(30).default(0),
  /** Seconds the finished artwork is held at the end. */
  hold: z.number().min(0).max(30).default(1.5),
  direction: z.enum(['draw', 'undo']).default('draw'),
  /** Burn a small "generated reconstruction" caption into the video; a string replaces the caption. */
  label: z.union([z.boolean(), z.string().min(1).max(120)]).default(false),
});
export type TimelapseOptions = z.infer<typeof TimelapseOptionsSchema>;

const common = {
  image: ImageIdSchema,
  backend: BackendIdSchema.default('classic'),
  seed: SeedSchema.default(DEFAULT_SEED),
};

export const FrameJobSchema = z.object({ kind: z.literal('frame'), ...common, step: StepSchema });
export const KeyframesJobSchema = z.object({
  kind: z.literal('keyframes'),
  ...common,
  steps: z.array(StepSchema).min(1).max(100),
});
export const InterpolateJobSchema = z.object({
  kind: z.literal('interpolate'),
  from: ImageIdSchema,
  to: ImageIdSchema,
  backend: common.backend,
  seed: common.seed,
  frames: z.number().int().min(1).max(240).default(16),
});
export const TimelapseJobSchema = z.object({ kind: z.literal('timelapse'), ...common, ...TimelapseOptionsSchema.shape });
export const LayersJobSchema = z.object({
  kind: z.literal('layers'),
  ...common,
  format: z.enum(['psd', 'png']).default('psd'),
});

export const JobInputSchema = z.discriminatedUnion('kind', [
  FrameJobSchema,
  KeyframesJobSchema,
  InterpolateJobSchema,
  TimelapseJobSchema,
  LayersJobSchema,
]);
export type JobInput = z.infer<typeof JobInputSchema>;
export type JobKind = JobInput['kind'];

/** Process frame count of a timelapse: `duration * fps` when a duration is given, else `frames`. */
export function processFrameCount(options: Pick<TimelapseOptions, 'frames' | 'duration' | 'fps'>): number {
  return options.duration !== undefined ? Math.max(2, Math.round(options.duration * options.fps)) : options.frames;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const shown = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  const clipped = shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  return `${clipped} (${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value})`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** What an issue expected, in words: "integer >= 2", "one of "draw", "undo"", "number". */
function expectation(issue: z.core.$ZodIssue): string {
  const kind = (origin: string): string => (origin === 'int' ? 'integer' : origin);
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'integer' : issue.expected;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = small ? issue.minimum : issue.maximum;
      const op = issue.inclusive === false ? (small ? '>' : '<') : small ? '>=' : '<=';
      if (issue.origin === 'array' || issue.origin === 'set') return `${small ? 'at least' : 'at most'} ${limit} items`;
      if (issue.origin === 'string') return `a string of ${small ? 'at least' : 'at most'} ${limit} characters`;
      return `${kind(issue.origin)} ${op} ${limit}`;
    }
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      // Custom messages ("an image id (64 lowercase hex digits)") and anything else, lightly cleaned.
      return issue.message.replace(/^Invalid input: /, '').replace(/^expected /i, '').replace(/, received \w+$/, '');
  }
}

/**
 * Parses `input` with `schema`; on failure throws INVALID_OPTION naming every bad parameter at once:
 * "Expected integer <= 999 for step but received 1200 (number)".
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, what = 'options'): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.length > 0 ? issue.path.map(String).join('.') : what;
    const expected = expectation(issue);
    return `Expected ${expected} for ${name} but received ${describe(valueAt(input, issue.path))}`;
  });
  throw new PaintsUndoError('INVALID_OPTION', problems.join('; ') + '.', {
    details: { problems: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
  });
}
