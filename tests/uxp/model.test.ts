/**
 * The panel's plain-TypeScript model: scrubbing rules, import plans, history selection, pixels, GIF
 * provenance, connection texts and error wording.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { Scrubber, type ScrubberTimers } from '../../uxp-plugin/src/model/scrubber.js';
import { documentBaseName, keyframesPlan, singleStepPlan, whiteToAlpha, type SourceRegion } from '../../uxp-plugin/src/model/import-plan.js';
import { pickHistoryStates, recordedSequence } from '../../uxp-plugin/src/model/history.js';
import { bytesToBase64, decodePng, encodePng, fitSize, resize } from '../../uxp-plugin/src/model/pixels.js';
import { describeConnection } from '../../uxp-plugin/src/model/connection.js';
import { explain, layerEntries, layerNameFromFile } from '../../uxp-plugin/src/panel/controller.js';
import { HostError, type Pixels } from '../../uxp-plugin/src/host/types.js';
import { EngineError, type ResultFile } from '../../engine/src/client/index.js';

/** Manual timers: the test decides when the debounce fires (no timing in assertions). */
class ManualTimers implements ScrubberTimers {
  private next = 1;
  readonly pending = new Map<number, () => void>();
  set(fn: () => void): number {
    const id = this.next++;
    this.pending.set(id, fn);
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fire(): void {
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const f of fns) f();
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

test('scrubber: a drag becomes one request; a stale answer is cached but never shown', async () => {
  const timers = new ManualTimers();
  const answers = new Map<number, ReturnType<typeof deferred<string>>>();
  const shown: [number, string, boolean][] = [];
  const aborted: number[] = [];
  const s = new Scrubber<string>({
    timers,
    fetchFrame: (step, signal) => {
      signal.addEventListener('abort', () => aborted.push(step));
      const d = deferred<string>();
      answers.set(step, d);
      return d.promise;
    },
    onFrame: (step, frame, cached) => shown.push([step, frame, cached]),
    onError: (step, e) => assert.fail(`unexpected error for ${step}: ${String(e)}`),
  });
  for (const step of [10, 20, 30]) s.request(step);
  assert.equal(timers.pending.size, 1, 'each new step restarts the debounce');
  timers.fire();
  assert.deepEqual([...answers.keys()], [30]);
  s.request(40);
  timers.fire();
  assert.deepEqual(aborted, [30], 'the older request in flight is aborted');
  answers.get(40)?.resolve('f40');
  await flush();
  answers.get(30)?.resolve('f30');
  await flush();
  assert.deepEqual(shown, [[40, 'f40', false]], 'the late answer for 30 is not shown');
  assert.equal(s.stats.staleIgnored, 1);
  assert.ok(s.has(30), 'but it is cached');
  s.request(30);
  assert.deepEqual(shown.at(-1), [30, 'f30', true], 'a cached step shows synchronously');
  assert.equal(timers.pending.size, 0);
});

test('scrubber: evicts least recently used frames and reports them (object URLs get revoked)', async () => {
  const evicted: string[] = [];
  const timers = new ManualTimers();
  const s = new Scrubber<string>({ timers, cacheSize: 2, fetchFrame: async (st) => `f${st}`, onFrame: () => undefined, onError: () => undefined, onEvict: (f) => evicted.push(f) });
  for (const step of [1, 2]) {
    s.request(step);
    timers.fire();
    await flush();
  }
  s.request(1); // cached: now the most recently used
  s.request(3);
  timers.fire();
  await flush();
  assert.deepEqual(evicted, ['f2']);
  s.reset();
  assert.deepEqual(evicted.sort(), ['f1', 'f2', 'f3']);
  assert.equal(s.has(1), false);
});

const region: SourceRegion = { documentId: 1, documentTitle: 'my.piece.psd', source: 'document', bounds: { left: 0, top: 0, right: 4, bottom: 2 } };

function solid(w: number, h: number, rgb: [number, number, number]): Pixels {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width: w, height: h, channels: 3, data };
}

test('keyframes plan: group after the document, ascending steps, only the top visible, fitted to the bounds', () => {
  const plan = keyframesPlan(region, [
    { step: 999, pixels: solid(2, 1, [255, 255, 255]) },
    { step: 400, pixels: solid(2, 1, [10, 20, 30]) },
    { step: 600, pixels: solid(2, 1, [40, 50, 60]) },
  ]);
  assert.equal(plan.groupName, 'my.piece keyframes');
  assert.deepEqual(
    plan.layers.map((l) => [l.name, l.visible, l.pixels().width, l.pixels().height]),
    [
      ['Step 400', true, 4, 2],
      ['Step 600', false, 4, 2],
      ['Step 999', false, 4, 2],
    ],
  );
  assert.deepEqual(plan.placement, { kind: 'top' });
  assert.throws(() => keyframesPlan(region, []), /at least one/);
  assert.equal(documentBaseName('Untitled-1'), 'Untitled-1');
  // Only a file extension is a title's extension: an unsaved title keeps its dots.
  assert.equal(documentBaseName('painting.psd'), 'painting');
  assert.equal(documentBaseName('scan.final.TIFF'), 'scan.final');
  assert.equal(documentBaseName('v1.2 final'), 'v1.2 final');
  assert.equal(documentBaseName('Mr. Fox'), 'Mr. Fox');
  assert.equal(documentBaseName('.psd'), '.psd');
  assert.equal(documentBaseName('   '), 'Untitled');
});

test('keyframes for a 6000x4000 canvas: the plan holds the frames as rendered, each layer is fitted only when written', () => {
  const big: SourceRegion = { ...region, source: 'layer', layerId: 7, layerName: 'Ink', bounds: { left: 0, top: 0, right: 6000, bottom: 4000 } };
  const frames = [400, 600, 800, 900, 950, 999].map((step) => ({ step, pixels: solid(3, 2, [step / 4, 20, 30]) }));
  const before = process.memoryUsage().arrayBuffers;
  const plan = keyframesPlan(big, frames);
  // Six fitted layers would be 6 x 96 MB; the plan itself holds none of them.
  assert.ok(process.memoryUsage().arrayBuffers - before < 1_000_000);
  const top = plan.layers[0]!.pixels();
  assert.deepEqual([top.width, top.height, top.channels], [6000, 4000, 4]);
  // Step 400's colour (100, 20, 30) over white paper, as colour-to-alpha gives it.
  assert.deepEqual(Array.from(top.data.subarray(0, 4)), Array.from(whiteToAlpha(solid(1, 1, [100, 20, 30])).data));
});

test('resize: the same pixels as a plain per-pixel resampling, for RGB and RGBA, enlarging and shrinking', () => {
  let state = 7;
  const next = (): number => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let t = 0; t < 300; t++) {
    const channels = next() < 0.5 ? 3 : 4;
    const w = 1 + Math.floor(next() * 12);
    const h = 1 + Math.floor(next() * 12);
    const data = new Uint8Array(w * h * channels).map(() => (next() < 0.2 ? (next() < 0.5 ? 0 : 255) : Math.floor(next() * 256)));
    const p: Pixels = { width: w, height: h, channels, data };
    const W = 1 + Math.floor(next() * 25);
    const H = 1 + Math.floor(next() * 25);
    assert.deepEqual(resize(p, W, H).data, plainResize(p, W, H), `${w}x${h}x${channels} to ${W}x${H}`);
  }
});

