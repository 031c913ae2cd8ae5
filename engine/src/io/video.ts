/**
 * Video export: raw RGB frames are streamed to ffmpeg's stdin from the encoder thread (encoder.ts), never
 * as temporary image files, with back-pressure, and the result is written atomically. MP4 is H.264
 * yuv420p with +faststart (plays in browsers and QuickTime), WebM is VP9, GIF uses a two-pass palette
 * (palettegen/paletteuse) for quality.
 * Provenance goes into the container: title/comment/description tags for MP4 and WebM, a GIF comment
 * extension for GIF (ffmpeg's GIF muxer writes none, so it is spliced in after encoding).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { FrameBuffers } from '../core/backend.js';
import { PaintsUndoError, cancelledError, throwIfCancelled } from '../core/errors.js';
import type { RgbImage, RgbaImage } from '../core/image.js';
import type { VideoFormat } from '../core/job.js';
import { withAtomicFile } from './atomic.js';
import { startEncoder } from './encoder.js';
import { findFfmpeg } from './ffmpeg.js';
import { errnoError, errnoInText } from './write-errors.js';
import { PROVENANCE_NOTICE, provenanceSummary, type Provenance } from './provenance.js';

/** Default long side when no size is asked for: the input size capped here (GIFs get big quickly). */
export const DEFAULT_MAX_LONG_SIDE: Record<VideoFormat, number> = { mp4: 1920, webm: 1920, gif: 640 };

export const VIDEO_EXTENSIONS: Record<VideoFormat, string> = { mp4: '.mp4', webm: '.webm', gif: '.gif' };

export interface VideoOptions {
  readonly format: VideoFormat;
  /** Size of the frames that will be streamed. */
  readonly width: number;
  readonly height: number;
  /** Size of the video (even numbers); frames are scaled by ffmpeg (lanczos). */
  readonly outWidth: number;
  readonly outHeight: number;
  readonly fps: number;
  /** Expected number of frames, for progress only. */
  readonly totalFrames: number;
  /** Where the video's title and comment come from, unless `metadata` is given (one of them is required). */
  readonly provenance?: Provenance;
  /**
   * Replaces the title and comment derived from `provenance`, for videos that are not (only) a
   * generated reconstruction: a recording of history states says "Recorded from ..." here.
   */
  readonly metadata?: { readonly title: string; readonly comment: string };
  readonly signal?: AbortSignal;
  /** Called after each frame is handed to ffmpeg: (frames sent, expected total). */
  readonly onFrame?: (sent: number, total: number) => void;
  /**
   * GIF only: the image whose colours make the palette, normally the finished artwork (every process
   * frame converges to it). Without it ffmpeg must buffer every frame until the end to build a palette.
   */
  readonly paletteFrom?: RgbImage;
}

/**
 * Output size: long side = `size` or the input's long side capped at the format default, aspect kept,
 * both sides rounded to even numbers (yuv420p needs them even).
 */
export function videoSize(width: number, height: number, format: VideoFormat, size?: number): { width: number; height: number } {
  const long = Math.max(width, height);
  const target = size ?? Math.min(long, DEFAULT_MAX_LONG_SIDE[format]);
  const scale = target / long;
  const even = (v: number): number => Math.max(2, 2 * Math.round((v * scale) / 2));
  return { width: even(width), height: even(height) };
}

