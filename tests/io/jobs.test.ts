import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Backend, FrameBuffers, Progress, SourceImage } from '../../engine/src/core/backend.js';
import { createBackend } from '../../engine/src/backends/registry.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import type { RgbImage } from '../../engine/src/core/image.js';
import { parseOrThrow, JobInputSchema, type JobInput } from '../../engine/src/core/job.js';
import { decodeImageBuffer } from '../../engine/src/io/decode.js';
import { readPsd } from '../../engine/src/io/ag-psd.js';
import { startEncoder } from '../../engine/src/io/encoder.js';
import { findFfmpeg } from '../../engine/src/io/ffmpeg.js';
import { readPngText, PROVENANCE_KEYWORD } from '../../engine/src/io/png.js';
import { timelapseFrames, type TimelapseJob } from '../../engine/src/jobs/kinds/timelapse.js';
import { runJob, type JobEnvironment } from '../../engine/src/jobs/run.js';
import { SAMPLES, probe, rejection, tempFolder } from './helpers.js';

const dir = tempFolder();
let source: SourceImage;
// One backend for the file, as the service keeps one: its plan cache makes repeated jobs cheap.
let backend: Backend;

before(async () => {
  backend = await createBackend('classic');
  // A small real illustration keeps the classic planner quick.
  const png = await sharp(join(SAMPLES, '2.jpg')).resize({ width: 200 }).png().toBuffer();
  source = (await decodeImageBuffer(png)).source;
});
after(async () => {
  await backend.dispose();
});

function env(extra: Partial<JobEnvironment> = {}): JobEnvironment {
  return {
    resolveImage: (id) => {
      if (id !== source.id) throw new PaintsUndoError('INPUT_NOT_FOUND', `unknown image ${id}`);
      return source;
    },
    backend: async (id) => (id === 'classic' ? backend : createBackend(id)),
    ...extra,
  };
}

function job(fields: Record<string, unknown>): JobInput {
  return parseOrThrow(JobInputSchema, { image: source.id, ...fields });
}

function hash(image: RgbImage): string {
  return createHash('sha256').update(image.data).digest('hex').slice(0, 16);
}

async function collect(plan: { frames: AsyncIterable<RgbImage> | (() => AsyncIterable<RgbImage>) }): Promise<RgbImage[]> {
  const frames: RgbImage[] = [];
  for await (const f of typeof plan.frames === 'function' ? plan.frames() : plan.frames) frames.push(f);
  return frames;
}

test('timelapse frames: intro shows the finished artwork, hold repeats the last frame, same seed same frames', async () => {
  const input = job({ kind: 'timelapse', frames: 6, fps: 4, intro: 0.5, hold: 0.5 }) as TimelapseJob;
  const plan = await timelapseFrames(input, env());
  assert.deepEqual([plan.introFrames, plan.processFrames, plan.holdFrames, plan.totalFrames], [2, 6, 2, 10]);
  const frames = await collect(plan);
  assert.equal(frames.length, 10);
  assert.equal(hash(frames[0]!), hash(source.image), 'intro is the input itself');
  assert.equal(hash(frames[1]!), hash(source.image));
  assert.equal(hash(frames[8]!), hash(frames[7]!), 'hold repeats the last process frame');
  assert.equal(hash(frames[9]!), hash(frames[7]!));
  // The process starts from an (almost) blank canvas.
  const blank = frames[2]!.data;
  let white = 0;
  for (let i = 0; i < blank.length; i++) if (blank[i]! >= 250) white++;
  assert.ok(white / blank.length > 0.95, `first process frame should be nearly blank (${white / blank.length})`);

  // A fresh backend (no plan cache) must plan the very same process.
  const fresh = await createBackend('classic');
  try {
    const again = await collect(await timelapseFrames(input, env({ backend: async () => fresh })));
    assert.deepEqual(again.map(hash), frames.map(hash), 'deterministic for a seed');
  } finally {
    await fresh.dispose();
  }
  const otherSeed = await collect(await timelapseFrames({ ...input, seed: 777 }, env()));
  assert.notDeepEqual(otherSeed.slice(3, 7).map(hash), frames.slice(3, 7).map(hash), 'another seed, another process');
});

test('timelapse frames rendered into the encoder ring reach ffmpeg as the frames made in buffers of their own', async () => {
  const input = job({ kind: 'timelapse', frames: 7, fps: 4, intro: 0.5, hold: 0.75 }) as TimelapseJob;
  const own = await collect(await timelapseFrames(input, env()));
  const { width, height } = own[0]!;
  const bytes = width * height * 3;
  const output = join(dir, 'lent-timelapse.raw');
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', output];
  const encoder = startEncoder((await findFfmpeg()).path, args, bytes);
  const lent = new Set<Uint8Array>();
  const buffers: FrameBuffers = {
    bytes: encoder.bytes,
    take: async () => {
      const slot = await encoder.take();
      lent.add(slot);
      return slot;
    },
  };
  const sentLent = new Set<Uint8Array>();
  for await (const frame of (await timelapseFrames(input, env())).frames(buffers)) {
    if (lent.has(frame.data)) sentLent.add(frame.data);
    assert.equal(await encoder.send(frame.data), true);
  }
  encoder.end();
  const exit = await encoder.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.equal(sentLent.size, 7, 'every process frame was rendered into its own slot the encoder lent');
  const written = readFileSync(output);
  assert.equal(written.length, own.length * bytes);
  // Hold frames repeat the last process frame although its slot went back to the ring.
  for (const [i, frame] of own.entries()) assert.ok(written.subarray(i * bytes, (i + 1) * bytes).equals(frame.data), `frame ${i} of ${own.length}`);
});

