/**
 * Big canvases through the engine service over loopback. The 4096x4096 canvas is uploaded as the Photoshop
 * panel sends it (uxp-plugin/src/panel/source.ts): raw pixels when they fit the engine's upload limit, else
 * a PNG from the panel's own pure-JS encoder, its time included (UXP runs V8, as Node does). The 6000x4000
 * canvas is uploaded as a file client (CLI, editor extension) sends an image file: the PNG as it is, at full
 * size (the panel would read it at the engine's 4096 px working size); its row is about peak memory, and it
 * also exports one full-resolution frame (what an import into Photoshop asks for).
 * Then the slider asks for frames at its display size (PREVIEW px on the long side) and downloads each PNG.
 * "First frame" is upload + decode + plan + render + download of the first slider frame; "further step" is
 * one uncached step of the scrubbing that follows. The canvas comes once the engine has warmed up, as to an
 * engine started with Photoshop; the "engine just started" row sends it at once (both in loopback.ts).
 */
import type { EngineClient, PutImageResult, RawPixels } from '../engine/src/client/index.js';
import { encodePng } from '../uxp-plugin/src/model/pixels.js';
import { benchmarkSource } from './sample.js';
import { benchmarkPng, withLoopbackClient } from './loopback.js';
import { percentile, scrubSteps } from './stats.js';
import type { BenchmarkCase, BenchmarkSuite } from './types.js';

/** A panel about 500 px wide on a 2x display. */
const PREVIEW = 1024;
/** Where the slider starts: a step the scrubbing that follows does not ask again (it would be cached). */
const FIRST_STEP = 501;

/** As the panel uploads (uxp-plugin/src/panel/source.ts): raw pixels when they fit the engine's upload limit, else its own PNG. */
function panelUpload(client: EngineClient, pixels: RawPixels & { data: Uint8Array }): Promise<PutImageResult> {
  const raw = pixels.data.length <= (client.info?.limits.maxUploadBytes ?? 0);
  return raw ? client.putPixels(pixels) : client.putImage(encodePng(pixels));
}

/** How the canvas reaches the engine: as the panel sends it, or as an image file (see the module comment). */
type Upload = 'panel' | 'file';

/** `fresh`: the canvas comes right after the engine started, before its workers warmed up (see loopback.ts). */
function canvasCase(width: number, height: number, upload: Upload, targets: Readonly<Record<string, number>>, exportFull: boolean, fresh = false): BenchmarkCase {
  return {
    id: `${width}x${height}${fresh ? '-fresh' : ''}`,
    label: `${width}x${height} ${upload === 'panel' ? 'from the panel' : 'as a PNG file'}, slider at ${PREVIEW} px${exportFull ? ', one full-size export' : ''}${fresh ? ', engine just started' : ''}`,
    targets,
    async run() {
      // Only what the client holds: the panel its canvas's pixels, a file client the file (the peak RSS is this process's).
      const file = upload === 'file' ? await benchmarkPng(width, height) : undefined;
      const canvas = file ? undefined : (await benchmarkSource(width, height)).image;
      return withLoopbackClient('canvas', async (client) => {
        const frame = async (step: number, size?: number): Promise<number> => {
          const start = performance.now();
          const job = await client.run('frame', { image, step, slider: 'bench', ...(size === undefined ? {} : { size }) });
          await client.download(job.result!.files[0]!);
          return performance.now() - start;
        };
        const t0 = performance.now();
        const put = canvas ? panelUpload(client, { width, height, channels: 3, data: canvas.data }) : client.putImage(file!);
        const image = (await put).image;
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
      }, { fresh });
    },
  };
}

export const suite: BenchmarkSuite = {
  id: 'canvas',
  title: `Big canvases over loopback (engine, 2 workers): upload + first slider frame, then uncached steps, at ${PREVIEW} px`,
  columns: [
    { key: 'upload', label: 'upload (panel: raw, or its PNG encode + upload)', unit: 's' },
    { key: 'first', label: 'first frame (upload+plan+render)', unit: 's' },
    { key: 'furtherP50', label: 'further step p50', unit: 'ms' },
    { key: 'furtherP95', label: 'further step p95', unit: 'ms' },
    { key: 'full', label: 'full-size export frame', unit: 's' },
  ],
  cases: [
    canvasCase(4096, 4096, 'panel', { first: 2, furtherP95: 300 }, false),
    canvasCase(4096, 4096, 'panel', {}, false, true),
    canvasCase(6000, 4000, 'file', { peakRss: 2048 }, true),
  ],
};
