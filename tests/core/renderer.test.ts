import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { imageContent } from '../../engine/src/core/content.js';
import { referenceFrame } from './reference-renderer.js';
import { TimelineRenderer } from '../../engine/src/core/renderer.js';
import { PlanState, preparePlan } from '../../engine/src/core/replay.js';
import { validateTimeline } from '../../engine/src/core/timeline-checks.js';
import { curveTables } from '../../engine/src/core/view-effects.js';
import { OPERATION_COUNT, MAX_STEP, timelapseSteps, operationsAppliedAt } from '../../engine/src/core/steps.js';
import { createRgba, maxAbsDifference, flattenOnWhite, type RgbaImage, type RgbImage } from '../../engine/src/core/image.js';
import { IDENTITY_CURVE, type LayerSpec, type Operation, type Stamp, type Timeline } from '../../engine/src/core/timeline.js';

const W = 40;
const H = 30;

function solid(r: number, g: number, b: number, a = 255, width = W, height = H): RgbaImage {
  const img = createRgba(width, height);
  for (let i = 0; i < width * height; i++) img.data.set([r, g, b, a], i * 4);
  return img;
}

/** `translucent`: every seventh column half transparent, to exercise content alpha. */
function gradient(width = W, height = H, translucent = false): RgbaImage {
  const img = createRgba(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) img.data.set([(x * 6) % 256, (y * 8) % 256, (x * y) % 256, translucent && x % 7 === 0 ? 128 : 255], (y * width + x) * 4);
  }
  return img;
}

function fullStamp(planW: number, planH: number): Stamp {
  return { x: 0, y: 0, width: planW, height: planH, alpha: new Uint8Array(planW * planH).fill(255) };
}

function box(x: number, y: number, w: number, h: number, value = 255): Stamp {
  return { x, y, width: w, height: h, alpha: new Uint8Array(w * h).fill(value) };
}

function layer(id: string, content: RgbaImage, blend: 'normal' | 'multiply' = 'normal'): LayerSpec {
  return { id, name: id, blend, content: imageContent({ image: content }), initiallyVisible: true, initialOpacity: 1, exported: true };
}

/** A timeline whose last operation reveals a full-coverage top layer holding `finalImage`. */
function makeTimeline(finalImage: RgbaImage, planScale = 2): Timeline {
  const { width: W, height: H } = finalImage;
  const pw = Math.ceil(W / planScale);
  const ph = Math.ceil(H / planScale);
  const ops: Operation[] = [];
  ops.push({ kind: 'reveal', phase: 'flats', layer: 0, stamp: box(0, 0, Math.floor(pw / 2), ph), strength: 1, tool: 'bucket' });
  ops.push({ kind: 'flip', phase: 'flats', flipped: true });
  ops.push({ kind: 'transform', phase: 'flats', layer: 0, region: box(0, 0, 4, 4), dx: 3, dy: 1, scale: 1.2 });
  ops.push({ kind: 'curve', phase: 'finish', curve: { contrast: 0.8, saturation: 0.7, lift: 0.2, warmth: 0.3 } });
  ops.push({ kind: 'visibility', phase: 'flats', layer: 0, visible: false });
  ops.push({ kind: 'visibility', phase: 'flats', layer: 0, visible: true });
  ops.push({ kind: 'opacity', phase: 'flats', layer: 0, opacity: 0.5 });
  while (ops.length < OPERATION_COUNT - 4) {
    const i = ops.length;
    ops.push({ kind: 'reveal', phase: 'rendering', layer: 1, stamp: box(i % (pw - 3), (i * 7) % (ph - 3), 3, 3, 128), strength: 0.5, tool: 'brush' });
  }
  ops.push({ kind: 'transform', phase: 'finish', layer: 0, region: null, dx: 0, dy: 0, scale: 1 });
  ops.push({ kind: 'flip', phase: 'finish', flipped: false });
  ops.push({ kind: 'curve', phase: 'finish', curve: IDENTITY_CURVE });
  ops.push({ kind: 'reveal', phase: 'finish', layer: 1, stamp: fullStamp(pw, ph), strength: 1, tool: 'brush' });
  return {
    width: W,
    height: H,
    planScale,
    finished: flattenOnWhite(finalImage),
    layers: [layer('flats', solid(200, 40, 40, 255, W, H)), layer('render', finalImage)],
    operations: ops,
    info: { backend: 'test', backendVersion: '1', seed: 1, style: 'test' },
  };
}

