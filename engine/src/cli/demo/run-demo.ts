/**
 * `paints-undo demo`: renders the project's own sample illustration, then runs the same jobs a user
 * would (timelapse MP4 with the provenance caption, keyframes for a contact sheet) through the shared
 * job runner. Loaded lazily by commands/demo.ts.
 */
import { join, resolve } from 'node:path';
import { parseOrThrow, JobInputSchema, type JobInput } from '../../core/job.js';
import { getBackendEntry } from '../../backends/registry.js';
import { ensureFolder, writeFileAtomic } from '../../io/atomic.js';
import { decodeImageBuffer } from '../../io/decode.js';
import { contactSheetPng } from '../../eval/sheet.js';
import { renderKeyframes } from '../../jobs/kinds/keyframes.js';
import { runJob, type JobEnvironment } from '../../jobs/run.js';
import { toNumber } from '../options.js';
import type { Reporter } from '../reporter.js';
import { interruptSignal } from '../job-runner.js';
import { illustrationSvg } from './illustration.js';

/** Steps shown on the demo's contact sheet, blank to finished. */
const SHEET_STEPS = [999, 900, 800, 700, 600, 500, 400, 300, 200, 100, 50, 0];

export interface DemoResult {
  readonly folder: string;
  readonly illustration: string;
  readonly timelapse: string;
  readonly contactSheet: string;
  readonly frames: number;
}

export async function runDemo(options: { folder: string; frames?: string; seed?: string; backend?: string; reporter: Reporter }): Promise<DemoResult> {
  const base = { seed: toNumber(options.seed), backend: options.backend };
  const clean = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined));
  const placeholder = '0'.repeat(64);
  const timelapseJob = parseOrThrow(JobInputSchema, {
    kind: 'timelapse',
    image: placeholder,
    ...clean,
    ...(options.frames !== undefined ? { frames: toNumber(options.frames) } : {}),
    format: 'mp4',
    intro: 1,
    hold: 2,
    label: true,
  });
  getBackendEntry(timelapseJob.backend);
  const folder = await ensureFolder(resolve(options.folder));
  const reporter = options.reporter;
  const interrupt = interruptSignal(reporter);
  try {
    const { default: sharp } = await import('sharp');
    const png = await sharp(Buffer.from(illustrationSvg())).flatten({ background: '#ffffff' }).png().toBuffer();
    const illustration = join(folder, 'illustration.png');
    await writeFileAtomic(illustration, png, { signal: interrupt.signal });
    const source = (await decodeImageBuffer(png, { name: illustration })).source;
    const env: JobEnvironment = {
      resolveImage: () => source,
      signal: interrupt.signal,
      onProgress: (p) => reporter.progress(p),
    };
    await reporter.start('demo');
    const timelapse = join(folder, 'timelapse.mp4');
    const job = { ...timelapseJob, image: source.id } as JobInput;
    const output = await runJob(job, timelapse, env);
    const keyframes = await renderKeyframes(
      { kind: 'keyframes', image: source.id, backend: timelapseJob.backend, seed: timelapseJob.seed, steps: SHEET_STEPS },
      env,
    );
    const sheet = await contactSheetPng(keyframes.keyframes, {
      columns: 6,
      thumbSize: 200,
      title: `paints-undo ${keyframes.provenance.generatorVersion} - ${keyframes.provenance.backend} backend, seed ${keyframes.provenance.seed} - a generated reconstruction, not a recording`,
      provenance: keyframes.provenance,
    });
    const contactSheetPath = join(folder, 'contact-sheet.png');
    await writeFileAtomic(contactSheetPath, sheet, { signal: interrupt.signal });
    return { folder, illustration, timelapse, contactSheet: contactSheetPath, frames: output.frames ?? 0 };
  } finally {
    reporter.stopBar();
    interrupt.dispose();
  }
}
