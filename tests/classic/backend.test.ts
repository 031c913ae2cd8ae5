import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectKeyframes, quietContext, type Progress } from '../../engine/src/core/backend.js';
import { isPaintsUndoError } from '../../engine/src/core/errors.js';
import { maxAbsDifference, type RgbImage } from '../../engine/src/core/image.js';
import { createClassicBackend } from '../../engine/src/backends/classic/index.js';
import { planBytes, type PreparedPlan } from '../../engine/src/core/replay.js';
import { SAMPLES, fromSvg, hashImage, loadSample, meanAbsDifference, nonWhiteFraction, transparentSvg } from './helpers.js';

const isCode = (code: string) => (error: unknown) => isPaintsUndoError(error) && error.code === code;

describe('classic backend', () => {
  it('declares its capabilities', () => {
    const backend = createClassicBackend();
    assert.equal(backend.id, 'classic');
    assert.deepEqual(backend.capabilities, {
      frame: true,
      keyframes: true,
      interpolate: true,
      timelapse: true,
      layers: true,
      preview: true,
      device: 'cpu',
    });
  });

  it('renders frames, keyframes and a timelapse from one plan, with progress', async () => {
    const source = await loadSample(SAMPLES[1]!, 320);
    const backend = createClassicBackend();
    const events: Progress[] = [];
    const context = { signal: new AbortController().signal, onProgress: (p: Progress) => events.push(p) };
    const last = await backend.frame({ source, step: 0, seed: 5 }, context);
    assert.ok(maxAbsDifference(last, source.image) <= 1);
    assert.ok(events.some((e) => e.stage === 'analysing') && events.some((e) => e.stage === 'planning'));
    assert.ok(events.some((e) => e.preview !== undefined && e.preview.width <= 160));
    for (let k = 1; k < events.length; k++) assert.ok(events[k]!.fraction >= events[k - 1]!.fraction - 1e-9, 'progress went backwards');

    // The second call reuses the plan: no planning progress at all.
    events.length = 0;
    const streamed = await collectKeyframes(backend.keyframes({ source, steps: [999, 400, 950, 0], seed: 5 }, context));
    // Rendered from blank towards finished, each step once.
    assert.deepEqual(streamed.map((k) => k.step), [999, 950, 400, 0]);
    const keyframes = [999, 400, 950, 0].map((step) => streamed.find((k) => k.step === step)!);
    assert.ok(!events.some((e) => e.stage === 'planning' || e.stage === 'analysing'), 'the plan was not reused');
    assert.ok(nonWhiteFraction(keyframes[0]!.image) <= 0.01);
    assert.equal(hashImage(keyframes[3]!.image), hashImage(last));
    const single = await backend.frame({ source, step: 400, seed: 5 }, quietContext());
    assert.equal(hashImage(single), hashImage(keyframes[1]!.image));

    const frames: RgbImage[] = [];
    for await (const f of backend.timelapse({ source, seed: 5, frames: 12, direction: 'draw' }, quietContext())) frames.push(f);
    assert.equal(frames.length, 12);
    assert.ok(nonWhiteFraction(frames[0]!) <= 0.01);
    assert.ok(maxAbsDifference(frames[11]!, source.image) <= 1);
    // Frames approach the finished image overall.
    assert.ok(meanAbsDifference(frames[3]!, source.image) > meanAbsDifference(frames[8]!, source.image));
    const undo: RgbImage[] = [];
    for await (const f of backend.timelapse({ source, seed: 5, frames: 12, direction: 'undo' }, quietContext())) undo.push(f);
    assert.equal(hashImage(undo[0]!), hashImage(frames[11]!));
    await backend.dispose();
  });

  it('exports a useful layer decomposition', async () => {
    const source = await fromSvg(transparentSvg(240, 320));
    const backend = createClassicBackend();
    const stack = await backend.layers({ source, seed: 2 }, quietContext());
    assert.equal(stack.width, 240);
    assert.equal(stack.height, 320);
    assert.deepEqual(stack.layers.map((l) => l.id), ['sketch', 'flats', 'shading', 'rendering', 'lineart', 'final']);
    const byId = new Map(stack.layers.map((l) => [l.id, l]));
    assert.equal(byId.get('sketch')!.visible, false, 'the sketch is hidden in the finished piece');
    // Line art: dark lines on transparency.
    const lines = byId.get('lineart')!.image.data;
    let opaque = 0;
    let transparent = 0;
    let darkOpaque = 0;
    for (let p = 0; p < lines.length; p += 4) {
      if (lines[p + 3] === 0) transparent++;
      if (lines[p + 3]! > 200) {
        opaque++;
        if (lines[p]! + lines[p + 1]! + lines[p + 2]! < 3 * 110) darkOpaque++;
      }
    }
    assert.ok(transparent > lines.length / 4 / 2, 'line art should be mostly transparent');
    assert.ok(opaque > 200 && darkOpaque / opaque > 0.8, `line art should be dark lines (${darkOpaque}/${opaque})`);
    // Flats: clean regions of a handful of flat colours; the paper-white background is left unpainted.
    const flats = byId.get('flats')!.image.data;
    const colours = new Map<number, number>();
    let painted = 0;
    for (let p = 0; p < flats.length; p += 4) {
      if (flats[p + 3] === 0) continue;
      assert.equal(flats[p + 3], 255, 'a flat region is either painted or not');
      painted++;
      const c = (flats[p]! << 16) | (flats[p + 1]! << 8) | flats[p + 2]!;
      colours.set(c, (colours.get(c) ?? 0) + 1);
    }
    assert.ok(painted > flats.length / 4 / 3, 'the flats should cover the figure');
    assert.ok(painted < flats.length / 4, 'the paper-white background should stay unpainted');
    // A handful of colours carry the flats (slivers under the outline aside).
    const main = [...colours.values()].filter((c) => c >= painted * 0.01).length;
    assert.ok(main >= 3 && main <= 12, `flats should be a few flat colours, got ${main} covering 1% or more`);
    await backend.dispose();
  });

  it('interpolates between two states of the same size and refuses different sizes', async () => {
    const to = await loadSample(SAMPLES[0]!, 256);
    const sketchLike = await loadSample(SAMPLES[0]!, 256);
    // The "from" state: the same picture washed out to a light pencil-like grey.
    const data = sketchLike.image.data.slice();
    for (let i = 0; i < data.length; i += 3) {
      const l = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      const v = Math.round(255 - (255 - l) * 0.35);
      data[i] = v;
      data[i + 1] = v;
      data[i + 2] = v;
    }
    const from = { id: 'f'.repeat(64), image: { ...sketchLike.image, data } };
    const backend = createClassicBackend();
    const frames = await backend.interpolate({ from, to, frames: 6, seed: 1 }, quietContext());
    assert.equal(frames.length, 6);
    const toDist = frames.map((f) => meanAbsDifference(f, to.image));
    const fromDist = frames.map((f) => meanAbsDifference(f, from.image));
    assert.ok(fromDist[0]! < toDist[0]!, 'the first frame should be close to the earlier state');
    assert.ok(toDist[5]! < fromDist[5]!, 'the last frame should be close to the later state');
    for (let k = 1; k < frames.length; k++) assert.ok(toDist[k]! <= toDist[k - 1]! + 0.5, 'frames should approach the later state');

    const other = await loadSample(SAMPLES[0]!, 200);
    await assert.rejects(backend.interpolate({ from: other, to, frames: 4, seed: 1 }, quietContext()), (error: unknown) => {
      assert.ok(isPaintsUndoError(error) && error.code === 'INVALID_OPTION');
      assert.match(error.message, /same size/);
      assert.match(error.hint ?? '', /Resize/);
      return true;
    });
    await backend.dispose();
  });

  it('honours the AbortSignal while planning and while rendering a timelapse', async () => {
    const source = await loadSample(SAMPLES[2]!, 256);
    const backend = createClassicBackend();
    const controller = new AbortController();
    const context = {
      signal: controller.signal,
      onProgress: (p: Progress) => {
        if (p.stage === 'planning') controller.abort();
      },
    };
    await assert.rejects(backend.frame({ source, step: 10, seed: 9 }, context), isCode('CANCELLED'));
    // A cancelled plan is not cached as a failure: the next call plans again and succeeds.
    const image = await backend.frame({ source, step: 0, seed: 9 }, quietContext());
    assert.ok(maxAbsDifference(image, source.image) <= 1);

    const during = new AbortController();
    let count = 0;
    await assert.rejects(async () => {
      for await (const _frame of backend.timelapse({ source, seed: 9, frames: 30, direction: 'draw' }, quietContext(during.signal))) {
        if (++count === 3) during.abort();
      }
    }, isCode('CANCELLED'));
    assert.equal(count, 3);
    await backend.dispose();
  });

  it('shares a plan with what it holds, and forgets it on request', async () => {
    const source = await loadSample(SAMPLES[1]!, 320);
    const backend = createClassicBackend();
    try {
      assert.equal(backend.exportPlan!(source.id, 5), undefined, 'nothing planned yet');
      await backend.frame({ source, step: 500, seed: 5 }, quietContext());
      const shared = backend.exportPlan!(source.id, 5)!;
      const plan = shared.data as PreparedPlan;
      const snapshots = plan.snapshots.reduce((sum, s) => sum + s.reveal.buffer.byteLength, 0);
      assert.ok(shared.bytes >= snapshots + plan.dirty.byteLength, `${shared.bytes} bytes: at least the snapshots (${snapshots}) and the dirty boxes`);
      assert.ok(shared.bytes < snapshots + plan.dirty.byteLength + 8 * 1024 * 1024, 'and not much more: the stamps and layer parameters of a 320 px plan');
      // The source's pixels are the image store's, not the plan's: the same count with a 1 px source.
      const tiny = { width: 1, height: 1, channels: 3 as const, data: new Uint8Array(3) };
      assert.equal(planBytes({ ...plan, timeline: { ...plan.timeline, finished: tiny } }), shared.bytes);

      backend.forgetPlan!(source.id, 5);
      assert.equal(backend.exportPlan!(source.id, 5), undefined, 'forgotten');
      const events: Progress[] = [];
      await backend.frame({ source, step: 500, seed: 5 }, { signal: new AbortController().signal, onProgress: (p) => events.push(p) });
      assert.ok(events.some((e) => e.stage === 'planning'), 'the next frame plans again');
    } finally {
      await backend.dispose();
    }
  });
});