const hash = (img: RgbImage): string => createHash('sha256').update(img.data).digest('hex');

test('step 0 reproduces the top layer exactly and step 999 is blank paper', () => {
  const finalImage = gradient();
  const r = new TimelineRenderer(makeTimeline(finalImage));
  assert.equal(maxAbsDifference(r.renderStep(0), flattenOnWhite(finalImage)), 0);
  const blank = r.renderStep(MAX_STEP);
  assert.ok(blank.data.every((v) => v === 255));
});

test('random-access rendering equals sequential rendering at every step', () => {
  const t = makeTimeline(gradient());
  const sequential = new TimelineRenderer(t, { snapshotBudgetBytes: 1 });
  const expected = new Map<number, string>();
  for (const step of timelapseSteps(60, 'draw')) expected.set(step, hash(sequential.renderStep(step)));
  // A small budget forces few snapshots; a large one many. Both must agree with sequential replay.
  for (const budget of [W * H * 5 * 4, 64 * 1024 * 1024]) {
    const random = new TimelineRenderer(t, { snapshotBudgetBytes: budget });
    const order = [...expected.keys()].sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
    for (const step of order) assert.equal(hash(random.renderStep(step)), expected.get(step), `step ${step}`);
  }
});

test('the fast renderer equals the reference renderer at every step, in any order, at full and reduced sizes', () => {
  // Big enough for many tiles; the plan scale is not an integer, the transform is active for most steps.
  const t = makeTimeline(gradient(230, 170, true), 2.6);
  // Forward, then jumps back and forth; 992..996 cross the transform, flip, curve and visibility changes.
  const steps = [999, 996, 994, 992, 700, 300, 0, 995, 500, 2, 993, 1, 850];
  for (const longSide of [undefined, 150]) {
    const r = new TimelineRenderer(t, { snapshotBudgetBytes: 32 * 1024, ...(longSide ? { longSide } : {}) });
    for (const step of steps) {
      const fast = r.renderStep(step);
      const reference = referenceFrame(t, step, longSide);
      assert.equal(fast.width, reference.width);
      assert.ok(maxAbsDifference(fast, reference) <= 1, `step ${step} at ${longSide ?? 'full'} size differs by ${maxAbsDifference(fast, reference)}`);
    }
  }
});

test('a renderer played forward and back equals a fresh renderer at each step, pixel for pixel', () => {
  // Only recomposited tiles pass through the curve again while one curve shows: frames must not tell.
  const plan = preparePlan(makeTimeline(gradient(230, 170, true), 2.6));
  const played = new TimelineRenderer(plan);
  const steps = [...timelapseSteps(24, 'draw'), 997, 990, 500, 996, 3, 995];
  for (const step of steps) assert.equal(hash(played.renderStep(step)), hash(new TimelineRenderer(plan).renderStep(step)), `step ${step}`);
});

test('a frame rendered into a given buffer is that buffer, with the pixels of a frame in a new one', () => {
  const plan = preparePlan(makeTimeline(gradient(230, 170, true), 2.6));
  const r = new TimelineRenderer(plan);
  const into = new Uint8Array(230 * 170 * 3);
  // 992..996 show the flip and the curve: both must be written over whatever the buffer held.
  for (const step of [999, 996, 994, 993, 992, 500, 0]) {
    into.fill(step % 256);
    const frame = r.renderStep(step, into);
    assert.equal(frame.data, into);
    assert.equal(hash(frame), hash(new TimelineRenderer(plan).renderStep(step)), `step ${step}`);
  }
  assert.throws(() => r.renderStep(0, new Uint8Array(10)), /a frame buffer of 10 bytes, expected 117300/);
});