test('undo direction runs from the finished artwork to blank; label burns a caption', async () => {
  const draw = await collect(await timelapseFrames(job({ kind: 'timelapse', frames: 4, hold: 0 }) as TimelapseJob, env()));
  const undo = await collect(await timelapseFrames(job({ kind: 'timelapse', frames: 4, hold: 0, direction: 'undo' }) as TimelapseJob, env()));
  assert.deepEqual(undo.map(hash), [...draw].reverse().map(hash));
  const labelled = await collect(await timelapseFrames(job({ kind: 'timelapse', frames: 4, hold: 0, label: 'my caption' }) as TimelapseJob, env()));
  assert.notEqual(hash(labelled[3]!), hash(draw[3]!));
  // Only the bottom part of the frame changes.
  const { width } = draw[3]!;
  const topRow = (img: RgbImage): string => createHash('sha256').update(img.data.subarray(0, width * 3 * 20)).digest('hex');
  assert.equal(topRow(labelled[3]!), topRow(draw[3]!));
});

test('runJob writes a frame PNG with provenance, keyframes named by step, and reports progress', async () => {
  const progress: Progress[] = [];
  const out = await runJob(job({ kind: 'frame', step: 600, seed: 3 }), join(dir, 'f.png'), env({ onProgress: (p) => progress.push(p) }));
  assert.deepEqual(out.files, [join(dir, 'f.png')]);
  const meta = JSON.parse(readPngText(readFileSync(join(dir, 'f.png'))).get(PROVENANCE_KEYWORD) ?? '{}') as Record<string, unknown>;
  assert.equal(meta['step'], 600);
  assert.equal(meta['seed'], 3);
  assert.equal(meta['backend'], 'classic');
  assert.equal(meta['source'], source.id);
  assert.ok(progress.length > 0);
  assert.equal(progress.at(-1)?.fraction, 1);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.fraction >= progress[i - 1]!.fraction, 'progress never goes back');

  const kf = await runJob(job({ kind: 'keyframes', steps: [950, 400] }), join(dir, 'kf'), env());
  assert.deepEqual(readdirSync(join(dir, 'kf')).sort(), ['step-0400.png', 'step-0950.png']);
  assert.equal(kf.files.length, 2);
});

test('frames and keyframes at a chosen size: the long side is honoured, never enlarged', async () => {
  const out = await runJob(job({ kind: 'frame', step: 300, size: 64 }), join(dir, 'small.png'), env());
  const meta = await sharp(out.files[0]!).metadata();
  assert.equal(Math.max(meta.width, meta.height), 64);
  assert.equal(out.width, meta.width);
  const big = await runJob(job({ kind: 'frame', step: 300, size: 5000 }), join(dir, 'big.png'), env());
  assert.deepEqual([big.width, big.height], [source.image.width, source.image.height]);
});

test('keyframes: all 1000 steps in one call, written as they render, at a chosen size; cancel leaves none', async () => {
  const steps = Array.from({ length: 1000 }, (_, s) => s);
  const progress: Progress[] = [];
  const out = await runJob(job({ kind: 'keyframes', steps, size: 40 }), join(dir, 'all'), env({ onProgress: (p) => progress.push(p) }));
  const names = readdirSync(join(dir, 'all')).sort();
  assert.equal(names.length, 1000);
  assert.equal(names[0], 'step-0000.png');
  assert.equal(names[999], 'step-0999.png');
  assert.equal(out.files.length, 1000);
  assert.equal(out.files[0], join(dir, 'all', 'step-0000.png'), 'files in the order of the steps asked');
  const meta = await sharp(join(dir, 'all', 'step-0500.png')).metadata();
  assert.equal(Math.max(meta.width, meta.height), 40);
  assert.ok(progress.filter((p) => p.stage === 'rendering').length >= 20, 'progress all along');
  assert.equal(progress.at(-1)?.fraction, 1);
  // Step 0 is the finished artwork, at the chosen size.
  const finished = await sharp(join(dir, 'all', 'step-0000.png')).raw().toBuffer();
  assert.ok(finished.some((v) => v < 200));

  const controller = new AbortController();
  const error = await rejection(() =>
    runJob(job({ kind: 'keyframes', steps, size: 40 }), join(dir, 'stopped'), env({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage === 'rendering' && p.fraction > 0.7) controller.abort();
      },
    })),
  );
  assert.equal(error.code, 'CANCELLED');
  assert.ok(!existsSync(join(dir, 'stopped')), 'frames written before the cancel are removed, and the folder the run created');
});

