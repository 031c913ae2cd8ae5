/**
 * Big canvases through the engine service over loopback, as the Photoshop panel sees them: the artwork
 * is uploaded as a PNG (HTTP POST /images), then the slider asks for frames at its display size
 * (PREVIEW px on the long side) and downloads each PNG. "First frame" is upload + decode + plan + render
 * + download of the first slider frame; "further step" is one uncached step of the scrubbing that follows.
 * The 6000x4000 case also exports one full-resolution frame (what an import into Photoshop asks for);
 * its row is about peak memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { EngineClient } from '../engine/src/client/client.js';
import { nodeWebSocketTransport } from '../engine/src/client/node.js';
import { Engine } from '../engine/src/service/engine.js';
import { listen } from '../engine/src/service/http.js';
import { benchmarkSource } from './sample.js';
import { percentile, scrubSteps } from './stats.js';
import type { BenchmarkCase, BenchmarkSuite } from './types.js';

const TOKEN = 'c'.repeat(64);
/** A panel about 500 px wide on a 2x display. */
const PREVIEW = 1024;
/** Where the slider starts: a step the scrubbing that follows does not ask again (it would be cached). */
const FIRST_STEP = 501;

async function withEngine<T>(work: (client: EngineClient) => Promise<T>): Promise<T> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'pu-bench-canvas-'));
  const engine = await Engine.start({ cacheDir, token: TOKEN, workers: 2 });
  const listener = await listen(engine, { port: 0, host: '127.0.0.1' });
  const client = new EngineClient({ transport: nodeWebSocketTransport(listener.url), token: TOKEN, reconnect: false });
  try {
    await client.connect();
    return await work(client);
  } finally {
    client.close();
    await listener.close();
    await engine.shutdown();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function artworkPng(width: number, height: number): Promise<Buffer> {
  const source = await benchmarkSource(width, height);
  return sharp(source.image.data, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}

function canvasCase(width: number, height: number, targets: Readonly<Record<string, number>>, exportFull: boolean): BenchmarkCase {
  return {
    id: `${width}x${height}`,
    label: `${width}x${height}, slider at ${PREVIEW} px${exportFull ? ', one full-size export' : ''}`,
    targets,
    async run() {
      const png = await artworkPng(width, height);
      return withEngine(async (client) => {
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
    { key: 'first', label: 'first frame (upload+plan+render)', unit: 's' },
    { key: 'furtherP50', label: 'further step p50', unit: 'ms' },
    { key: 'furtherP95', label: 'further step p95', unit: 'ms' },
    { key: 'full', label: 'full-size export frame', unit: 's' },
  ],
  cases: [canvasCase(4096, 4096, { first: 2, furtherP95: 300 }, false), canvasCase(6000, 4000, { peakRss: 2048 }, true)],
};