/** Resampling by its definition, pixel by pixel: area average when both axes shrink, else bilinear (colours weighted by alpha). */
function plainResize(p: Pixels, width: number, height: number): Uint8Array {
  const c = p.channels;
  const at = (x: number, y: number, k: number): number => p.data[(y * p.width + x) * c + k]!;
  const out = new Uint8Array(width * height * c);
  const sx = p.width / width;
  const sy = p.height / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * c;
      if (sx >= 1 && sy >= 1) {
        const x0 = Math.floor(x * sx);
        const x1 = Math.max(x0 + 1, Math.min(p.width, Math.floor((x + 1) * sx)));
        const y0 = Math.floor(y * sy);
        const y1 = Math.max(y0 + 1, Math.min(p.height, Math.floor((y + 1) * sy)));
        for (let k = 0; k < c; k++) {
          let sum = 0;
          for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += at(xx, yy, k);
          out[o + k] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
        }
        continue;
      }
      const fx = Math.max(0, Math.min(p.width - 1, (x + 0.5) * sx - 0.5));
      const fy = Math.max(0, Math.min(p.height - 1, (y + 0.5) * sy - 0.5));
      const [x0, y0] = [Math.floor(fx), Math.floor(fy)];
      const [x1, y1] = [Math.min(p.width - 1, x0 + 1), Math.min(p.height - 1, y0 + 1)];
      const [wx, wy] = [fx - x0, fy - y0];
      const taps: [number, number, number][] = [
        [x0, y0, (1 - wx) * (1 - wy)],
        [x1, y0, wx * (1 - wy)],
        [x0, y1, (1 - wx) * wy],
        [x1, y1, wx * wy],
      ];
      if (c === 4) {
        const weights = taps.map(([tx, ty, w]) => w * at(tx, ty, 3));
        const alpha = weights[0]! + weights[1]! + weights[2]! + weights[3]!;
        out[o + 3] = Math.round(alpha);
        if (alpha === 0) continue;
        for (let k = 0; k < 3; k++) {
          out[o + k] = Math.round((at(x0, y0, k) * weights[0]! + at(x1, y0, k) * weights[1]! + at(x0, y1, k) * weights[2]! + at(x1, y1, k) * weights[3]!) / alpha);
        }
        continue;
      }
      for (let k = 0; k < c; k++) {
        out[o + k] = Math.round((at(x0, y0, k) * (1 - wx) + at(x1, y0, k) * wx) * (1 - wy) + (at(x0, y1, k) * (1 - wx) + at(x1, y1, k) * wx) * wy);
      }
    }
  }
  return out;
}