test('keyframes cancelled part way into the folder of an earlier run: the earlier files are all there, unchanged, and nothing else', async () => {
  const folder = join(dir, 'earlier');
  const steps = Array.from({ length: 200 }, (_, s) => s * 5);
  await runJob(job({ kind: 'keyframes', steps, size: 24, seed: 3 }), folder, env());
  const before = new Map(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name))]));
  assert.equal(before.size, 200);
  const controller = new AbortController();
  const error = await rejection(() =>
    runJob(job({ kind: 'keyframes', steps, size: 40, seed: 4 }), folder, env({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage === 'rendering' && p.fraction > 0.7) controller.abort();
      },
    })),
  );
  assert.equal(error.code, 'CANCELLED');
  const after = readdirSync(folder).sort();
  assert.deepEqual(after, [...before.keys()].sort(), 'no file added, none removed, no hidden file left');
  for (const [name, bytes] of before) assert.ok(readFileSync(join(folder, name)).equals(bytes), `${name} is the earlier run's`);
});

test('runJob timelapse: GIF with the expected frame count; cancel leaves nothing', async () => {
  const out = await runJob(job({ kind: 'timelapse', format: 'gif', frames: 5, fps: 5, hold: 0.4, size: 100 }), join(dir, 't.gif'), env());
  assert.equal(out.frames, 7);
  const info = probe(join(dir, 't.gif'));
  assert.equal(info.frames, 7);
  assert.equal(Math.max(info.width, info.height), 100);

  const controller = new AbortController();
  const error = await rejection(() =>
    runJob(job({ kind: 'timelapse', frames: 40 }), join(dir, 'c.mp4'), env({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage === 'rendering' && p.fraction > 0.3) controller.abort();
      },
    })),
  );
  assert.ok(error instanceof PaintsUndoError);
  assert.equal(error.code, 'CANCELLED');
  assert.ok(!existsSync(join(dir, 'c.mp4')));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
});

test('unknown backends and unknown images are clear errors', async () => {
  const unknown = await rejection(() => runJob(job({ kind: 'frame', step: 1, backend: 'nope' }), join(dir, 'x.png'), env()));
  assert.equal(unknown.code, 'UNKNOWN_BACKEND');
  assert.match(unknown.message, /Unknown backend "nope"\. Should be one of: classic/);
  const missing = await rejection(() =>
    runJob(parseOrThrow(JobInputSchema, { kind: 'frame', step: 1, image: 'f'.repeat(64) }), join(dir, 'y.png'), env()),
  );
  assert.equal(missing.code, 'INPUT_NOT_FOUND');
  assert.ok(!existsSync(join(dir, 'x.png')) && !existsSync(join(dir, 'y.png')));
});

test('layers of a transparent input keep its transparency: every layer clear where it was, the composite with its alpha and colours', async () => {
  // A cut-out: the sample inside an ellipse, transparent outside, with a soft edge.
  const { data, info } = await sharp(join(SAMPLES, '2.jpg')).resize({ width: 160 }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const r = Math.hypot((x - info.width / 2) / (info.width * 0.4), (y - info.height / 2) / (info.height * 0.4));
      data[(y * info.width + x) * 4 + 3] = Math.round(255 * Math.max(0, Math.min(1, (1.1 - r) * 5)));
    }
  }
  const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
  const cutout = (await decodeImageBuffer(png)).source;
  assert.ok(cutout.alpha);
  const cutoutEnv = env({ resolveImage: () => cutout });
  const folder = join(dir, 'cutout-layers');
  await runJob(parseOrThrow(JobInputSchema, { kind: 'layers', image: cutout.id, format: 'png' }), folder, cutoutEnv);
  const corner = 0;
  const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 4;
  for (const name of readdirSync(folder).filter((n) => n.endsWith('.png') && n !== 'composite.png')) {
    const layer = await sharp(join(folder, name)).ensureAlpha().raw().toBuffer();
    assert.equal(layer[corner + 3], 0, `${name} is clear where the input was`);
  }
  const composite = await sharp(join(folder, 'composite.png')).raw().toBuffer({ resolveWithObject: true });
  assert.equal(composite.info.channels, 4);
  for (const i of [corner, centre]) {
    assert.equal(composite.data[i + 3], data[i + 3], 'the input alpha');
    if (data[i + 3]! === 255) assert.deepEqual([...composite.data.subarray(i, i + 3)], [...data.subarray(i, i + 3)], 'the input colours');
  }
  // The PSD's composite too.
  const psdPath = join(dir, 'cutout.psd');
  await runJob(parseOrThrow(JobInputSchema, { kind: 'layers', image: cutout.id, format: 'psd' }), psdPath, cutoutEnv);
  const psd = readPsd(readFileSync(psdPath), { skipLayerImageData: true, useImageData: true });
  assert.equal(psd.imageData?.data[corner + 3], 0);
  assert.equal(psd.imageData?.data[centre + 3], 255);
});
