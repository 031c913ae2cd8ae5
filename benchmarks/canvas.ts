/**
 * Big canvases through the engine service over loopback, as the Photoshop panel sees them: the panel sends
 * its canvas as raw pixels when they fit the engine's upload limit, else it encodes a PNG with its own
 * pure-JS encoder first (uxp-plugin/src/panel/source.ts; UXP runs V8, as Node does). Then the slider asks
 * for frames at its display size (PREVIEW px on the long side) and downloads each PNG. "First frame" is
 * that encode (if any, also shown alone) + upload + decode + plan + render + download of the first slider
 * frame; "further step" is one uncached step of the scrubbing that follows. The 6000x4000 case also
 * exports one full-resolution frame (what an import into Photoshop asks for); its row is about peak memory.
 */
import { encodePng } from '../uxp-plugin/src/model/pixels.js';
import { benchmarkSource } from './sample.js';
import { withLoopbackClient } from './loopback.js';
import { percentile, scrubSteps } from './stats.js';
import type { BenchmarkCase, BenchmarkSuite } from './types.js';

/** A panel about 500 px wide on a 2x display. */
const PREVIEW = 1024;
/** Where the slider starts: a step the scrubbing that follows does not ask again (it would be cached). */
const FIRST_STEP = 501;

function canvasCase(width: number, height: number, targets: Readonly<Record<string, number>>, exportFull: boolean): BenchmarkCase {
  return {
    id: `${width}x${height}`,
    label: `${width}x${height}, slider at ${PREVIEW} px${exportFull ? ', one full-size export' : ''}`,
    targets,
    async run() {
      const canvas = (await benchmarkSource(width, height)).image;
      return withLoopbackClient('canvas', async (client) => {
        const frame = async (step: number, size?: number): Promise<number> => {
          const start = performance.now();
          const job = await client.run('frame', { image, step, slider: 'bench', ...(size === undefined ? {} : { size }) });
          await client.download(job.result!.files[0]!);
          return performance.now() - start;
        };
        const pixels = { width, height, channels: 3 as const, data: canvas.data };
        const raw = pixels.data.length <= (client.info?.limits.maxUploadBytes ?? 0);
        const t0 = performance.now();
        const image = (raw ? await client.putPixels(pixels) : await client.putImage(encodePng(pixels))).image;
        const upload = (performance.now() - t0) / 1000;
        await frame(FIRST_STEP, PREVIEW);
        const first = (performance.now() - t0) / 1000;
        const further: number[] = [];
        for (const step of scrubSteps()) further.push(await frame(step, PREVIEW));
        const full = exportFull ? (await frame(300)) / 1000 : undefined;
        return {
          upload,
          first,
          furtherP50: percentile(further, 50),
          furtherP95: percentile(further, 95),
          ...(full === undefined ? {} : { full }),
        };
      });
    },
  };
}

export const suite: BenchmarkSuite = {
  id: 'canvas',
  title: `Big canvases over loopback (engine, 2 workers), uploaded as the panel does: first slider frame, then uncached steps, at ${PREVIEW} px`,
  columns: [
    { key: 'upload', label: 'upload (raw, or panel PNG encode + upload)', unit: 's' },
    { key: 'first', label: 'first frame (upload+plan+render)', unit: 's' },
    { key: 'furtherP50', label: 'further step p50', unit: 'ms' },
    { key: 'furtherP95', label: 'further step p95', unit: 'ms' },
    { key: 'full', label: 'full-size export frame', unit: 's' },
  ],
  cases: [canvasCase(4096, 4096, { first: 2, furtherP95: 300 }, false), canvasCase(6000, 4000, { peakRss: 2048 }, true)],
};