test('the flip is a view change that mirrors the canvas', () => {
  const t = makeTimeline(gradient());
  const r = new TimelineRenderer(t);
  // After op 2 (reveal, flip) the canvas is flipped; before the flip it is not.
  r.seek(1);
  const before = r.currentCanvas();
  r.seek(2);
  assert.equal(r.isFlipped, true);
  const after = r.currentCanvas();
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) assert.equal(after.data[(y * W + x) * 3 + c], before.data[(y * W + (W - 1 - x)) * 3 + c]);
    }
  }
});

test('hiding a layer removes its paint and showing it brings it back', () => {
  const r = new TimelineRenderer(makeTimeline(gradient()));
  r.seek(4);
  const shown = r.currentCanvas();
  r.seek(5);
  const hidden = r.currentCanvas();
  assert.ok(hidden.data.every((v) => v === 255), 'only the hidden layer had paint');
  r.seek(6);
  assert.deepEqual(r.currentCanvas().data, shown.data);
});

test('curves keep black and white fixed', () => {
  const [r, g, b] = curveTables({ contrast: 1.3, saturation: 0.5, lift: -0.4, warmth: 0.8 });
  for (const t of [r, g, b]) {
    assert.equal(t[0], 0);
    assert.equal(t[255], 255);
  }
});

test('layer images carry coverage as alpha', () => {
  const r = new TimelineRenderer(makeTimeline(gradient()));
  const layers = r.layerImages(0);
  assert.equal(layers.length, 2);
  const render = layers[1]!;
  assert.ok(render.image.data.every((v, i) => i % 4 !== 3 || v === 255), 'top layer fully covered at step 0');
  const flats = r.layerImages(operationsAppliedAt(OPERATION_COUNT));
  assert.ok(flats[0]!.image.data.some((v, i) => i % 4 === 3 && v === 0), 'flats layer not covered at all at the start');
});

test('malformed timelines are refused with a precise message', () => {
  const t = makeTimeline(gradient());
  assert.throws(() => validateTimeline({ ...t, operations: t.operations.slice(1) }), /exactly 999 operations, this one has 998/);
  const badLayer: Operation = { kind: 'visibility', phase: 'flats', layer: 7, visible: false };
  assert.throws(() => validateTimeline({ ...t, operations: [badLayer, ...t.operations.slice(1)] }), /names layer 7, but there are 2 layers/);
  assert.throws(() => new TimelineRenderer(t).renderStep(1000), /step must be an integer in 0..999/);
});

test("a prepared plan holds its stamps in shared memory, with the same values, and leaves the planner's timeline as it was", () => {
  const timeline = makeTimeline(gradient());
  const plan = preparePlan(timeline);
  const masks = (t: Timeline): Uint8Array[] =>
    t.operations.flatMap((op) => (op.kind === 'reveal' ? [op.stamp.alpha] : op.kind === 'transform' && op.region ? [op.region.alpha] : []));
  const before = masks(timeline);
  const after = masks(plan.timeline);
  assert.equal(after.length, before.length);
  const buffers = new Set(after.map((alpha) => alpha.buffer));
  assert.equal(buffers.size, 1, 'one buffer for every stamp');
  assert.ok([...buffers][0] instanceof SharedArrayBuffer, 'shared between threads');
  after.forEach((alpha, i) => assert.deepEqual(alpha, before[i], `stamp ${i}: the same values`));
  assert.ok(before.every((alpha) => !(alpha.buffer instanceof SharedArrayBuffer)), "the planner's own stamps are untouched");
  // Prepared twice (a plan imported, then prepared again): nothing to move the second time.
  assert.equal(preparePlan(plan.timeline).timeline.operations, plan.timeline.operations);
});

/** A line about 2 plan pixels wide from (0, y0) to (pw, y1), as a stamp over the whole plan. */
function diagonal(pw: number, ph: number, y0: number, y1: number): Stamp {
  const alpha = new Uint8Array(pw * ph);
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const d = Math.abs(y - (y0 + ((y1 - y0) * x) / pw));
      if (d < 1.2) alpha[y * pw + x] = d < 0.6 ? 255 : 120;
    }
  }
  return { x: 0, y: 0, width: pw, height: ph, alpha };
}

