/**
 * Layer contents made ahead on a thread of their own (backends/classic/contents-ahead.ts): a timelapse
 * renders the same frames with them as without, the thread really makes every layer, and a layer it cannot
 * make is made by the renderer, as it would be without the thread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quietContext } from '../../engine/src/core/backend.js';
import { defineContent, renderContent } from '../../engine/src/core/content.js';
import { TimelineRenderer } from '../../engine/src/core/renderer.js';
import { preparePlan } from '../../engine/src/core/replay.js';
import type { Timeline } from '../../engine/src/core/timeline.js';
import { createClassicBackend, planTimeline } from '../../engine/src/backends/classic/index.js';
import { CONTENTS_AHEAD_MIN_PIXELS, ContentsAhead } from '../../engine/src/backends/classic/contents-ahead.js';
import { hashImage, loadSample, SAMPLES } from './helpers.js';

const SIZE = { width: 640, height: 480 };
/** Big enough for a timelapse to start the thread. */
const BIG = { width: 1184, height: 888 };

describe('layer contents made ahead', () => {
  it('a timelapse renders the same frames as one that makes its layers itself', async () => {
    assert.ok(BIG.width * BIG.height >= CONTENTS_AHEAD_MIN_PIXELS, 'big enough for the thread');
    const source = await loadSample(SAMPLES[0]!, undefined, BIG);
    const frames = async (contentsAhead: boolean): Promise<string[]> => {
      const backend = createClassicBackend({ contentsAhead });
      const out: string[] = [];
      for await (const frame of backend.timelapse({ source, seed: 3, frames: 16, direction: 'draw' }, quietContext())) out.push(hashImage(frame));
      await backend.dispose();
      return out;
    };
    assert.deepEqual(await frames(true), await frames(false));
  });

  it('makes every layer the renderer has not made, equal to making it here', async () => {
    const source = await loadSample(SAMPLES[1]!, undefined, SIZE);
    const plan = preparePlan(planTimeline(source, 4));
    const renderer = new TimelineRenderer(plan);
    const ahead = new ContentsAhead();
    try {
      ahead.feed(renderer);
      plan.timeline.layers.forEach((layer, index) => {
        const made = ahead.take(index);
        assert.ok(made, `layer ${layer.id} made by the thread`);
        const here = renderContent(layer.content, { art: renderer.artwork, scale: renderer.outPerPlan });
        assert.deepEqual([made.width, made.height], [here.width, here.height]);
        assert.ok(Buffer.from(made.data).equals(Buffer.from(here.data)), `layer ${layer.id}: the same pixels`);
      });
    } finally {
      ahead.close();
    }
  });

  it('a layer the thread cannot make is made by the renderer', async () => {
    const source = await loadSample(SAMPLES[2]!, undefined, SIZE);
    const timeline = planTimeline(source, 5);
    // A producer registered on this thread only: the thread has no such producer.
    const mainOnly = defineContent<{ readonly shade: number }>('test.main-only', ({ shade }, { art }) => {
      const data = new Uint8Array(art.width * art.height * 4);
      for (let p = 0; p < art.width * art.height; p++) data.set([shade, 255 - shade, 90, 255], p * 4);
      return { width: art.width, height: art.height, channels: 4, data };
    });
    const last = timeline.layers.length - 1;
    const patched: Timeline = { ...timeline, layers: timeline.layers.map((l, i) => (i === last ? { ...l, content: mainOnly({ shade: 40 }) } : l)) };
    const fed = new TimelineRenderer(preparePlan(patched));
    const plain = new TimelineRenderer(preparePlan(patched));
    const ahead = new ContentsAhead();
    try {
      ahead.feed(fed);
      assert.equal(ahead.take(last), undefined, 'the thread failed it');
      for (const step of [700, 200, 0]) assert.equal(hashImage(fed.renderStep(step)), hashImage(plain.renderStep(step)), `step ${step}`);
    } finally {
      ahead.close();
    }
  });

  it('once closed, hands nothing more and the renderer makes its layers', async () => {
    const source = await loadSample(SAMPLES[0]!, undefined, SIZE);
    const plan = preparePlan(planTimeline(source, 6));
    const fed = new TimelineRenderer(plan);
    const ahead = new ContentsAhead();
    ahead.feed(fed);
    ahead.close();
    assert.equal(ahead.take(1), undefined);
    assert.equal(hashImage(fed.renderStep(0)), hashImage(new TimelineRenderer(plan).renderStep(0)));
  });
});
