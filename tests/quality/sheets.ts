/**
 * `npm run sheets`: contact sheets of the classic process on every test illustration (and the shared
 * samples), for looking at — the metrics are floors, the sheets are how a process is judged.
 *
 *   npm run sheets                       # all, into out/quality/ (git-ignored)
 *   npm run sheets -- anime-soft webtoon # only these
 *   npm run sheets -- --no-samples       # without the shared samples
 *
 * Full sheets go to out/quality/sheets/ with a table of every check; downsized JPEG copies of the
 * test illustrations' sheets go to tests/quality/contact-sheets/, where they are committed so a
 * reviewer sees the process without running anything.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { EvalOptionsSchema, classicPlanner, evaluateImage, formatValue } from '../../engine/src/eval/run.js';
import { TEST_IMAGES, writeTestImages } from './images.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = join(root, 'out', 'quality');
const committed = join(root, 'tests', 'quality', 'contact-sheets');
const samples = process.env['PAINTS_UNDO_SAMPLES'] ?? join(root, '..', 'shared', 'samples');

const args = process.argv.slice(2);
const withSamples = !args.includes('--no-samples');
const named = args.filter((a) => !a.startsWith('--'));
const own = named.length > 0 ? named.filter((n) => n in TEST_IMAGES) : Object.keys(TEST_IMAGES);

await mkdir(join(out, 'images'), { recursive: true });
await mkdir(committed, { recursive: true });
const files = (await writeTestImages(own, join(out, 'images'))).map((i) => i.path);
if (withSamples && existsSync(samples)) {
  for (const n of readdirSync(samples).sort()) if (/\.(jpe?g|png)$/i.test(n) && (named.length === 0 || named.includes(n))) files.push(join(samples, n));
}

const planner = await classicPlanner();
const options = EvalOptionsSchema.parse({ sheetDir: join(out, 'sheets'), size: Number(process.env['SHEET_SIZE'] ?? 1024) });
for (const file of files) {
  const r = await evaluateImage(file, options, planner);
  const failed = r.checks.filter((c) => c.applicable && !c.pass);
  const progress = r.metrics?.process.remaining;
  console.log(
    `${basename(file).padEnd(20)} ${String(r.style).padEnd(11)} plan ${r.seconds?.plan.toFixed(2)} s  ` +
      `left at 750/500/250: ${progress ? [progress[750], progress[500], progress[250]].map((v) => `${Math.round(v * 100)}%`).join('/') : '-'}  ` +
      (failed.length === 0 ? 'all thresholds met' : `MISSED ${failed.map((c) => `${c.id} ${formatValue(c.id, c.value)}`).join(', ')}`),
  );
  const m = r.metrics?.process;
  for (const c of failed) {
    const list = c.id === 'idle' ? m?.idle : c.id === 'divergent' ? m?.divergent : c.id === 'dust' ? m?.locality.dust : c.id === 'wide' ? m?.locality.wide : undefined;
    if (list) console.log(`  ${c.id}: by phase ${JSON.stringify(list.byPhase)}, e.g. steps ${list.examples.join(', ')}`);
    if (c.id === 'flicker' && m) console.log(`  flicker: ${m.flicker.suspects.join('; ')}`);
    if (c.id === 'invisible' && m) console.log(`  invisible at steps ${m.pacing.invisibleSteps.join(', ')}`);
  }
  if (r.sheet && own.some((n) => basename(file) === `${n}.png`)) {
    // Small enough to commit (~100 KB): a reviewer reads the process, not the pixels.
    await sharp(r.sheet)
      .resize({ width: 760, withoutEnlargement: true })
      .flatten({ background: '#ececec' })
      .jpeg({ quality: 72, mozjpeg: true })
      .toFile(join(committed, `${basename(file, extname(file))}.jpg`));
  }
}
console.log(`sheets: ${join(out, 'sheets')}; committed copies: ${committed}`);
