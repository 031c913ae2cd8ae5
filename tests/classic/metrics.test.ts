import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planTimeline } from '../../engine/src/backends/classic/index.js';
import { DEFAULT_THRESHOLDS, checkMetrics, measureTimeline } from '../../engine/src/eval/metrics.js';
import { SAMPLES, loadSample } from './helpers.js';

// The eval thresholds (engine/src/eval/metrics.ts) the classic backend meets on the shared samples,
// kept as a test so a planner change that breaks one of them fails here, not only in `paints-undo eval`.
describe('classic process metrics', () => {
  it('meets every eval threshold on a sample illustration', async () => {
    const source = await loadSample(SAMPLES[2]!, 512);
    const timeline = planTimeline(source, 12345);
    const metrics = await measureTimeline(timeline, source.image);
    const failed = checkMetrics(metrics, DEFAULT_THRESHOLDS).filter((c) => !c.pass);
    assert.deepEqual(
      failed.map((c) => `${c.id}: ${String(c.value)} (limit ${String(c.limit)})`),
      [],
    );
    // Lines come before colour, as in a line-art illustration.
    assert.equal(metrics.process.lineColour.applicable, true);
    assert.equal(metrics.process.lineColour.linesFirst, true);
    assert.ok(metrics.process.idle.count <= 10, `${metrics.process.idle.count} idle operations`);
  });
});