test('layer source: frames go above the layer and white paper becomes transparency', () => {
  const layerRegion: SourceRegion = { ...region, source: 'layer', layerId: 7, layerName: 'Ink' };
  const plan = singleStepPlan(layerRegion, { step: 500, pixels: solid(4, 2, [255, 255, 255]) });
  assert.deepEqual(plan.placement, { kind: 'above', layerId: 7 });
  // Its frames composite as the layer does: they take its opacity and blend mode when written.
  assert.equal(plan.layers[0]?.styleOf, 7);
  assert.equal(singleStepPlan(region, { step: 500, pixels: solid(4, 2, [255, 255, 255]) }).layers[0]?.styleOf, undefined);
  assert.equal(plan.layers[0]?.pixels().data[3], 0);
  const ink = whiteToAlpha(solid(1, 1, [0, 0, 0]));
  assert.deepEqual(Array.from(ink.data), [0, 0, 0, 255]);
  const grey = whiteToAlpha(solid(1, 1, [128, 128, 128]));
  // Grey over white: black at ~50 % alpha composites back to the same grey.
  assert.equal(grey.data[0], 0);
  assert.ok(Math.abs((grey.data[3] ?? 0) - 127) <= 1);
});

test('history: states up to the active one, no snapshots, evenly thinned keeping first and last', () => {
  const states = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `s${i + 1}`, snapshot: i === 0 }));
  assert.deepEqual(pickHistoryStates(states, 6, 100), [2, 3, 4, 5, 6], 'redo states after the active one are not part of the process');
  assert.deepEqual(pickHistoryStates(states, undefined, 3), [2, 6, 10]);
  const frames = [
    { stateId: 1, name: 'a', pixels: solid(2, 2, [0, 0, 0]) },
    { stateId: 2, name: 'b', pixels: solid(2, 2, [0, 0, 0]) },
    { stateId: 3, name: 'c', pixels: solid(4, 4, [200, 0, 0]) },
  ];
  const seq = recordedSequence(frames);
  assert.deepEqual(seq.names, ['a', 'c']);
  assert.equal(seq.dropped, 1);
  assert.equal(seq.frames[1]?.width, 2, 'frames are brought to the first frame size');
});

