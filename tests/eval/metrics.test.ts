import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderContent } from '../../engine/src/core/content.js';
import { TimelineRenderer } from '../../engine/src/core/renderer.js';
import { MAX_STEP } from '../../engine/src/core/steps.js';
import {
  MAX_DEFAULT_METRIC_SIZE,
  checkMetrics,
  defaultMetricSize,
  measureEndpoints,
  measureProcess,
  measureTimeline,
  reduceTimeline,
  type Check,
  type TimelineMetrics,
} from '../../engine/src/eval/metrics.js';
import { H, W, finalImage, syntheticTimeline, type Variant } from './synthetic.js';

const cache = new Map<Variant, Promise<TimelineMetrics>>();
function metricsOf(variant: Variant): Promise<TimelineMetrics> {
  let m = cache.get(variant);
  if (!m) {
    m = measureTimeline(syntheticTimeline(variant), finalImage());
    cache.set(variant, m);
  }
  return m;
}

function check(checks: readonly Check[], id: string): Check {
  const c = checks.find((k) => k.id === id);
  assert.ok(c, `no check ${id}`);
  return c;
}

test('a good process passes every check and ends exactly on the input', async () => {
  const m = await metricsOf('good');
  assert.equal(m.step0MaxError, 0);
  assert.equal(m.blankNonWhite, 0);
  const failed = checkMetrics(m).filter((c) => !c.pass);
  assert.deepEqual(failed, []);
  const p = m.process;
  assert.equal(p.idle.count, 0);
  assert.equal(p.divergent.count, 0);
  assert.equal(p.divergent.counted, 999);
  assert.equal(p.locality.wide.count, 0);
  assert.equal(p.locality.dust.count, 0);
  assert.equal(p.flicker.worstFrameFraction, 0);
  assert.ok(p.lineColour.applicable);
  assert.ok(p.lineColour.lineStep50 !== null && p.lineColour.colourStep50 !== null);
  // 250 line strokes come first: half the lines are in by step ~874, half the colour much later.
  assert.ok(p.lineColour.lineStep50 > 850, `lineStep50 ${p.lineColour.lineStep50}`);
  assert.ok(p.lineColour.colourStep50 < 500, `colourStep50 ${p.lineColour.colourStep50}`);
  // Lines are 16% of the pixels but far from white: after them (step ~749) most of the way is still to go.
  assert.ok(p.remaining[750] > 0.3 && p.remaining[750] < 0.9, `remaining at 750: ${p.remaining[750]}`);
  assert.ok(p.remaining[250] < p.remaining[500] && p.remaining[500] < p.remaining[750]);
  // A fill of ~14 px of a 128x96 canvas.
  assert.ok(p.locality.medianArea < 0.01, `median area ${p.locality.medianArea}`);
  assert.ok(p.locality.meanShapes < 2, `mean shapes ${p.locality.meanShapes}`);
});

test('step 0 is compared with the input at full resolution, to the level', () => {
  const input = finalImage();
  input.data[(10 * W + 10) * 3 + 1] = input.data[(10 * W + 10) * 3 + 1]! - 3;
  const e = measureEndpoints(new TimelineRenderer(syntheticTimeline('good')), input);
  assert.equal(e.step0MaxError, 3);
  assert.equal(e.blankNonWhite, 0);
  const checks = checkMetrics({ ...e, process: measureProcess(syntheticTimeline('good')), style: 'lineart' });
  assert.equal(check(checks, 'step0').pass, false);
});

test('a whole-canvas fade is flagged as wide reveal operations', async () => {
  const m = await metricsOf('fade');
  assert.equal(m.process.locality.wide.count, 40);
  assert.deepEqual(Object.keys(m.process.locality.wide.byPhase), ['flats']);
  assert.equal(check(checkMetrics(m), 'wide').pass, false);
  assert.equal(m.step0MaxError, 0);
});

test('fills scattered across the canvas are flagged as dust', async () => {
  const m = await metricsOf('dust');
  // Every fill of ~14 random pixels is dust; the compact line strokes are not.
  assert.ok(m.process.locality.dust.count > 700, `dust ${m.process.locality.dust.count}`);
  assert.deepEqual(Object.keys(m.process.locality.dust.byPhase), ['flats']);
  assert.equal(check(checkMetrics(m), 'dust').pass, false);
  assert.equal(check(checkMetrics(m), 'wide').pass, true);
});

