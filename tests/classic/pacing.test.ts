/**
 * Pacing (classic/pacing.ts) alone, on a hand-made process: a run of dots too small for a timelapse
 * frame to show, then big fills. Pacing must make every stretch of frames show something while leaving
 * what the process paints, and the order it paints it in, unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paceOperations, SHORTEST_HIDE, visibleMarks, type PacingCanvas } from '../../engine/src/backends/classic/pacing.js';
import { layer } from '../../engine/src/backends/classic/recipes/plan.js';
import { solidContent } from '../../engine/src/core/content.js';
import { OPERATION_COUNT, timelapseSteps, MAX_STEP } from '../../engine/src/core/steps.js';
import type { LayerSpec, Operation, RevealOperation, Stamp } from '../../engine/src/core/timeline.js';
import { CLEAR_CHANGE, LARGE_AREA, SMALL_AREA } from '../../engine/src/core/visibility.js';

const W = 200;
const H = 160;

/** White paper at the measuring size (plan size here): the art the solid layers are measured against. */
function canvas(): PacingCanvas {
  const data = new Uint8Array(W * H * 3).fill(30);
  return { art: { width: W, height: H, channels: 3, data } };
}

function box(x: number, y: number, width: number, height: number, value = 255): Stamp {
  return { x, y, width, height, alpha: new Uint8Array(width * height).fill(value) };
}

const reveal = (layerIndex: number, stamp: Stamp, tool: RevealOperation['tool']): RevealOperation => ({
  kind: 'reveal',
  phase: tool === 'pen' ? 'lineart' : 'flats',
  layer: layerIndex,
  stamp,
  strength: 1,
  tool,
});

/** Dark dots of 1x2 plan pixels along rows (the pen), then fills of 8x6 blocks (the bucket), a flip between; nothing covers anything twice. */
function process(): { layers: LayerSpec[]; ops: Operation[] } {
  const layers = [layer('lineart', 'Line art', solidContent({ rgb: [30, 30, 30] })), layer('flats', 'Flats', solidContent({ rgb: [30, 30, 30] }))];
  const ops: Operation[] = [];
  for (let k = 0; k < 600; k++) ops.push(reveal(0, box((k % 95) * 2, Math.floor(k / 95) * 3, 1, 2), 'pen'));
  ops.push({ kind: 'flip', phase: 'flats', flipped: true });
  let k = 0;
  while (ops.length < OPERATION_COUNT) {
    ops.push(reveal(1, box((k % 25) * 8, 21 + Math.floor(k / 25) * 6, 8, 6), 'bucket'));
    k++;
  }
  return { layers, ops };
}

/** Each layer's coverage once every operation is applied (max of stamp * strength), at plan size. */
function finalCoverage(ops: readonly Operation[], layers: number): Uint8Array[] {
  const out = Array.from({ length: layers }, () => new Uint8Array(W * H));
  for (const op of ops) {
    if (op.kind !== 'reveal') continue;
    const s = op.stamp;
    for (let y = 0; y < s.height; y++) {
      for (let x = 0; x < s.width; x++) {
        const X = x + s.x;
        const Y = y + s.y;
        if (X < 0 || Y < 0 || X >= W || Y >= H) continue;
        const v = Math.round(s.alpha[y * s.width + x]! * op.strength);
        if (v > out[op.layer]![Y * W + X]!) out[op.layer]![Y * W + X] = v;
      }
    }
  }
  return out;
}

/** Plan pixels each default timelapse frame newly covers (every layer here changes its pixels clearly). */
function frameChanges(ops: readonly Operation[]): number[] {
  const covered = new Uint8Array(W * H);
  const steps = timelapseSteps(100);
  const changes: number[] = [];
  let applied = 0;
  for (const step of steps.slice(1)) {
    let changed = 0;
    for (; applied < MAX_STEP - step; applied++) {
      const op = ops[applied]!;
      if (op.kind !== 'reveal') {
        changed += W * H;
        continue;
      }
      const s = op.stamp;
      for (let y = 0; y < s.height; y++) {
        for (let x = 0; x < s.width; x++) {
          const i = (y + s.y) * W + x + s.x;
          if (s.alpha[y * s.width + x]! > 0 && !covered[i]) {
            covered[i] = 1;
            changed++;
          }
        }
      }
    }
    changes.push(changed);
  }
  return changes;
}