test('pixels: PNG round trip, fitting, resizing, base64 without btoa', async () => {
  const img = solid(5, 3, [1, 2, 3]);
  const back = decodePng(encodePng(img));
  assert.deepEqual(back, img);
  const fromSharp = decodePng(new Uint8Array(await sharp({ create: { width: 3, height: 2, channels: 4, background: { r: 9, g: 8, b: 7, alpha: 0.5 } } }).png().toBuffer()));
  assert.equal(fromSharp.channels, 4);
  assert.deepEqual(Array.from(fromSharp.data.subarray(0, 4)), [9, 8, 7, 128]);
  const grey16 = decodePng(new Uint8Array(await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).toColourspace('grey16').png().toBuffer()));
  assert.equal(grey16.channels, 3);
  assert.ok(Math.abs((grey16.data[0] ?? 0) - 128) <= 1);
  assert.deepEqual(fitSize(4000, 2000, 1000), { width: 1000, height: 500 });
  assert.deepEqual(fitSize(400, 200, 1000), { width: 400, height: 200 });
  assert.deepEqual(resize(solid(4, 4, [50, 60, 70]), 2, 2).data.subarray(0, 3), new Uint8Array([50, 60, 70]));
  assert.equal(resize(solid(1, 1, [50, 60, 70]), 3, 3).data.length, 27);
  assert.throws(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }), /Expected 2x2x3 = 12 bytes but received 5/);
  for (const n of [0, 1, 2, 3, 4, 100, 70000]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 37) % 256);
    assert.equal(bytesToBase64(bytes), Buffer.from(bytes).toString('base64'));
  }
});

test('connection texts give the fix for each state; errors are explained in plain words', () => {
  assert.match(describeConnection('disconnected', 7439).fix, /paints-undo serve --port 7439/);
  assert.match(describeConnection('version-mismatch', 7439, 'engine speaks protocol 2').fix, /protocol 2.*Update the engine/);
  assert.equal(describeConnection('connected', 7439).tone, 'ok');
  assert.equal(explain(new HostError('NO_SELECTION', 'Nothing is selected; make a selection.')), 'Nothing is selected; make a selection.');
  assert.equal(explain(new EngineError('INPUT_TOO_LARGE', 'The image is too large.', { hint: 'Pick a smaller output size.' })), 'The image is too large. Pick a smaller output size.');
  assert.equal(layerNameFromFile('02-line-art.png'), 'Line art');
  assert.equal(layerNameFromFile('05-flats.png'), 'Flats');
});

test("process layer files: from the job's manifest with blend modes and visibility; without one (an older engine) the PNGs in order as visible normal layers; a broken one is an error", async () => {
  const png = (name: string): ResultFile => ({ name, mime: 'image/png', bytes: 1 });
  const files = [png('01-layin.png'), png('02-sketch.png'), png('composite.png'), { name: 'layers.json', mime: 'application/json', bytes: 1 }];
  const manifest = {
    format: 'paints-undo-layers', version: 1, width: 4, height: 4, composite: 'composite.png', backend: 'classic', backendVersion: '1.0.0', seed: 1,
    layers: [
      { file: '01-layin.png', id: 'layin', name: 'Lay-in', blend: 'normal', visible: true },
      { file: '02-sketch.png', id: 'sketch', name: 'Sketch', blend: 'multiply', visible: false },
    ],
  };
  const from = (text: string) => layerEntries(files, async () => text);
  assert.deepEqual(
    (await from(JSON.stringify(manifest))).map((e) => [e.file.name, e.name, e.blend, e.visible]),
    [['01-layin.png', 'Lay-in', 'normal', true], ['02-sketch.png', 'Sketch', 'multiply', false]],
  );
  assert.deepEqual(
    (await layerEntries(files.slice(0, 3), () => Promise.reject(new Error('no manifest to read')))).map((e) => [e.file.name, e.name, e.blend, e.visible]),
    [['01-layin.png', 'Layin', 'normal', true], ['02-sketch.png', 'Sketch', 'normal', true]],
  );
  await assert.rejects(from('{ broken'), (e: unknown) => e instanceof EngineError && e.code === 'INTERNAL' && /layers.json is not JSON/.test(e.message));
  await assert.rejects(from(JSON.stringify({ ...manifest, layers: [{ ...manifest.layers[0], blend: 'screen' }] })), (e: unknown) => e instanceof EngineError && /layers\.0\.blend/.test(e.message));
  await assert.rejects(from(JSON.stringify({ ...manifest, layers: [{ ...manifest.layers[0], file: '09-gone.png' }] })), (e: unknown) => e instanceof EngineError && /09-gone\.png/.test(e.message));
});
