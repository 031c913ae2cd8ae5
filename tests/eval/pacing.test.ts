/** The pacing metrics: a timelapse that keeps changing visibly to the end, measured on real replays. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageContent } from '../../engine/src/core/content.js';
import { createRgba, flattenOnWhite } from '../../engine/src/core/image.js';
import { checkMetrics, measureProcess, measureTimeline, type Check } from '../../engine/src/eval/metrics.js';
import { CLEAR_CHANGE, JND, LARGE_AREA, SMALL_AREA, isVisible, srgbToLab } from '../../engine/src/core/visibility.js';
import { H, W, finalImage, syntheticTimeline } from './synthetic.js';

function check(checks: readonly Check[], id: string): Check {
  const c = checks.find((k) => k.id === id);
  assert.ok(c, `no check ${id}`);
  return c;
}

test('sRGB to CIELAB matches the reference values (D65)', () => {
  const lab = new Float32Array(3);
  // Reference: sRGB primaries and white in CIELAB D65 (Lindbloom's calculator, 2-degree observer).
  const cases: [number, number, number, number, number, number][] = [
    [255, 255, 255, 100, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [255, 0, 0, 53.24, 80.09, 67.2],
    [0, 255, 0, 87.73, -86.18, 83.18],
    [0, 0, 255, 32.3, 79.19, -107.86],
  ];
  for (const [r, g, b, L, A, B] of cases) {
    srgbToLab(r, g, b, lab, 0);
    const got = [...lab].map((v) => v.toFixed(2)).join(', ');
    assert.ok(Math.abs(lab[0]! - L) < 0.05 && Math.abs(lab[1]! - A) < 0.05 && Math.abs(lab[2]! - B) < 0.05, `rgb(${r}, ${g}, ${b}) -> ${got}, expected ${L}, ${A}, ${B}`);
  }
});

test('a frame change is visible when a small area changes clearly or a large area noticeably', () => {
  assert.ok(CLEAR_CHANGE > JND && LARGE_AREA > SMALL_AREA);
  assert.equal(isVisible({ clearArea: SMALL_AREA, noticeableArea: SMALL_AREA }), true);
  assert.equal(isVisible({ clearArea: 0, noticeableArea: LARGE_AREA }), true);
  assert.equal(isVisible({ clearArea: SMALL_AREA * 0.99, noticeableArea: LARGE_AREA * 0.99 }), false);
  assert.equal(isVisible({ clearArea: 0, noticeableArea: 0 }), false);
});

test('a process that keeps working to the end settles late and changes visibly in every frame', async () => {
  const m = await measureTimeline(syntheticTimeline('good'), finalImage());
  const p = m.process.pacing;
  assert.ok(p.settleFraction !== null && p.settleFraction >= 0.9, `settle fraction ${p.settleFraction}`);
  assert.equal(p.frameChanges, 99);
  assert.equal(p.invisibleChanges, 0);
  assert.equal(check(checkMetrics(m), 'settle').pass, true);
  assert.equal(check(checkMetrics(m), 'invisible').pass, true);
});

test('a process done at 60% is flagged: it looks finished early and its last frames change invisibly', async () => {
  const m = await measureTimeline(syntheticTimeline('rushed'), finalImage());
  const p = m.process.pacing;
  // Everything but 400 pixels is on the canvas after 599 operations (the last flats already bring it
  // within 10% of the final a little earlier); the last 400 operations add one pixel each.
  assert.ok(p.settleFraction !== null && p.settleFraction > 0.5 && p.settleFraction <= 0.6, `settle fraction ${p.settleFraction}`);
  const settleCheck = check(checkMetrics(m), 'settle');
  assert.equal(settleCheck.pass, false);
  assert.match(settleCheck.note ?? '', /looks finished from step \d+ \(\d+% of the process\)/);
  // About ten one-pixel dabs per frame: 0.08% of the canvas, under the 0.1% a small change needs.
  assert.ok(p.invisibleShare > 0.35 && p.invisibleShare < 0.42, `invisible share ${p.invisibleShare}`);
  assert.ok(p.invisibleSteps.every((step) => step <= 400), `invisible steps ${p.invisibleSteps.join(', ')}`);
  const invisibleCheck = check(checkMetrics(m), 'invisible');
  assert.equal(invisibleCheck.pass, false);
  assert.match(invisibleCheck.note ?? '', /^\d+ of 99, e\.g\. at steps /);
});

test('pacing does not apply when the final image is blank paper', () => {
  const t = syntheticTimeline('good');
  const empty = createRgba(W, H);
  const blank = { ...t, finished: flattenOnWhite(empty), layers: t.layers.map((l) => ({ ...l, content: imageContent({ image: empty }) })) };
  const p = measureProcess(blank);
  assert.equal(p.pacing.settleFraction, null);
  assert.equal(p.pacing.applicable, false);
  const checks = checkMetrics({ step0MaxError: 0, blankNonWhite: 0, process: p, style: 'lineart' });
  for (const id of ['settle', 'invisible']) {
    assert.equal(check(checks, id).applicable, false);
    assert.equal(check(checks, id).pass, true);
  }
});
