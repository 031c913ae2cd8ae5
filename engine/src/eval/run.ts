/**
 * `paints-undo eval`: plans every image of a folder with the classic backend, measures the process
 * (metrics.ts), optionally writes a contact sheet per image (sheet.ts), and reports per image and in total.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { SourceImage } from '../core/backend.js';
import { PaintsUndoError, isPaintsUndoError, throwIfCancelled } from '../core/errors.js';
import { DEFAULT_SEED, SeedSchema, parseOrThrow } from '../core/job.js';
import { TimelineRenderer } from '../core/renderer.js';
import type { Timeline } from '../core/timeline.js';
import { DEFAULT_THRESHOLDS, checkMetrics, measureTimeline, type Check, type Thresholds, type TimelineMetrics } from './metrics.js';
import { DEFAULT_SHEET_FRAMES, contactSheetPng, renderSheetFrames, sheetSteps } from './sheet.js';
import { IMAGE_EXTENSIONS, isImageFileName } from '../io/image-files.js';

export const EvalOptionsSchema = z.object({
  seed: SeedSchema.default(DEFAULT_SEED),
  /** Long side the inputs are downscaled to before planning (never upscaled); default: as decoded. */
  size: z.number().int().min(64).max(4096).optional(),
  /** Folder for contact sheets; none when absent. */
  sheetDir: z.string().min(1).optional(),
  sheetFrames: z.number().int().min(2).max(64).default(DEFAULT_SHEET_FRAMES),
  /** Long side of the canvas per-operation metrics are computed on; default: the plan resolution (max 512). */
  metricSize: z.number().int().min(32).max(1024).optional(),
});
export type EvalOptions = z.input<typeof EvalOptionsSchema>;

/** Extensions `eval` picks up in a folder (what decode.ts reads). */
export { IMAGE_EXTENSIONS };

export interface ImageResult {
  readonly file: string;
  readonly width?: number;
  readonly height?: number;
  readonly style?: string;
  /** Wall-clock seconds per stage. */
  readonly seconds?: { readonly decode: number; readonly plan: number; readonly sheet: number; readonly metrics: number };
  readonly metrics?: TimelineMetrics;
  readonly checks: readonly Check[];
  readonly pass: boolean;
  readonly sheet?: string;
  /** Set when the image could not be evaluated (bad input, planner failure). */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface CheckTotal {
  readonly id: string;
  readonly label: string;
  readonly limit: number | null;
  readonly passed: number;
  readonly failed: number;
  readonly notApplicable: number;
  /** Largest measured value over the images (numeric checks), for "how far from the limit". */
  readonly worst: number | null;
}

export interface EvalReport {
  readonly folder: string;
  readonly seed: number;
  readonly thresholds: Thresholds;
  readonly images: readonly ImageResult[];
  readonly totals: readonly CheckTotal[];
  readonly pass: boolean;
}

/** What eval needs from a planner: the classic backend's planTimeline, or any function like it. */
export type Planner = (source: SourceImage, seed: number, signal?: AbortSignal) => Timeline | Promise<Timeline>;

/**
 * The classic backend's planner, loaded on first use so `paints-undo --help` never loads it. It runs
 * the planner's stages with an event-loop turn between them, so Ctrl+C is seen while it plans.
 */
export async function classicPlanner(): Promise<Planner> {
  const { planSteps } = await import('../backends/classic/index.js');
  return async (source, seed, signal) => {
    const steps = planSteps(source, seed, {}, signal);
    while (true) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const next = steps.next();
      if (next.done) return next.value;
    }
  };
}

/** The image files `target` names: the file itself, or the images directly inside the folder, sorted. */
export async function listImages(target: string): Promise<string[]> {
  let info;
  try {
    info = await stat(target);
  } catch (error) {
    throw new PaintsUndoError('INPUT_NOT_FOUND', `The folder ${target} does not exist or cannot be read.`, {
      hint: 'Pass a folder of images (PNG, JPEG, WebP, PSD...), e.g. ../shared/samples.',
      details: { path: target },
      cause: error,
    });
  }
  // A file, or anything else that is not a folder: reading it says what is wrong with it.
  if (!info.isDirectory()) return [target];
  const names = (await readdir(target)).filter(isImageFileName).sort();
  if (names.length === 0) {
    throw new PaintsUndoError('INPUT_NOT_FOUND', `The folder ${target} holds no images.`, {
      hint: `Put images with one of these extensions there: ${[...IMAGE_EXTENSIONS].join(', ')}.`,
      details: { path: target },
    });
  }
  return names.map((n) => join(target, n));
}

export interface EvalHooks {
  readonly signal?: AbortSignal;
  /** Called before each image (index from 0), for progress display. */
  readonly onImage?: (index: number, count: number, file: string) => void;
  /** Overrides the classic planner (tests, other planners). */
  readonly planner?: Planner;
}

