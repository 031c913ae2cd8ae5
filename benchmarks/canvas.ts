/**
 * Big canvases through the engine service over loopback, as the Photoshop panel sees them: the artwork
 * is uploaded as a PNG (HTTP POST /images), then the slider asks for frames at its display size
 * (PREVIEW px on the long side) and downloads each PNG. "First frame" is upload + decode + plan + render
 * + download of the first slider frame; "further step" is one uncached step of the scrubbing that follows.
 * The 6000x4000 case also exports one full-resolution frame (what an import into Photoshop asks for);
 * its row is about peak memory.
 * "Panel PNG encode" is not part of the first frame: it is what the panel spends before the upload,
 * encoding the canvas with its own pure-JS encoder (uxp-plugin/src/model/pixels.ts; UXP runs V8 too).
 */
import { encodePng } from '../uxp-plugin/src/model/pixels.js';
import { benchmarkSource } from './sample.js';
import { benchmarkPng, withLoopbackClient } from './loopback.js';
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
      const png = await benchmarkPng(width, height);
      const canvas = (await benchmarkSource(width, height)).image;
      const encodeStart = performance.now();
      encodePng({ width, height, channels: 3, data: canvas.data });
      const panelEncode = (performance.now() - encodeStart) / 1000;
      return withLoopbackClient('canvas', async (client) => {
        const frame = async (step: number, size?: number): Promise<number> => {
          const start = performance.now();
          const job = await client.run('frame', { image, step, slider: 'bench', ...(size === undefined ? {} : { size }) });
          await client.download(job.result!.files[0]!);
          return performance.now() - start;
        };
        const t0 = performance.now();
        const image = (await client.putImage(png)).image;
        await frame(FIRST_STEP, PREVIEW);
        const first = (performance.now() - t0) / 1000;
        const further: number[] = [];
        for (const step of scrubSteps()) further.push(await frame(step, PREVIEW));
        const full = exportFull ? (await frame(300)) / 1000 : undefined;
        return {
          panelEncode,
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
  title: `Big canvases over loopback (engine, 2 workers): upload + first slider frame, then uncached steps, at ${PREVIEW} px`,
  columns: [
    { key: 'panelEncode', label: 'panel PNG encode (before upload)', unit: 's' },
    { key: 'first', label: 'first frame (upload+plan+render)', unit: 's' },
    { key: 'furtherP50', label: 'further step p50', unit: 'ms' },
    { key: 'furtherP95', label: 'further step p95', unit: 'ms' },
    { key: 'full', label: 'full-size export frame', unit: 's' },
  ],
  cases: [canvasCase(4096, 4096, { first: 2, furtherP95: 300 }, false), canvasCase(6000, 4000, { peakRss: 2048 }, true)],
};
