import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import type { RgbImage } from '../../engine/src/core/image.js';
import { findFfmpeg, locateFfmpeg, ffmpegCandidates } from '../../engine/src/io/ffmpeg.js';
import { makeProvenance } from '../../engine/src/io/provenance.js';
import { compositeOver, insertGifComment, readGifComments, renderCaption, videoSize, writeVideoFile, type VideoOptions } from '../../engine/src/io/video.js';
import { probe, rejection, tempFolder, testCard } from './helpers.js';

const dir = tempFolder();
const provenance = makeProvenance({ backend: 'classic', backendVersion: '9.9.9', seed: 42, source: 'b'.repeat(64) });

async function* cards(count: number, width: number, height: number, onYield?: (i: number) => void): AsyncGenerator<RgbImage> {
  for (let i = 0; i < count; i++) {
    onYield?.(i);
    yield testCard(width, height, i);
  }
}

function options(format: VideoOptions['format'], width: number, height: number, frames: number, size?: number): VideoOptions {
  const out = videoSize(width, height, format, size);
  return { format, width, height, outWidth: out.width, outHeight: out.height, fps: 10, totalFrames: frames, provenance };
}

test('videoSize keeps the aspect, rounds to even and caps by format', () => {
  assert.deepEqual(videoSize(101, 51, 'mp4'), { width: 102, height: 52 });
  assert.deepEqual(videoSize(3000, 2000, 'mp4'), { width: 1920, height: 1280 });
  assert.deepEqual(videoSize(3000, 2000, 'gif'), { width: 640, height: 426 });
  assert.deepEqual(videoSize(300, 200, 'webm', 150), { width: 150, height: 100 });
  assert.deepEqual(videoSize(200, 300, 'mp4', 64), { width: 42, height: 64 });
});

test('MP4: H.264, yuv420p, even size, every frame, provenance tags, faststart', async () => {
  const path = join(dir, 'clip.mp4');
  const seen: number[] = [];
  const frames = await writeVideoFile(path, cards(12, 61, 47), { ...options('mp4', 61, 47, 12), onFrame: (sent) => seen.push(sent) });
  assert.equal(frames, 12);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const info = probe(path);
  assert.equal(info.codec, 'h264');
  assert.equal(info.pixFmt, 'yuv420p');
  assert.deepEqual([info.width, info.height], [62, 48]);
  assert.equal(info.frames, 12);
  assert.match(info.tags['comment'] ?? '', /Generated reconstruction.*backend classic 9\.9\.9, seed 42/);
  assert.match(info.tags['title'] ?? '', /not a recording/);
  // +faststart: the moov atom comes before mdat, so browsers can start playing before the download ends.
  const bytes = readFileSync(path);
  assert.ok(bytes.indexOf('moov') < bytes.indexOf('mdat'), 'moov before mdat');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temp file left');
});

test('MP4 frames keep their colours, at their own size (pixel format only) and scaled down (lanczos)', async () => {
  const ffmpeg = (await findFfmpeg()).path;
  for (const size of [undefined, 48]) {
    const path = join(dir, `colours-${size ?? 'same'}.mp4`);
    const opts = options('mp4', 96, 72, 3, size);
    await writeVideoFile(path, cards(3, 96, 72), opts);
    const raw = spawnSync(ffmpeg, ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 }).stdout;
    const frameBytes = opts.outWidth * opts.outHeight * 3;
    assert.equal(raw.length, 3 * frameBytes, `three ${opts.outWidth}x${opts.outHeight} frames`);
    for (let f = 0; f < 3; f++) {
      const card = testCard(96, 72, f);
      const step = 96 / opts.outWidth;
      let diff = 0;
      for (let y = 0; y < opts.outHeight; y++) {
        for (let x = 0; x < opts.outWidth; x++) {
          // Compare with the card at the same place (the card is smooth away from its dark square's edges).
          const sx = Math.min(95, Math.floor((x + 0.5) * step));
          const sy = Math.min(71, Math.floor((y + 0.5) * step));
          for (let c = 0; c < 3; c++) diff += Math.abs(raw[f * frameBytes + (y * opts.outWidth + x) * 3 + c]! - card.data[(sy * 96 + sx) * 3 + c]!);
        }
      }
      const mean = diff / frameBytes;
      assert.ok(mean < 6, `frame ${f} at ${size ?? 'its own size'}: mean difference ${mean.toFixed(2)} levels`);
    }
  }
});

test('WebM: VP9 with provenance tags', async () => {
  const path = join(dir, 'clip.webm');
  await writeVideoFile(path, cards(6, 64, 48), options('webm', 64, 48, 6));
  const info = probe(path);
  assert.equal(info.codec, 'vp9');
  assert.equal(info.frames, 6);
  assert.deepEqual([info.width, info.height], [64, 48]);
  assert.match(info.tags['comment'] ?? '', /Generated reconstruction/);
});

