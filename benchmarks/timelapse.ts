/**
 * Timelapse of 100 frames with the classic backend, through the product's own code: its timelapse frames
 * are streamed into the product's MP4 encoder, which starts ffmpeg and the encoder thread while the backend
 * plans ("plan": the time to the first frame, the plan and that frame). ffmpeg encodes in its own process
 * while frames render, so "encode" is the time the pipeline spends beyond rendering (waiting on ffmpeg,
 * and its final flush).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quietContext, type FrameBuffers } from '../engine/src/core/backend.js';
import type { RgbImage } from '../engine/src/core/image.js';
import { DEFAULT_SEED } from '../engine/src/core/job.js';
import { createClassicBackend } from '../engine/src/backends/classic/index.js';
import { makeProvenance } from '../engine/src/io/provenance.js';
import { outputSize } from '../engine/src/core/image.js';
import { videoSize, writeVideoFile } from '../engine/src/io/video.js';
import { findFfmpeg } from '../engine/src/io/ffmpeg.js';
import { benchmarkSource } from './sample.js';
import type { BenchmarkCase, BenchmarkSuite } from './types.js';

const FRAMES = 100;

/** `runs`: fresh processes to take the median of; `videoLong`: long side of the video (default the input's own size). */
function timelapseCase(width: number, height: number, totalTarget: number, runs: number, videoLong?: number): BenchmarkCase {
  return {
    id: `${width}x${height}${videoLong ? `-${videoLong}p` : ''}`,
    label: `${width}x${height}${videoLong ? ` to ${videoLong} px` : ''}`,
    targets: { total: totalTarget, peakRss: 1024 },
    runs,
    async run() {
      const source = await benchmarkSource(width, height);
      const video = videoSize(width, height, 'mp4', videoLong);
      const size = Math.max(video.width, video.height);
      const frameSize = outputSize(width, height, size);
      const backend = createClassicBackend();
      const context = quietContext();
      const folder = await mkdtemp(join(tmpdir(), 'paints-undo-bench-'));
      try {
        // The product finds ffmpeg before it decodes and plans (jobs/run.ts preflight): not part of this pipeline.
        await findFfmpeg();
        // As in the product (jobs/video-writer.ts), ffmpeg starts first and the backend plans when the
        // encoder asks for the first frame: "plan" is the time to the first frame.
        const t0 = performance.now();
        let firstFrame = 0;
        let rendering = 0;
        // Times each frame's production (rendering, into the encoder's lent buffers as in the product's
        // timelapse job) separately from the time the encoder holds the pipeline, waiting for a free
        // slot of its ring included.
        async function* timed(encoder: FrameBuffers): AsyncGenerator<RgbImage> {
          let waited = 0;
          const frameBuffers: FrameBuffers = {
            bytes: encoder.bytes,
            async take() {
              const start = performance.now();
              const slot = await encoder.take();
              waited += performance.now() - start;
              return slot;
            },
          };
          const frames = backend.timelapse({ source, seed: DEFAULT_SEED, frames: FRAMES, direction: 'draw', size, frameBuffers }, context);
          const iterator = frames[Symbol.asyncIterator]();
          while (true) {
            const start = performance.now();
            waited = 0;
            const next = await iterator.next();
            if (firstFrame === 0) firstFrame = performance.now();
            else rendering += performance.now() - start - waited;
            if (next.done) return;
            yield next.value;
          }
        }
        const output = join(folder, 'bench.mp4');
        const encoded = await writeVideoFile(output, timed, {
          format: 'mp4',
          width: frameSize.width,
          height: frameSize.height,
          outWidth: video.width,
          outHeight: video.height,
          fps: 25,
          totalFrames: FRAMES,
          provenance: makeProvenance({ backend: backend.id, backendVersion: backend.version, seed: DEFAULT_SEED, source: source.id }),
        });
        const t2 = performance.now();
        if (encoded !== FRAMES || (await stat(output)).size === 0) throw new Error(`encoded ${encoded} frames`);
        return {
          plan: (firstFrame - t0) / 1000,
          renderPerFrame: rendering / (FRAMES - 1),
          encode: (t2 - firstFrame - rendering) / 1000,
          total: (t2 - t0) / 1000,
        };
      } finally {
        await backend.dispose();
        await rm(folder, { recursive: true, force: true });
      }
    },
  };
}

export const suite: BenchmarkSuite = {
  id: 'timelapse',
  title: `Timelapse, ${FRAMES} frames to MP4 (classic backend, plan + render + encode)`,
  columns: [
    { key: 'plan', label: 'plan', unit: 's' },
    { key: 'renderPerFrame', label: 'render/frame', unit: 'ms' },
    { key: 'encode', label: 'encode', unit: 's' },
    { key: 'total', label: 'total', unit: 's' },
  ],
  // A few seconds each: medians of several runs (see BenchmarkCase.runs).
  cases: [timelapseCase(512, 640, 1.5, 5), timelapseCase(1024, 1280, 3, 5), timelapseCase(4096, 4096, 15, 3, 1080)],
};
