/**
 * The quality floors of the classic backend, as tests: every documented threshold (METRICS.md) on the
 * shared samples and on the project's own test illustrations, at a reduced size to keep the suite fast.
 * A failure names the metric, the measured value, the limit and where to look.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EvalOptionsSchema, classicPlanner, evaluateImage, formatValue, type ImageResult, type Planner } from '../../engine/src/eval/run.js';
import { writeTestImages, type TestImage } from './images.js';

const SIZE = 384;
const samples = process.env['PAINTS_UNDO_SAMPLES'] ?? fileURLToPath(new URL('../../../shared/samples', import.meta.url));
const sampleFiles = existsSync(samples) ? readdirSync(samples).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort() : [];

let planner: Planner;
let own: TestImage[] = [];
before(async () => {
  planner = await classicPlanner();
  own = await writeTestImages();
});

/** Every check, in table order (metrics.ts checkMetrics). */
const CHECKS = ['step0', 'blank', 'divergent', 'lineColour', 'wide', 'dust', 'idle', 'flicker', 'settle', 'invisible'] as const;

/**
 * Thresholds the classic backend does not meet yet, as "<image label>: <check>" ("*" for every image).
 * Their tests still run against the documented target and print the measured value; node:test
 * reports them as TODO instead of failing the suite. Remove an entry as soon as the backend meets it
 * (a passing TODO test is the signal).
 */
const KNOWN_MISSES: Readonly<Record<string, string>> = {
  'own image transparent: idle': 'classic planner: flats/shading/rendering ops that change nothing (2.6% at 384 px)',
  'own image ink: idle': 'classic planner: value-study and rendering ops that change nothing (2.4% at 384 px)',
  // Pacing (issue 11 item 4): the process looks finished long before the end; measured at 384 px.
  'sample 1.jpg: settle': 'classic planner: looks finished from step 404 (40.4% of the process left, limit 10%)',
  'sample 1.jpg: invisible': 'classic planner: 17 of 99 frame changes invisible (17.2%, limit 10%), all from step 394 on (the last 40% of the process)',
  'sample 2.jpg: settle': 'classic planner: looks finished from step 414 (41.4% of the process left, limit 10%)',
  'sample 2.jpg: invisible': 'classic planner: 18 of 99 frame changes invisible (18.2%, limit 10%), all from step 394 on (the last 40% of the process)',
  'sample 3.jpg: settle': 'classic planner: looks finished from step 424 (42.4% of the process left, limit 10%)',
  'sample 3.jpg: invisible': 'classic planner: 21 of 99 frame changes invisible (21.2%, limit 10%), all from step 414 on (the last 42% of the process)',
  'own image transparent: settle': 'classic planner: looks finished from step 222 (22.2% of the process left, limit 10%)',
  'own image transparent: invisible': 'classic planner: 18 of 99 frame changes invisible (18.2%, limit 10%)',
  'own image panorama: settle': 'classic planner: looks finished from step 242 (24.2% of the process left, limit 10%)',
  'own image ink: settle': 'classic planner: looks finished from step 111 (11.1% of the process left, limit 10%)',
  'own image ink: invisible': 'classic planner: 30 of 99 frame changes invisible (30.3%, limit 10%): faint sketch marks and late rendering',
};

function knownMiss(label: string, id: string): string | undefined {
  return KNOWN_MISSES[`${label}: ${id}`] ?? KNOWN_MISSES[`*: ${id}`];
}

function failure(result: ImageResult, id: string): string | null {
  const c = result.checks.find((k) => k.id === id);
  if (!c) return `no check ${id}${result.error ? ` (${result.error.code}: ${result.error.message})` : ''}`;
  if (c.pass) return null;
  const m = result.metrics;
  const list =
    id === 'idle' ? m?.process.idle : id === 'divergent' ? m?.process.divergent : id === 'dust' ? m?.process.locality.dust : id === 'wide' ? m?.process.locality.wide : undefined;
  const steps = list ? ` (by phase ${JSON.stringify(list.byPhase)}, e.g. steps ${list.examples.join(', ')})` : '';
  const suspects = id === 'flicker' && m ? ` (${m.process.flicker.suspects.join('; ')})` : '';
  return `${c.label}: ${formatValue(c.id, c.value)} (limit ${formatValue(c.id, c.limit)})${c.note ? `, ${c.note}` : ''}${steps}${suspects}`;
}

const results = new Map<string, Promise<ImageResult>>();
/** Each image is planned and measured once; its eight checks are separate tests. */
function evaluate(path: string): Promise<ImageResult> {
  let r = results.get(path);
  if (!r) {
    r = evaluateImage(path, EvalOptionsSchema.parse({ size: SIZE }), planner);
    results.set(path, r);
  }
  return r;
}

test('the shared samples are there', () => {
  assert.ok(sampleFiles.length >= 3, `expected the sample illustrations in ${samples} (set PAINTS_UNDO_SAMPLES)`);
});

function checkTests(label: string, path: () => string, extra?: (result: ImageResult) => void): void {
  test(`${label}: evaluated at ${SIZE} px`, async () => {
    const result = await evaluate(path());
    assert.equal(result.error, undefined);
    assert.equal(Math.max(result.width ?? 0, result.height ?? 0), SIZE);
    extra?.(result);
  });
  for (const id of CHECKS) {
    const todo = knownMiss(label, id);
    test(`${label}: ${id} threshold`, todo === undefined ? {} : { todo }, async () => {
      const problem = failure(await evaluate(path()), id);
      assert.equal(problem, null, problem ?? '');
    });
  }
}

for (const name of sampleFiles) checkTests(`sample ${name}`, () => join(samples, name));

for (const name of ['transparent', 'panorama', 'ink'] as const) {
  const path = (): string => {
    const image = own.find((i) => i.name === name);
    if (!image) throw new Error(`test image ${name} was not written`);
    return image.path;
  };
  checkTests(`own image ${name}`, path, name === 'panorama' ? (r) => assert.ok((r.width ?? 0) > 3 * (r.height ?? 0)) : undefined);
}