test('GIF: palette encoding, looping, comment extension with provenance', async () => {
  const path = join(dir, 'clip.gif');
  await writeVideoFile(path, cards(5, 80, 60), options('gif', 80, 60, 5, 40));
  const info = probe(path);
  assert.equal(info.codec, 'gif');
  assert.equal(info.frames, 5);
  assert.deepEqual([info.width, info.height], [40, 30]);
  const comments = readGifComments(readFileSync(path));
  assert.equal(comments.length, 1);
  assert.match(comments[0]!, /^Generated reconstruction .*backend classic 9\.9\.9, seed 42\.$/);
  assert.ok(readFileSync(path).includes('NETSCAPE2.0'), 'loops');
});

test('GIF with a palette from the finished artwork: streamed without buffering, no palette file left', async () => {
  const path = join(dir, 'palette.gif');
  const finished = testCard(80, 60, 4);
  const frames = await writeVideoFile(path, cards(5, 80, 60), { ...options('gif', 80, 60, 5, 40), paletteFrom: finished });
  assert.equal(frames, 5);
  const info = probe(path);
  assert.deepEqual([info.codec, info.frames, info.width, info.height], ['gif', 5, 40, 30]);
  assert.equal(readGifComments(readFileSync(path)).length, 1);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('palette') && f !== 'palette.gif'), []);
});

test('insertGifComment splits long comments into 255-byte sub-blocks', () => {
  // Smallest GIF: header, 1x1 screen with a 2-colour table, one image, trailer.
  const gif = Buffer.from('474946383961010001008000000000ffffff2c00000000010001000002024401003b', 'hex');
  const long = 'x'.repeat(600);
  const out = insertGifComment(gif, long);
  assert.deepEqual(readGifComments(out), [long]);
  assert.equal(out.length, gif.length + 2 + 3 + 600 + 1);
});

test('cancelling mid-encode kills ffmpeg and leaves no file under the name', async () => {
  const path = join(dir, 'cancelled.mp4');
  const controller = new AbortController();
  const error = await rejection(() =>
    writeVideoFile(
      path,
      cards(50, 64, 48, (i) => {
        if (i === 10) controller.abort();
      }),
      { ...options('mp4', 64, 48, 50), signal: controller.signal },
    ),
  );
  assert.ok(error instanceof PaintsUndoError);
  assert.equal(error.code, 'CANCELLED');
  assert.ok(!existsSync(path));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('cancelled')), []);
});

test('a frame of the wrong size fails the job and removes the temp file', async () => {
  const path = join(dir, 'wrong.mp4');
  async function* frames(): AsyncGenerator<RgbImage> {
    yield testCard(64, 48);
    yield testCard(32, 32);
  }
  const error = await rejection(() => writeVideoFile(path, frames(), options('mp4', 64, 48, 2)));
  assert.ok(error instanceof PaintsUndoError);
  assert.equal(error.code, 'INTERNAL');
  assert.match(error.message, /Frame 1 is 32x32, expected 64x48/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('wrong')), []);
});

test('ffmpeg is found with the encoders we need; a missing one is FFMPEG_MISSING with install hints', async () => {
  const found = await findFfmpeg();
  for (const encoder of ['libx264', 'libvpx-vp9', 'gif']) assert.ok(found.encoders.has(encoder), encoder);
  // One run of ffmpeg tells both: the version comes from the banner it prints with the encoder list.
  const version = execFileSync(found.path, ['-hide_banner', '-version'], { encoding: 'utf8' });
  assert.equal(found.version, /^ffmpeg version (\S+)/.exec(version)?.[1]);
  assert.deepEqual(ffmpegCandidates({ PAINTS_UNDO_FFMPEG: '/opt/ff/ffmpeg' }), [{ path: '/opt/ff/ffmpeg', source: 'env' }]);
  assert.equal(ffmpegCandidates({})[0]?.source, 'system');

  const error = await rejection(() => locateFfmpeg([{ path: join(dir, 'no-ffmpeg-here'), source: 'env' }]));
  assert.ok(error instanceof PaintsUndoError);
  assert.equal(error.code, 'FFMPEG_MISSING');
  assert.match(error.message, /no-ffmpeg-here \(env\): not found/);
  assert.match(error.hint ?? '', /apt install ffmpeg.*brew install ffmpeg.*PAINTS_UNDO_FFMPEG/);
});

test('the caption is drawn at the bottom left and nowhere else', async () => {
  const frame = testCard(320, 240);
  const caption = await renderCaption('Generated reconstruction - not a recording', 320, 240);
  assert.ok(caption.x >= 0 && caption.y + caption.image.height <= 240);
  assert.ok(caption.image.width <= 320 - 2 * caption.x);
  const out = compositeOver(frame, caption);
  const at = (img: RgbImage, x: number, y: number): number[] => [...img.data.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3)];
  assert.deepEqual(at(out, 319, 0), at(frame, 319, 0), 'top right untouched');
  let changed = 0;
  for (let i = 0; i < out.data.length; i++) if (out.data[i] !== frame.data[i]) changed++;
  assert.ok(changed > 500, 'the caption is visible');
  const cx = caption.x + Math.floor(caption.image.width / 2);
  const cy = caption.y + 2;
  assert.notDeepEqual(at(out, cx, cy), at(frame, cx, cy));
  // A caption longer than the frame is squeezed to fit.
  const long = await renderCaption('x'.repeat(200), 320, 240);
  assert.ok(long.image.width <= 320);
});