describe('pacing', () => {
  it('makes every frame of a timelapse show a clear change, where frames of dots did not', () => {
    const { layers, ops } = process();
    const visible = SMALL_AREA * W * H;
    assert.ok(CLEAR_CHANGE < 200, 'the dark layers change paper clearly');
    const before = frameChanges(ops).filter((c) => c < visible).length;
    assert.ok(before > 30, `the hand-made process has frames that show nothing (${before})`);
    const paced = paceOperations(ops, layers, canvas(), () => {});
    const after = frameChanges(paced).filter((c) => c < visible).length;
    assert.equal(after, 0, `${after} frames still change less than ${visible} px`);
  });

  it('keeps the count, what every layer ends with, and the order of what is painted', () => {
    const { layers, ops } = process();
    const paced = paceOperations(ops, layers, canvas(), () => {});
    assert.equal(paced.length, OPERATION_COUNT);
    assert.deepEqual(finalCoverage(paced, 2), finalCoverage(ops, 2));
    // The pen's dots all come before the flip, the fills all after it, as planned.
    const flip = paced.findIndex((op) => op.kind === 'flip');
    assert.ok(paced.slice(0, flip).every((op) => op.kind === 'reveal' && op.layer === 0));
    assert.ok(paced.slice(flip + 1).every((op) => op.kind === 'reveal' && op.layer === 1));
    assert.ok(flip < 600, 'the dots took fewer operations');
  });

  it('splits marks one or two pixels across (a thin strip of a canvas) and keeps what every layer ends with', () => {
    // process()'s pen dots to merge, then (instead of its flip and fills) strokes 1-2 px across and 100-180
    // px long: across so few pixels the split's wavy seam may lie wholly past the cut, and the second part
    // starts after it.
    const { layers, ops } = process();
    ops.length = 600;
    for (let k = 0; ops.length < OPERATION_COUNT; k++) {
      const length = 100 + ((k * 37) % 81);
      const thick = 1 + (k % 2);
      ops.push(reveal(1, k % 3 === 2 ? box(21 + Math.floor((k % 100) * 1.5), 0, thick, Math.min(H, length)) : box((k * 13) % (W - length), 21 + (k % 130), length, thick), 'bucket'));
    }
    const paced = paceOperations(ops, layers, canvas(), () => {});
    assert.equal(paced.length, OPERATION_COUNT);
    assert.deepEqual(finalCoverage(paced, 2), finalCoverage(ops, 2));
    assert.ok(paced.filter((op) => op.kind === 'reveal' && op.layer === 1).length > ops.length - 600, 'some strokes were split');
  });

  it('leaves a process whose every operation already shows as it is', () => {
    const layers = [layer('flats', 'Flats', solidContent({ rgb: [30, 30, 30] }))];
    // Marks of 2x3 plan pixels side by side: each shows, and none covers another.
    const ops: Operation[] = Array.from({ length: OPERATION_COUNT }, (_, k) => reveal(0, box((k % 100) * 2, Math.floor(k / 100) * 3, 2, 3), 'bucket'));
    const paced = paceOperations(ops, layers, canvas(), () => {});
    assert.deepEqual(paced, ops);
  });

  it('never shortens a hide episode into a blink while it merges the dots inside it', () => {
    const { layers, ops } = process();
    // The flats hidden for 60 of the pen's dots (each too small to show; pacing merges such runs).
    ops.splice(300, 0, { kind: 'visibility', phase: 'lineart', layer: 1, visible: false });
    ops.splice(361, 0, { kind: 'visibility', phase: 'lineart', layer: 1, visible: true });
    ops.splice(OPERATION_COUNT);
    const paced = paceOperations(ops, layers, canvas(), () => {});
    assert.equal(paced.length, OPERATION_COUNT);
    const off = paced.findIndex((op) => op.kind === 'visibility' && !op.visible);
    const on = paced.findIndex((op) => op.kind === 'visibility' && op.visible);
    assert.ok(off >= 0 && on > off);
    assert.ok(on - off - 1 >= SHORTEST_HIDE, `the flats were hidden for ${on - off - 1} operations (at least ${SHORTEST_HIDE})`);
    assert.ok(on - off - 1 < 60, 'the dots inside the episode were merged too');
    assert.ok(SHORTEST_HIDE * (OPERATION_COUNT / MAX_STEP) > 2 * (OPERATION_COUNT / 99), 'an episode lasts over two frames of a default timelapse');
  });

  it('counts the marks a change can fill, each carrying its share of a visible frame', () => {
    const n = 100_000;
    // A clear change over 1% of the canvas is ten frames' worth; marks carry less than a frame each.
    const clear = visibleMarks(0.01 * n, 0, n);
    assert.ok(clear > 10 && clear < 100, `${clear} marks`);
    assert.equal(visibleMarks(0, 0, n), 0);
    // A pale wash is seen over a large area only: 5% of the canvas noticeably changed is one frame.
    assert.equal(visibleMarks(0, LARGE_AREA * n, n), visibleMarks(SMALL_AREA * n, 0, n));
    assert.equal(visibleMarks(0.01 * n, 0.01 * n, n), clear);
  });

  it('merges the least visible marks first: faint dots before clearly visible sketch lines', () => {
    // A few fills of the final's dark colour (their splits allow fewer merges than the dots want), then
    // dots of one plan pixel (each far too small to see) and sketch marks of 3x3 (each clearly visible,
    // though the final picture, white there, undoes them).
    const layers = ['lineart', 'sketch', 'flats'].map((id) => layer(id, id, solidContent({ rgb: [30, 30, 30] })));
    const data = new Uint8Array(W * H * 3).fill(30);
    data.fill(255, W * 40 * 3, W * 80 * 3);
    const art = { width: W, height: H, channels: 3 as const, data };
    const ops: Operation[] = [];
    for (let k = 0; k < 5; k++) ops.push(reveal(2, box(k * 40, 100, 40, 20), 'bucket'));
    for (let k = 0; k < 300; k++) ops.push(reveal(0, box((k % 100) * 2, Math.floor(k / 100) * 3, 1, 1), 'pen'));
    const sketch: Operation[] = [];
    for (let k = 0; k < 300; k++) sketch.push({ ...reveal(1, box((k % 50) * 4, 40 + Math.floor(k / 50) * 6, 3, 3), 'pencil'), phase: 'sketch' });
    ops.push(...sketch);
    const paced = paceOperations(ops, layers, { art }, () => {});
    assert.equal(paced.length, ops.length);
    const dots = paced.filter((op) => op.kind === 'reveal' && op.layer === 0).length;
    assert.ok(dots < 300, `the dots were merged (${dots} left)`);
    // The sketch marks each show: none was merged while dots that show nothing were left to merge.
    assert.deepEqual(paced.filter((op) => op.kind === 'reveal' && op.layer === 1), sketch);
  });
});