function ffmpegArgs(options: VideoOptions, output: string, palette?: string): string[] {
  const summary = commentOf(options);
  const input = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${options.width}x${options.height}`, '-framerate', String(options.fps),
    '-i', 'pipe:0',
  ];
  // Frames already at the video's size only change pixel format (no lanczos pass over every pixel).
  const sameSize = options.outWidth === options.width && options.outHeight === options.height;
  const scale = sameSize ? 'null' : `scale=${options.outWidth}:${options.outHeight}:flags=lanczos`;
  const tags = [
    '-metadata', `title=${options.metadata?.title ?? PROVENANCE_NOTICE}`,
    '-metadata', `comment=${summary}`,
    '-metadata', `description=${summary}`,
  ];
  switch (options.format) {
    case 'mp4':
      return [
        ...input, '-vf', `${scale},format=yuv420p`,
        // veryfast + crf 18: visually lossless for flat illustration colours, and quick on 2 cores.
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-tune', 'animation', '-pix_fmt', 'yuv420p',
        '-movflags', '+faststart', ...tags, '-f', 'mp4', output,
      ];
    case 'webm':
      return [
        ...input, '-vf', `${scale},format=yuv420p`,
        '-c:v', 'libvpx-vp9', '-crf', '32', '-b:v', '0', '-deadline', 'good', '-cpu-used', '5', '-row-mt', '1', '-pix_fmt', 'yuv420p',
        ...tags, '-f', 'webm', output,
      ];
    case 'gif':
      return palette !== undefined
        ? [
            ...input, '-i', palette,
            '-filter_complex', `[0:v]${scale}[s];[s][1:v]paletteuse=dither=sierra2_4a`,
            '-loop', '0', '-f', 'gif', output,
          ]
        : [
            ...input,
            '-filter_complex', `[0:v]${scale},split[a][b];[a]palettegen=max_colors=256[p];[b][p]paletteuse=dither=sierra2_4a`,
            '-loop', '0', '-f', 'gif', output,
          ];
  }
}

function commentOf(options: VideoOptions): string {
  if (options.metadata) return options.metadata.comment;
  if (!options.provenance) throw new PaintsUndoError('INTERNAL', 'A video needs provenance or metadata; neither was given.');
  return provenanceSummary(options.provenance);
}

/**
 * Frames to encode, streamed once: as they come, or from a function given the encoder's ring, which lends
 * buffers to render frames into (FrameBuffers) so that they reach ffmpeg without a copy.
 */
export type VideoFrames = AsyncIterable<RgbImage> | ((buffers: FrameBuffers) => AsyncIterable<RgbImage>);

/** Encodes `frames` into `path` atomically; returns the number of frames encoded. */
export async function writeVideoFile(path: string, frames: VideoFrames, options: VideoOptions): Promise<number> {
  const ffmpeg = await findFfmpeg();
  return withAtomicFile(
    path,
    async (temp) => {
      if (options.format !== 'gif') return encode(ffmpeg.path, ffmpegArgs(options, temp), frames, options);
      let palette: string | undefined;
      try {
        if (options.paletteFrom) {
          palette = `${temp}.palette.png`;
          const image = options.paletteFrom;
          const paletteArgs = [
            '-hide_banner', '-loglevel', 'error', '-y',
            '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${image.width}x${image.height}`, '-i', 'pipe:0',
            '-vf', `scale=${options.outWidth}:${options.outHeight}:flags=lanczos,palettegen=max_colors=256:reserve_transparent=0`,
            '-frames:v', '1', '-f', 'image2', palette,
          ];
          await encode(ffmpeg.path, paletteArgs, single(image), { ...options, width: image.width, height: image.height, totalFrames: 1, onFrame: undefined });
        }
        const count = await encode(ffmpeg.path, ffmpegArgs(options, temp, palette), frames, options);
        await writeFile(temp, insertGifComment(await readFile(temp), commentOf(options)));
        return count;
      } finally {
        if (palette !== undefined) await rm(palette, { force: true });
      }
    },
    options.signal ? { signal: options.signal } : {},
  );
}

async function* single(image: RgbImage): AsyncGenerator<RgbImage> {
  yield image;
}