/** Seconds between two performance.now() readings, to the hundredth. */
const dt = (from: number, to: number): number => Math.round((to - from) / 10) / 100;

export async function evaluateImage(file: string, options: z.output<typeof EvalOptionsSchema>, planner: Planner, signal?: AbortSignal): Promise<ImageResult> {
  const t0 = performance.now();
  const { decodeImageFile } = await import('../io/decode.js');
  const decoded = await decodeImageFile(file, options.size === undefined ? {} : { limits: { workingLongSide: options.size } });
  const source = decoded.source;
  const t1 = performance.now();
  const timeline = await planner(source, options.seed, signal);
  const t2 = performance.now();
  throwIfCancelled(signal);
  // One full-resolution renderer, replayed forward once: sheet frames first, then step 0 for the metrics.
  const renderer = new TimelineRenderer(timeline, { snapshotBudgetBytes: 0 });
  let sheet: string | undefined;
  if (options.sheetDir !== undefined) {
    const { writeFileAtomic, ensureFolder } = await import('../io/atomic.js');
    const { makeProvenance } = await import('../io/provenance.js');
    await ensureFolder(options.sheetDir);
    const frames = renderSheetFrames(renderer, sheetSteps(options.sheetFrames), signal);
    const png = await contactSheetPng(frames, {
      title: `${basename(file)} - ${timeline.info.backend} ${timeline.info.backendVersion}, ${timeline.info.style}, seed ${options.seed}`,
      provenance: makeProvenance({ backend: timeline.info.backend, backendVersion: timeline.info.backendVersion, seed: options.seed, source: source.id }),
    });
    sheet = sheetPathFor(file, options.sheetDir);
    await writeFileAtomic(sheet, png, signal === undefined ? {} : { signal });
  }
  const t3 = performance.now();
  const metrics = await measureTimeline(
    timeline,
    source.image,
    { ...(options.metricSize === undefined ? {} : { metricSize: options.metricSize }), ...(signal === undefined ? {} : { signal }) },
    renderer,
  );
  const checks = checkMetrics(metrics, DEFAULT_THRESHOLDS);
  return {
    file,
    width: timeline.width,
    height: timeline.height,
    style: timeline.info.style,
    seconds: { decode: dt(t0, t1), plan: dt(t1, t2), sheet: dt(t2, t3), metrics: dt(t3, performance.now()) },
    metrics,
    checks,
    pass: checks.every((c) => c.pass),
    ...(sheet === undefined ? {} : { sheet }),
  };
}

/** Where the contact sheet of `file` goes. */
function sheetPathFor(file: string, sheetDir: string): string {
  return join(sheetDir, `${basename(file, extname(file))}-sheet.png`);
}

/** Evaluates every image of `target` (a folder or one file). Bad images are reported, not thrown. */
export async function evaluateFolder(
  target: string,
  rawOptions: EvalOptions | Readonly<Record<string, unknown>> = {},
  hooks: EvalHooks = {},
): Promise<EvalReport> {
  const options = parseOrThrow(EvalOptionsSchema, rawOptions, 'eval options');
  const files = await listImages(target);
  // Every input is protected before the first sheet is written: a sheet named like an image that is
  // read later (a-sheet.png in a folder that is also the sheet folder) must not replace it.
  const { protectInputs } = await import('../io/input-file.js');
  await protectInputs(files);
  if (options.sheetDir !== undefined) {
    // An unwritable sheet folder, or a sheet that would replace an input, is the user's to fix before
    // anything runs (exit 4 or 2), not a row per image.
    const { ensureFolder, assertReplaceable } = await import('../io/atomic.js');
    await ensureFolder(options.sheetDir);
    for (const file of files) await assertReplaceable(sheetPathFor(file, options.sheetDir));
  }
  const planner = hooks.planner ?? (await classicPlanner());
  const images: ImageResult[] = [];
  for (const [index, file] of files.entries()) {
    throwIfCancelled(hooks.signal);
    hooks.onImage?.(index, files.length, file);
    try {
      images.push(await evaluateImage(file, options, planner, hooks.signal));
    } catch (error) {
      // Cancellation, unwritable outputs and a missing environment stop the run; they are not about this image.
      if (isPaintsUndoError(error) && (error.category === 'cancelled' || error.category === 'output' || error.category === 'environment')) {
        throw error;
      }
      // Input problems are the image's result; anything else is a bug worth a loud failure in the table.
      const code = isPaintsUndoError(error) ? error.code : 'INTERNAL';
      const message = error instanceof Error ? error.message : String(error);
      images.push({ file, checks: [], pass: false, error: { code, message } });
    }
  }
  const totals = totalChecks(images);
  return { folder: resolve(target), seed: options.seed, thresholds: DEFAULT_THRESHOLDS, images, totals, pass: images.every((i) => i.pass) };
}

