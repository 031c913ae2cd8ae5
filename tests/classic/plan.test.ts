import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { isPaintsUndoError } from '../../engine/src/core/errors.js';
import { maxAbsDifference } from '../../engine/src/core/image.js';
import { TimelineRenderer } from '../../engine/src/core/renderer.js';
import { OPERATION_COUNT } from '../../engine/src/core/steps.js';
import type { Operation, Timeline } from '../../engine/src/core/timeline.js';
import { planTimeline } from '../../engine/src/backends/classic/index.js';
import { analyse, type Analysis } from '../../engine/src/backends/classic/analyse.js';
import { lineLayer } from '../../engine/src/backends/classic/phases/lineart.js';
import { softPainting } from '../synthetic-art.js';
import { sourceFromRgba } from '../../engine/src/io/decode.js';
import { PAINTERLY_SVG, SAMPLES, fromSvg, hashImage, inkSvg, loadSample, nonWhiteFraction, transparentSvg } from './helpers.js';

/** Replays the timeline's view state (flip, curve, visibility, transforms) to its end. */
function finalState(ops: readonly Operation[]) {
  let flipped = false;
  let curve = { contrast: 1, saturation: 1, lift: 0, warmth: 0 };
  const transforms = new Map<number, boolean>();
  for (const op of ops) {
    if (op.kind === 'flip') flipped = op.flipped;
    if (op.kind === 'curve') curve = { ...op.curve };
    if (op.kind === 'transform') transforms.set(op.layer, op.region !== null);
  }
  return { flipped, curve, activeTransforms: [...transforms.values()].filter(Boolean).length };
}

/** Structural promises every classic timeline keeps (the human habits and a clean end state). */
function assertHabits(t: Timeline): void {
  const ops = t.operations;
  assert.equal(ops.length, OPERATION_COUNT);
  // A flip episode: flipped, then back within a few dozen operations.
  const flipOn = ops.findIndex((o) => o.kind === 'flip' && o.flipped);
  assert.ok(flipOn >= 0, 'no flip episode');
  const flipOff = ops.findIndex((o, k) => k > flipOn && o.kind === 'flip' && !o.flipped);
  assert.ok(flipOff > flipOn && flipOff - flipOn <= 80, `flip episode from ${flipOn} to ${flipOff}`);
  // A visibility toggle: some layer hidden and shown again later.
  const hidden = ops.findIndex((o) => o.kind === 'visibility' && !o.visible);
  assert.ok(hidden >= 0, 'no layer is ever hidden');
  const toggled = ops.some((o, k) => {
    if (o.kind !== 'visibility' || o.visible) return false;
    return ops.slice(k + 1).some((p) => p.kind === 'visibility' && p.visible && p.layer === o.layer);
  });
  assert.ok(toggled, 'no layer is hidden and shown again');
  // A transform of a region, settled later on the same layer.
  const moved = ops.findIndex((o) => o.kind === 'transform' && o.region !== null);
  assert.ok(moved >= 0, 'no transform');
  const movedOp = ops[moved]!;
  assert.ok(movedOp.kind === 'transform' && (movedOp.dx !== 0 || movedOp.dy !== 0 || movedOp.scale !== 1), 'the transform moves nothing');
  assert.ok(
    ops.some((o, k) => k > moved && o.kind === 'transform' && o.region === null && movedOp.kind === 'transform' && o.layer === movedOp.layer),
    'the transform is never settled',
  );
  const end = finalState(ops);
  assert.equal(end.flipped, false, 'the canvas ends flipped');
  assert.deepEqual(end.curve, { contrast: 1, saturation: 1, lift: 0, warmth: 0 }, 'the curve does not end at identity');
  assert.equal(end.activeTransforms, 0, 'a transform is still active at the end');
  // Line art and flats come before rendering; the sketch comes first.
  assert.equal(ops[0]!.phase, 'sketch');
  assert.equal(ops[ops.length - 1]!.phase, 'finish');
}

