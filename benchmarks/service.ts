/**
 * Slider latency through the engine service over loopback, as the Photoshop panel sees it: a `frame`
 * request on a WebSocket, the job.done event, then the PNG downloaded over HTTP. Uncached = the image's
 * plan is warm but the step was never rendered; cached = the same step asked again (served from the
 * result cache, no backend work). Targets from issue 3: uncached p95 < 300 ms, cached p95 < 30 ms.
 *
 * Suite module for benchmarks/run.ts (export `suite`); also runnable alone:
 *   node --import tsx benchmarks/service.ts
 */
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { benchmarkPng, withLoopbackClient } from './loopback.js';
import { percentile, scrubSteps } from './stats.js';
import type { BenchmarkCase, BenchmarkSuite } from './types.js';

function sliderCase(width: number, height: number): BenchmarkCase {
  return {
    id: `loopback-${width}x${height}`,
    label: `${width}x${height} over WebSocket + HTTP`,
    targets: { uncachedP95: 300, cachedP95: 30 },
    async run() {
      return withLoopbackClient('service', async (client) => {
        const image = (await client.putImage(await benchmarkPng(width, height))).image;
        const planStart = performance.now();
        await client.run('frame', { image, step: 999 });
        const plan = (performance.now() - planStart) / 1000;
        const once = async (step: number): Promise<number> => {
          const start = performance.now();
          const job = await client.run('frame', { image, step, slider: 'bench' });
          await client.download(job.result!.files[0]!);
          return performance.now() - start;
        };
        // The engine's event loop must stay free while workers render (the client shares this loop, so
        // this is an upper bound for the engine alone).
        const loop = monitorEventLoopDelay({ resolution: 5 });
        loop.enable();
        const uncached: number[] = [];
        for (const step of scrubSteps()) uncached.push(await once(step));
        loop.disable();
        const cached: number[] = [];
        for (const step of scrubSteps()) cached.push(await once(step));
        return {
          plan,
          uncachedP50: percentile(uncached, 50),
          uncachedP95: percentile(uncached, 95),
          cachedP50: percentile(cached, 50),
          cachedP95: percentile(cached, 95),
          loopDelayMax: loop.max / 1e6,
        };
      });
    },
  };
}

export const suite: BenchmarkSuite = {
  id: 'service',
  title: 'Engine service: slider frame latency over loopback (request -> job.done -> PNG downloaded), classic backend, plan warm',
  columns: [
    { key: 'plan', label: 'first frame (plan)', unit: 's' },
    { key: 'uncachedP50', label: 'uncached p50', unit: 'ms' },
    { key: 'uncachedP95', label: 'uncached p95', unit: 'ms' },
    { key: 'cachedP50', label: 'cached p50', unit: 'ms' },
    { key: 'cachedP95', label: 'cached p95', unit: 'ms' },
    { key: 'loopDelayMax', label: 'event-loop delay max (uncached)', unit: 'ms' },
  ],
  cases: [sliderCase(1024, 1280)],
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const c of suite.cases) {
    const result = await c.run();
    process.stdout.write(`${c.label}: ${JSON.stringify(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, Math.round(v * 10) / 10])))} targets ${JSON.stringify(c.targets)}\n`);
  }
}
