/**
 * Many clients at once on one image, over loopback: 50 WebSocket clients each ask for 4 different
 * frames of one 1024 px image at the same moment (200 distinct uncached frames at full size, the image's
 * plan already made), and the time from each request to its job.done is measured. Nothing may be lost:
 * every frame must arrive, none may fail.
 */
import { benchmarkPng, withLoopbackEngine } from './loopback.js';
import { percentile } from './stats.js';
import type { BenchmarkCase, BenchmarkSuite } from './types.js';

const CLIENTS = 50;
const FRAMES_EACH = 4;

function loadCase(width: number, height: number): BenchmarkCase {
  return {
    id: `${CLIENTS}x${FRAMES_EACH}-${width}x${height}`,
    label: `${CLIENTS} clients x ${FRAMES_EACH} frames of one ${width}x${height} image`,
    targets: { p95: 5 },
    async run() {
      return withLoopbackEngine('load', CLIENTS + 1, async (clients) => {
        const uploader = clients[CLIENTS]!;
        const image = (await uploader.putImage(await benchmarkPng(width, height))).image;
        await uploader.run('frame', { image, step: 999 });
        // 200 distinct steps spread over the whole process, none of them 999.
        const latencies = await Promise.all(
          clients.slice(0, CLIENTS).flatMap((client, c) =>
            Array.from({ length: FRAMES_EACH }, async (_, k) => {
              const step = (c * FRAMES_EACH + k) * 4 + 1;
              const start = performance.now();
              const job = await client.run('frame', { image, step });
              if (job.state !== 'done' || job.result?.files[0]?.step !== step) throw new Error(`frame ${step} came back ${job.state}`);
              return (performance.now() - start) / 1000;
            }),
          ),
        );
        const stats = (await uploader.call('jobs.list')).stats;
        return {
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
          max: Math.max(...latencies),
          lost: CLIENTS * FRAMES_EACH - latencies.length + stats.failed + stats.cancelled,
        };
      });
    },
  };
}

export const suite: BenchmarkSuite = {
  id: 'load',
  title: `Load over loopback (engine, 2 workers): ${CLIENTS} clients x ${FRAMES_EACH} uncached full-size frames of one image at once, request -> job.done`,
  columns: [
    { key: 'p50', label: 'p50', unit: 's' },
    { key: 'p95', label: 'p95', unit: 's' },
    { key: 'max', label: 'max', unit: 's' },
    { key: 'lost', label: 'lost or failed', unit: 'count' },
  ],
  cases: [loadCase(1024, 1024)],
};