function totalChecks(images: readonly ImageResult[]): CheckTotal[] {
  const byId = new Map<string, { label: string; limit: number | null; passed: number; failed: number; notApplicable: number; worst: number | null }>();
  for (const image of images) {
    for (const c of image.checks) {
      const t = byId.get(c.id) ?? { label: c.label, limit: c.limit, passed: 0, failed: 0, notApplicable: 0, worst: null };
      if (!c.applicable) t.notApplicable++;
      else if (c.pass) t.passed++;
      else t.failed++;
      if (typeof c.value === 'number') t.worst = t.worst === null ? c.value : Math.max(t.worst, c.value);
      byId.set(c.id, t);
    }
  }
  return [...byId.entries()].map(([id, t]) => ({ id, ...t }));
}

// ----------------------------------------------------------------------------------------------
// Text tables.

export function formatValue(id: string, value: number | boolean | null): string {
  if (value === null) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (id === 'step0') return String(value);
  return `${(value * 100).toFixed(value < 0.001 && value > 0 ? 3 : 2)}%`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** The human report: a table per image, then the totals and a one-line verdict. */
export function formatReport(report: EvalReport): string {
  const lines: string[] = [];
  for (const image of report.images) {
    const name = basename(image.file);
    if (image.error) {
      lines.push(`${name}: could not be evaluated: ${image.error.code}: ${image.error.message}`, '');
      continue;
    }
    const s = image.seconds;
    lines.push(
      `${name}  ${image.width}x${image.height}  ${image.style}  ` +
        (s ? `plan ${s.plan.toFixed(2)} s, metrics ${s.metrics.toFixed(2)} s` : '') +
        (image.sheet ? `  sheet ${image.sheet}` : ''),
    );
    const rows = [['  check', 'value', 'limit', 'result', 'note']];
    for (const c of image.checks) {
      rows.push([
        `  ${c.label}`,
        formatValue(c.id, c.value),
        c.limit === null ? (c.id === 'lineColour' ? 'yes' : '-') : `<= ${formatValue(c.id, c.limit)}`,
        !c.applicable ? 'n/a' : c.pass ? 'pass' : 'FAIL',
        c.note ?? '',
      ]);
    }
    lines.push(...table(rows));
    const m = image.metrics;
    if (m) {
      const l = m.process.locality;
      lines.push(
        `  locality: changed area median ${(l.medianArea * 100).toFixed(2)}%, p95 ${(l.p95Area * 100).toFixed(2)}%, ` +
          `${l.meanShapes.toFixed(1)} shapes per op; flicker mean ${(m.process.flicker.meanFraction * 100).toFixed(3)}% ` +
          `(metrics at ${m.process.width}x${m.process.height})`,
      );
      const where = (label: string, list: { count: number; byPhase: Readonly<Record<string, number | undefined>>; examples: readonly number[] }): void => {
        if (list.count === 0) return;
        const phases = Object.entries(list.byPhase).map(([p, n]) => `${p} ${n}`).join(', ');
        lines.push(`  ${label}: ${list.count} (${phases}); e.g. steps ${list.examples.join(', ')}`);
      };
      const left = m.process.remaining;
      lines.push(
        `  progress: ${Math.round(left[750] * 100)}% of the way still to go at step 750, ${Math.round(left[500] * 100)}% at 500, ` +
          `${Math.round(left[250] * 100)}% at 250`,
      );
      const flickerFailed = image.checks.some((c) => c.id === 'flicker' && !c.pass);
      if (flickerFailed && m.process.flicker.suspects.length > 0) lines.push(`  around the worst flicker: ${m.process.flicker.suspects.join('; ')}`);
      where('idle ops', m.process.idle);
      where('ops moving away from final', m.process.divergent);
      where('wide ops', l.wide);
      where('dust ops', l.dust);
    }
    lines.push('');
  }
  const rows = [['total', 'images passing', 'worst', 'limit']];
  for (const t of report.totals) {
    const judged = t.passed + t.failed;
    rows.push([
      t.label,
      `${t.passed}/${judged}${t.notApplicable > 0 ? ` (+${t.notApplicable} n/a)` : ''}`,
      t.worst === null ? '-' : formatValue(t.id, t.worst),
      t.limit === null ? '-' : `<= ${formatValue(t.id, t.limit)}`,
    ]);
  }
  lines.push(...table(rows));
  const failedImages = report.images.filter((i) => !i.pass).length;
  lines.push(
    '',
    report.pass
      ? `PASS: ${report.images.length} image(s), every threshold met (seed ${report.seed}).`
      : `FAIL: ${failedImages} of ${report.images.length} image(s) miss a threshold or could not be evaluated (seed ${report.seed}).`,
  );
  return `${lines.join('\n')}\n`;
}