test('operations that change nothing are counted as idle, with the steps to look at', async () => {
  const m = await metricsOf('idle');
  assert.equal(m.process.idle.count, 60);
  assert.equal(m.process.idle.examples.length, 8);
  for (const step of m.process.idle.examples) assert.ok(step >= 0 && step <= MAX_STEP);
  assert.equal(check(checkMetrics(m), 'idle').pass, false);
});

test('colour before line art fails the line-before-colour check', async () => {
  const m = await metricsOf('colour-first');
  const lc = m.process.lineColour;
  assert.ok(lc.applicable);
  assert.equal(lc.linesFirst, false);
  assert.ok(lc.colourStep50 !== null && lc.lineStep50 !== null && lc.colourStep50 > lc.lineStep50);
  assert.equal(check(checkMetrics(m), 'lineColour').pass, false);
});

test('line-before-colour does not apply to painterly, monochrome or flat processes', () => {
  const t = syntheticTimeline('colour-first');
  for (const style of ['painterly', 'monochrome', 'flat']) {
    const p = measureProcess({ ...t, info: { ...t.info, style } });
    assert.equal(p.lineColour.applicable, false);
    assert.match(p.lineColour.reason ?? '', new RegExp(style));
    assert.equal(check(checkMetrics({ step0MaxError: 0, blankNonWhite: 0, process: p, style }), 'lineColour').pass, true);
  }
  assert.equal(measureProcess(t).lineColour.applicable, true, 'a line-art process is judged');
});

test('an early idea painted over moves away from the final; the same strokes on a hidden sketch layer do not count', async () => {
  const idea = await metricsOf('early-idea');
  assert.equal(idea.process.divergent.count, 100);
  assert.equal(idea.process.divergent.byPhase.sketch, 100);
  assert.equal(check(checkMetrics(idea), 'divergent').pass, false);
  const sketch = await metricsOf('hidden-sketch');
  assert.equal(sketch.process.divergent.count, 0);
  assert.equal(sketch.process.divergent.counted, 898);
  assert.equal(check(checkMetrics(sketch), 'divergent').pass, true);
});

test('line art hidden for one timelapse frame is flicker; a flip episode is not', async () => {
  const blink = await metricsOf('blink');
  // The grid lines are ~16% of the canvas; at least the ones already drawn blink.
  assert.ok(blink.process.flicker.worstFrameFraction > 0.1, `worst ${blink.process.flicker.worstFrameFraction}`);
  assert.ok(blink.process.flicker.worstStep !== null);
  assert.equal(check(checkMetrics(blink), 'flicker').pass, false);
  assert.ok(
    blink.process.flicker.suspects.some((s) => /visibility of layer 2 \(lineart\) off/.test(s)),
    blink.process.flicker.suspects.join('; '),
  );
  const flip = await metricsOf('flip-episode');
  assert.equal(flip.process.flicker.worstFrameFraction, 0);
  assert.ok(flip.process.flicker.countedFrames < flip.process.flicker.frames - 2);
  // Strokes drawn while flipped are judged on the unflipped canvas: still local, none idle.
  assert.equal(flip.process.idle.count, 0);
  assert.equal(flip.process.locality.dust.count, 0);
  assert.deepEqual(checkMetrics(flip).filter((c) => !c.pass), []);
});

test('the reduced timeline shares the operations and maps the plan onto the smaller canvas', async () => {
  const t = syntheticTimeline('good');
  const small = await reduceTimeline(t, 64);
  assert.equal(Math.max(small.width, small.height), 64);
  assert.equal(small.height, Math.round((H * 64) / W));
  assert.equal(small.operations, t.operations);
  assert.equal(small.planScale, 0.5);
  for (const layer of small.layers) assert.equal(renderContent(layer.content, { art: small.finished, scale: small.planScale }).data.length, small.width * small.height * 4);
  const p = measureProcess(small);
  assert.equal(p.width, 64);
  // Flats are 4x4-pixel-ish blobs at plan size: still compact, none wide, at a quarter of the area.
  assert.equal(p.locality.wide.count, 0);
  assert.equal(p.locality.dust.count, 0);
  // Never upscaled; the default measures at the plan resolution.
  assert.equal(await reduceTimeline(t, 4096), t);
  assert.equal(defaultMetricSize(t), W);
  assert.equal(defaultMetricSize({ ...t, width: 2048, height: 1536, planScale: 4 }), MAX_DEFAULT_METRIC_SIZE);
  assert.equal(defaultMetricSize({ ...t, width: 1024, height: 1280, planScale: 2.5 }), 512);
  assert.equal(defaultMetricSize({ ...t, width: 900, height: 600, planScale: 3 }), 300);
});