test('a stroke recomposites only the bands of rows it changed; frames played forward equal fresh ones and the reference', () => {
  const base = makeTimeline(gradient(230, 170, true), 2.6);
  const pw = Math.ceil(230 / 2.6);
  const ph = Math.ceil(170 / 2.6);
  // Thin strokes from top to bottom, every fifth operation: on the top layer, then on both from operation 40.
  // From 40 to 80 the bottom layer is being moved, so its strokes change a box that takes in the move (no bands).
  const ops = base.operations.map((op, i): Operation => {
    if (op.kind !== 'reveal' || i % 5 !== 1 || i >= OPERATION_COUNT - 1) return op;
    return { ...op, layer: i < 40 ? 1 : i % 2, stamp: diagonal(pw, ph, (i * 13) % 17, ph - 1 - ((i * 7) % 19)), strength: 0.4 + (i % 3) / 5 };
  });
  ops[40] = { kind: 'transform', phase: 'flats', layer: 0, region: box(5, 5, 30, 30), dx: 4, dy: 2, scale: 1.1 };
  ops[80] = { kind: 'transform', phase: 'flats', layer: 0, region: null, dx: 0, dy: 0, scale: 1 };
  const t = { ...base, operations: ops };
  const plan = preparePlan(t);

  // A stroke's bands hold every pixel it changed, and cover far less than its box.
  for (const i of [11, 86, 91]) {
    const op = ops[i] as Extract<Operation, { kind: 'reveal' }>;
    const state = new PlanState(plan);
    state.seek(i);
    const before = state.reveal[op.layer]!.slice();
    state.seek(i + 1);
    const bands = plan.dirtyBands.subarray(plan.dirtyBandStart[i]! * 4, plan.dirtyBandStart[i + 1]! * 4);
    assert.ok(bands.length > 4, `operation ${i} has bands`);
    let area = 0;
    for (let b = 0; b < bands.length; b += 4) area += (bands[b + 2]! - bands[b]!) * (bands[b + 3]! - bands[b + 1]!);
    const d = plan.dirty.subarray(i * 4, i * 4 + 4);
    assert.ok(area < 0.5 * (d[2]! - d[0]!) * (d[3]! - d[1]!), `operation ${i}: bands of ${area} px in a ${d[2]! - d[0]!}x${d[3]! - d[1]!} box`);
    let changed = 0;
    for (let p = 0; p < pw * ph; p++) {
      if (state.reveal[op.layer]![p] === before[p]) continue;
      changed++;
      const x = p % pw;
      const y = Math.floor(p / pw);
      let inside = false;
      for (let b = 0; b < bands.length && !inside; b += 4) inside = x >= bands[b]! && x < bands[b + 2]! && y >= bands[b + 1]! && y < bands[b + 3]!;
      assert.ok(inside, `operation ${i}: changed pixel (${x}, ${y}) outside its bands`);
    }
    assert.ok(changed > 40, `operation ${i} changed ${changed} pixels`);
  }
  // While the bottom layer is moved, its strokes have no bands (their box takes in the move).
  assert.ok(plan.dirty[46 * 4 + 2]! > plan.dirty[46 * 4]!, 'a stroke on a layer being moved changes a box');
  assert.equal(plan.dirtyBandStart[47], plan.dirtyBandStart[46], 'that has no bands');
  assert.ok(plan.dirtyBandStart[52]! > plan.dirtyBandStart[51]!, 'a stroke on the other layer meanwhile');

  const steps = [...timelapseSteps(40, 'draw'), 960, 940, 920, 500, 950, 3, 0];
  for (const longSide of [undefined, 150]) {
    const played = new TimelineRenderer(plan, longSide ? { longSide } : {});
    for (const step of steps) {
      const frame = played.renderStep(step);
      assert.equal(hash(frame), hash(new TimelineRenderer(plan, longSide ? { longSide } : {}).renderStep(step)), `step ${step} at ${longSide ?? 'full'} size`);
      if (step % 5 === 0) assert.ok(maxAbsDifference(frame, referenceFrame(t, step, longSide)) <= 1, `step ${step} against the reference`);
    }
  }
});