describe('classic planner', () => {
  it('reproduces a full-size sample exactly at step 0 and starts blank at step 999', async () => {
    const source = await loadSample(SAMPLES[0]!);
    const t = planTimeline(source, 7);
    assert.ok(t.planScale > 2, `expected planning below full resolution, planScale ${t.planScale}`);
    assert.equal(t.info.style, 'lineart');
    assertHabits(t);
    const r = new TimelineRenderer(t, { snapshotBudgetBytes: 0 });
    assert.ok(maxAbsDifference(r.renderStep(0), source.image) <= 1);
    assert.ok(nonWhiteFraction(r.renderStep(999)) <= 0.01);
  });

  for (const [k, path] of SAMPLES.slice(1).entries()) {
    it(`reproduces sample ${k + 2} (downscaled to 600 px) exactly at step 0`, async () => {
      const source = await loadSample(path, 600);
      const t = planTimeline(source, 3);
      assertHabits(t);
      const r = new TimelineRenderer(t, { snapshotBudgetBytes: 0 });
      assert.ok(maxAbsDifference(r.renderStep(0), source.image) <= 1);
      assert.ok(nonWhiteFraction(r.renderStep(999)) <= 0.01);
    });
  }

  it('handles a transparent image of odd size: exact at step 0 on white, blank at 999', async () => {
    const source = await fromSvg(transparentSvg(301, 517));
    assert.ok(source.alpha, 'the test image should be transparent');
    const t = planTimeline(source, 11);
    assert.equal(t.width, 301);
    assert.equal(t.height, 517);
    assertHabits(t);
    const r = new TimelineRenderer(t);
    assert.ok(maxAbsDifference(r.renderStep(0), source.image) <= 1);
    assert.ok(nonWhiteFraction(r.renderStep(999)) <= 0.01);
  });

  it('plans tiny inputs (48x32, 16x16) in every style: 999 operations, exact at step 0', async () => {
    for (const [w, h] of [
      [48, 32],
      [16, 16],
    ] as const) {
      const source = await loadSample(SAMPLES[0]!, undefined, { width: w, height: h });
      for (const style of ['lineart', 'monochrome', 'flat', 'painterly'] as const) {
        const t = planTimeline(source, 3, { style });
        assert.equal(t.operations.length, OPERATION_COUNT, `${w}x${h} ${style}`);
        assert.ok(maxAbsDifference(new TimelineRenderer(t).renderStep(0), source.image) <= 1, `${w}x${h} ${style}: step 0 is not the input`);
      }
    }
  });

  it('plans thin strips (1x900, 2x900, 900x2, 4x1200): 999 operations, exact at step 0', () => {
    // Marks one or two pixels across once crashed pacing's split (45 of 112 odd canvases in a sweep).
    for (const [w, h] of [
      [1, 900],
      [2, 900],
      [900, 2],
      [4, 1200],
    ] as const) {
      const data = new Uint8Array(w * h * 4);
      for (let i = 0; i < w * h; i++) data.set([(i * 37) % 256, (i * 91) % 256, (i * 13) % 256, 255], i * 4);
      const source = sourceFromRgba({ width: w, height: h, channels: 4, data });
      const t = planTimeline(source, 3);
      assert.equal(t.operations.length, OPERATION_COUNT, `${w}x${h}`);
      assert.ok(maxAbsDifference(new TimelineRenderer(t).renderStep(0), source.image) <= 1, `${w}x${h}: step 0 is not the input`);
    }
  });

  it('plans narrow banners of real art (40x1500, 5000x16): 999 operations, exact at step 0', async () => {
    // Both failed in pacing's split before it handled marks one or two pixels across.
    for (const [sample, w, h, seed] of [
      [SAMPLES[2]!, 40, 1500, 5],
      [SAMPLES[1]!, 5000, 16, 1],
    ] as const) {
      const source = await loadSample(sample, undefined, { width: w, height: h });
      const t = planTimeline(source, seed);
      assert.equal(t.operations.length, OPERATION_COUNT, `${w}x${h}`);
      assert.ok(maxAbsDifference(new TimelineRenderer(t).renderStep(0), source.image) <= 1, `${w}x${h}: step 0 is not the input`);
    }
  });

  it('a soft, low-contrast painting is painted, not cut into flats, at any size', () => {
    // No border of 24 levels anywhere: its smooth gradients pass for flat tone from ~300 px up, and without
    // a border to measure, the edges used to count as crisp: the piece was laid in as banded flat fills.
    for (const width of [240, 480, 720, 1200]) {
      const art = softPainting(width, Math.round((width * 4) / 3));
      const source = sourceFromRgba({ width: art.width, height: art.height, channels: 4, data: art.data });
      assert.equal(analyse(source.image).style, 'painterly', `${width} px wide`);
    }
  });

  it('line art in a dark or faded piece is still line art, inked as fully; paper grain does not become lines', async () => {
    // Line depths count against the piece's tonal range: at half brightness, or faded to 60% contrast
    // (a night scene, an old scan), the samples' ink used to fall below the absolute thresholds, and the
    // line layer's alpha (its ramp in levels) kept half of it or less.
    const ink = (a: Analysis): number => lineLayer(a).alphaPlan.reduce((sum, v) => sum + v, 0);
    for (const sample of SAMPLES) {
      const analysed = async (multiply: number, add: number): Promise<Analysis> => {
        const { data, info } = await sharp(sample).resize(480).linear(multiply, add).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        return analyse({ width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) });
      };
      const original = ink(await analysed(1, 0));
      for (const [what, multiply, add] of [
        ['darkened to 50%', 0.5, 0],
        ['darkened to 35%', 0.35, 0],
        ['faded to 60%', 0.6, 100],
      ] as const) {
        const a = await analysed(multiply, add);
        assert.equal(a.style, 'lineart', `${sample} ${what}`);
        const share = ink(a) / original;
        assert.ok(share >= 0.8, `${sample} ${what}: the line layer holds ${(100 * share).toFixed(0)}% of the original's ink`);
      }
    }
    // Blank paper with grain (a scan): the narrowest range has the least lowered thresholds, and no line art.
    const paper = new Uint8Array(600 * 800 * 3);
    for (let i = 0; i < paper.length; i += 3) paper.fill(238 + Math.round(12 * Math.sin(i * 12.9898) * Math.cos(i * 0.0007)), i, i + 3);
    const blank = analyse({ width: 600, height: 800, channels: 3, data: paper });
    assert.equal(blank.style, 'painterly');
    assert.ok(blank.lineDensity < 0.005, `paper grain traced as lines on ${(100 * blank.lineDensity).toFixed(2)}% of the canvas`);
  });

  it('adapts to the artwork: painterly pieces get a block-in, ink drawings get value studies', async () => {
    const painterly = planTimeline(await fromSvg(PAINTERLY_SVG), 1);
    assert.equal(painterly.info.style, 'painterly');
    assert.ok(painterly.operations.some((o) => o.phase === 'blockin'));
    assert.ok(!painterly.layers.some((l) => l.id === 'lineart'), 'a painterly piece must not get fake line art');
    assertHabits(painterly);
    const ink = planTimeline(await fromSvg(inkSvg()), 1);
    assert.equal(ink.info.style, 'monochrome');
    assert.ok(ink.operations.some((o) => o.phase === 'values'));
    assertHabits(ink);
    for (const t of [painterly, ink]) {
      const r = new TimelineRenderer(t);
      assert.ok(nonWhiteFraction(r.renderStep(999)) <= 0.01);
    }
  });

  it('is deterministic per seed and different across seeds', async () => {
    const source = await loadSample(SAMPLES[2]!, 320);
    const steps = [900, 700, 500, 300];
    const hashes = (seed: number): string[] => {
      const r = new TimelineRenderer(planTimeline(source, seed));
      return steps.map((s) => hashImage(r.renderStep(s)));
    };
    const a = hashes(42);
    assert.deepEqual(hashes(42), a);
    const b = hashes(43);
    assert.equal(
      a.filter((h, k) => h !== b[k]).length,
      steps.length,
      'a different seed should change every intermediate frame',
    );
  });

  it('throws CANCELLED when the signal is aborted', async () => {
    const source = await loadSample(SAMPLES[2]!, 256);
    const controller = new AbortController();
    let seen = 0;
    assert.throws(
      () =>
        planTimeline(source, 1, {}, controller.signal, () => {
          // Abort after the first stage has reported: planning must stop at its next check.
          if (++seen === 2) controller.abort();
        }),
      (error: unknown) => isPaintsUndoError(error) && error.code === 'CANCELLED',
    );
    assert.equal(seen, 2, 'planning went on after the abort');
  });
});
