/** Shared helpers of the I/O and CLI tests: temp folders, synthetic images, ffprobe. */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after } from 'node:test';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import { createRgb, type RgbImage } from '../../engine/src/core/image.js';
import type { PaintsUndoError } from '../../engine/src/core/errors.js';
import { SAMPLES_DIR } from '../shared-samples.js';

export const SAMPLES = SAMPLES_DIR;

/** A temp folder removed when the test file ends. */
export function tempFolder(prefix = 'paints-undo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A deterministic colourful RGB test card: gradients plus a dark square, so scaling and flips are visible. */
export function testCard(width: number, height: number, seed = 0): RgbImage {
  const image = createRgb(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const dark = x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2;
      image.data[o] = dark ? 20 : (x * 255) / Math.max(1, width - 1);
      image.data[o + 1] = dark ? 20 : (y * 255) / Math.max(1, height - 1);
      image.data[o + 2] = dark ? 20 : (seed * 37 + 128) % 256;
    }
  }
  return image;
}

/** A PNG whose IHDR claims `width` x `height` but that holds no real pixel data: a decompression bomb header. */
export function bombPng(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  // An IDAT with a tiny zlib stream: a real decoder would have to inflate width*height*3 bytes.
  const idat = Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
  return encodeChunks([
    { name: 'IHDR', data: new Uint8Array(ihdr) },
    { name: 'IDAT', data: new Uint8Array(idat) },
    { name: 'IEND', data: new Uint8Array(0) },
  ]);
}

export function pngChunkNames(png: Uint8Array): string[] {
  return extractChunks(png).map((c) => c.name);
}

export interface ProbeResult {
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  readonly pixFmt: string;
  /** Decoded frame count (counted, not read from the header). */
  readonly frames: number;
  readonly tags: Record<string, string>;
  readonly formatName: string;
}

/** ffprobe the first video stream; counts frames by decoding (-count_frames) so it is exact for every container. */
export function probe(path: string): ProbeResult {
  const result = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,pix_fmt,nb_read_frames:format=format_name:format_tags', '-of', 'json', path],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffprobe failed on ${path}: ${result.stderr}`);
  const json = JSON.parse(result.stdout) as {
    streams: { codec_name: string; width: number; height: number; pix_fmt: string; nb_read_frames: string }[];
    format: { format_name: string; tags?: Record<string, string> };
  };
  const stream = json.streams[0];
  if (!stream) throw new Error(`no video stream in ${path}`);
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(json.format.tags ?? {})) tags[k.toLowerCase()] = v;
  return {
    codec: stream.codec_name,
    width: stream.width,
    height: stream.height,
    pixFmt: stream.pix_fmt,
    frames: Number(stream.nb_read_frames),
    tags,
    formatName: json.format.format_name,
  };
}

/** Asserts-friendly: runs `fn` and returns the PaintsUndoError it rejects with (fails if it resolves). */
export async function rejection(fn: () => Promise<unknown>): Promise<PaintsUndoError> {
  try {
    await fn();
  } catch (error) {
    return error as PaintsUndoError;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

/** Makes a FIFO (named pipe) at `path` with mkfifo(1). */
export function makeFifo(path: string): string {
  const result = spawnSync('mkfifo', [path], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mkfifo ${path} failed: ${result.stderr || result.error?.message}`);
  return path;
}

/** Makes a character device like /dev/null (1,3) at `path`; undefined where mknod is not allowed (not root, containers). */
export function makeNullDevice(path: string): string | undefined {
  const result = spawnSync('mknod', [path, 'c', '1', '3'], { encoding: 'utf8' });
  return result.status === 0 ? path : undefined;
}

/** Rejects with a clear message when `promise` does not settle within `ms` (a blocked read must fail the test, not hang it). */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Mounts a small tmpfs (root only, e.g. CI containers) for disk-full tests; unmounted when the test file
 * ends. Returns `{ skip }` with the reason where mounting is not allowed, so the caller can skip.
 */
export function smallTmpfs(bytes: number): { path: string } | { skip: string } {
  const path = mkdtempSync(join(tmpdir(), 'paints-undo-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'none', path], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(path, { recursive: true, force: true });
    return { skip: `cannot mount a ${bytes}-byte tmpfs to fill a disk (needs root): ${(mounted.stderr || mounted.error?.message || '').trim()}` };
  }
  after(() => {
    spawnSync('umount', ['-l', path]);
    rmSync(path, { recursive: true, force: true });
  });
  return { path };
}

/** Fills the file system of `folder` completely with one file (halving the writes until not one byte fits). */
export function fillDisk(folder: string): string {
  const filler = join(folder, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (let size = 64 * 1024; size >= 1; size = Math.floor(size / 2)) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}