/** Runs ffmpeg with `args`, streaming `frames` (options.width x options.height RGB) to its stdin. */
async function encode(ffmpegPath: string, args: string[], frames: VideoFrames, options: VideoOptions): Promise<number> {
  const signal = options.signal;
  throwIfCancelled(signal);
  const frameBytes = options.width * options.height * 3;
  const ffmpeg = startEncoder(ffmpegPath, args, frameBytes);
  const onAbort = (): void => ffmpeg.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  let sent = 0;
  try {
    for await (const frame of typeof frames === 'function' ? frames(ffmpeg) : frames) {
      throwIfCancelled(signal);
      if (frame.width !== options.width || frame.height !== options.height || frame.data.length !== frameBytes) {
        throw new PaintsUndoError('INTERNAL', `Frame ${sent} is ${frame.width}x${frame.height}, expected ${options.width}x${options.height}.`);
      }
      // false: ffmpeg has ended early; its exit code and stderr say why.
      if (!(await ffmpeg.send(frame.data))) break;
      sent++;
      options.onFrame?.(sent, options.totalFrames);
    }
    ffmpeg.end();
    const { code, stderr, spawnError } = await ffmpeg.exited;
    throwIfCancelled(signal);
    // ffmpeg only writes our temp files, so a write condition in its text (a full disk) is the output's:
    // thrown as that errno, withAtomicFile reports OUTPUT_NOT_WRITABLE like any other failed write. Checked
    // whatever the exit code: ffmpeg 5-6 exit 0 when writing the WebM/GIF trailer fails, leaving a broken file.
    const errno = errnoInText(stderr);
    if (errno !== undefined) throw errnoError(errno, `ffmpeg could not write the ${options.format.toUpperCase()}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    if (code !== 0) {
      throw new PaintsUndoError('ENCODER_FAILED', `ffmpeg failed to encode the ${options.format.toUpperCase()} (${spawnError ?? `exit code ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`, {
        hint: 'Try another format or size; if it persists, report it with this message and `ffmpeg -version`.',
        details: { ffmpeg: ffmpegPath, code, stderr: stderr.trim() },
      });
    }
    return sent;
  } catch (error) {
    ffmpeg.kill();
    await ffmpeg.exited;
    if (signal?.aborted && !(error instanceof PaintsUndoError && error.code === 'CANCELLED')) throw cancelledError();
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Splices a GIF Comment Extension (0x21 0xFE) after the global colour table and the NETSCAPE looping
 * extension, where every reader looks for metadata. Comment text must be 7-bit ASCII (GIF89a spec).
 */
export function insertGifComment(gif: Uint8Array, text: string): Uint8Array {
  const head = Buffer.from(gif.subarray(0, 6)).toString('latin1');
  if (head !== 'GIF89a' && head !== 'GIF87a') throw new RangeError('not a GIF file');
  const packed = gif[10] ?? 0;
  let at = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0);
  if (gif[at] === 0x21 && gif[at + 1] === 0xff) {
    at += 2;
    while (at < gif.length && gif[at] !== 0) at += gif[at]! + 1;
    at += 1;
  }
  const ascii = Buffer.from(text.replace(/[^\x20-\x7e]/g, '?'), 'latin1');
  const blocks: Buffer[] = [Buffer.from([0x21, 0xfe])];
  for (let i = 0; i < ascii.length; i += 255) {
    const part = ascii.subarray(i, i + 255);
    blocks.push(Buffer.from([part.length]), part);
  }
  blocks.push(Buffer.from([0]));
  const out = Buffer.concat([gif.subarray(0, at), ...blocks, gif.subarray(at)]);
  // GIF87a has no extensions; the comment makes it GIF89a.
  out.write('GIF89a', 0, 'latin1');
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Reads the comment extensions of a GIF (before the first image), for checks and tests. */
export function readGifComments(gif: Uint8Array): string[] {
  const packed = gif[10] ?? 0;
  let at = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0);
  const comments: string[] = [];
  while (at < gif.length && gif[at] === 0x21) {
    const label = gif[at + 1];
    at += 2;
    const parts: Buffer[] = [];
    while (at < gif.length && gif[at] !== 0) {
      const len = gif[at]!;
      parts.push(Buffer.from(gif.subarray(at + 1, at + 1 + len)));
      at += len + 1;
    }
    at += 1;
    if (label === 0xfe) comments.push(Buffer.concat(parts).toString('latin1'));
  }
  return comments;
}

/**
 * A small caption (white text on a translucent dark pill, bottom left) rendered by sharp from SVG at
 * the frame's own resolution, so it scales with the video. Returns straight-alpha RGBA and its position.
 */
export interface Caption {
  readonly x: number;
  readonly y: number;
  readonly image: RgbaImage;
}

export async function renderCaption(text: string, frameWidth: number, frameHeight: number): Promise<Caption> {
  const { default: sharp } = await import('sharp');
  const fontSize = Math.max(10, Math.round(Math.min(frameWidth, frameHeight) * 0.03));
  const pad = Math.round(fontSize * 0.5);
  const margin = Math.round(fontSize * 0.8);
  // Average advance of DejaVu/Liberation Sans is about 0.6 em; text longer than the frame is squeezed.
  const natural = Math.round(text.length * fontSize * 0.6);
  const textWidth = Math.max(1, Math.min(natural, frameWidth - 2 * margin - 2 * pad));
  const fit = natural > textWidth ? ` textLength="${textWidth}" lengthAdjust="spacingAndGlyphs"` : '';
  const width = textWidth + 2 * pad;
  const height = fontSize + 2 * pad;
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect x="0" y="0" width="${width}" height="${height}" rx="${pad}" ry="${pad}" fill="#000" fill-opacity="0.55"/>
  <text x="${pad}" y="${pad + fontSize * 0.8}" font-family="DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif" font-size="${fontSize}" fill="#fff"${fit}>${escaped}</text>
</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    x: margin,
    y: Math.max(0, frameHeight - margin - info.height),
    image: { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
  };
}

/** Alpha-composites `overlay` onto a copy of `frame` at (x, y); pixels outside the frame are clipped. */
export function compositeOver(frame: RgbImage, overlay: Caption): RgbImage {
  const out = frame.data.slice();
  const { x, y, image } = overlay;
  for (let row = 0; row < image.height; row++) {
    const fy = y + row;
    if (fy < 0 || fy >= frame.height) continue;
    for (let col = 0; col < image.width; col++) {
      const fx = x + col;
      if (fx < 0 || fx >= frame.width) continue;
      const s = (row * image.width + col) * 4;
      const a = image.data[s + 3]!;
      if (a === 0) continue;
      const d = (fy * frame.width + fx) * 3;
      for (let c = 0; c < 3; c++) out[d + c] = (image.data[s + c]! * a + out[d + c]! * (255 - a) + 127) / 255;
    }
  }
  return { width: frame.width, height: frame.height, channels: 3, data: out };
}
