// The ambient typings of the untyped gifenc package must reach every tsconfig that compiles this file.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../types/gifenc.d.ts" />
/**
 * Animated GIF encoding inside the panel, for "Timelapse from History": the frames are the user's own
 * history states, encoded here because the engine protocol has no method for client-supplied frames.
 * Every GIF carries a comment extension saying what it is (recorded, and which part is generated).
 */
import * as gifencModule from 'gifenc';
import type { GifencApi } from 'gifenc';
import type { Pixels } from '../host/types.js';
import { toRgba } from './pixels.js';

// A CommonJS package: bundlers (esbuild) expose its named exports, Node's ESM loader only a default object.
const gifencNamespace = gifencModule as Partial<GifencApi> & { default: GifencApi };
const { GIFEncoder, applyPalette, quantize }: GifencApi = gifencNamespace.GIFEncoder ? (gifencNamespace as GifencApi) : gifencNamespace.default;

export interface GifOptions {
  readonly fps: number;
  /** Seconds the last frame (the finished state) stays on screen. */
  readonly holdSeconds: number;
  /** Provenance text stored in a GIF comment extension. */
  readonly comment: string;
}

export function encodeGif(frames: readonly Pixels[], options: GifOptions): Uint8Array {
  const first = frames[0];
  if (!first) throw new RangeError('Expected at least one frame');
  if (!(options.fps >= 1 && options.fps <= 50)) throw new RangeError(`Expected fps between 1 and 50 but received ${options.fps}`);
  const gif = GIFEncoder();
  const delay = 1000 / options.fps;
  frames.forEach((frame, i) => {
    if (frame.width !== first.width || frame.height !== first.height) {
      throw new RangeError(`Frame ${i} is ${frame.width}x${frame.height}; every frame must be ${first.width}x${first.height}`);
    }
    const rgba = toRgba(frame).data;
    // A palette per frame: a process changes colours a lot between the sketch and the last state.
    const palette = quantize(rgba, 256);
    const index = applyPalette(rgba, palette);
    const last = i === frames.length - 1;
    gif.writeFrame(index, frame.width, frame.height, { palette, delay: last ? Math.max(delay, options.holdSeconds * 1000) : delay, repeat: 0 });
  });
  gif.finish();
  return withComment(gif.bytes(), options.comment);
}

/** Inserts a Comment Extension (0x21 0xFE, sub-blocks of at most 255 bytes) before the trailer. */
export function withComment(gif: Uint8Array, comment: string): Uint8Array {
  if (gif[gif.length - 1] !== 0x3b) throw new Error('not a finished GIF (no trailer)');
  const text = Array.from(comment, (c) => (c.charCodeAt(0) < 128 ? c.charCodeAt(0) : 63));
  const blocks: number[] = [0x21, 0xfe];
  for (let i = 0; i < text.length; i += 255) {
    const chunk = text.slice(i, i + 255);
    blocks.push(chunk.length, ...chunk);
  }
  blocks.push(0x00);
  const out = new Uint8Array(gif.length + blocks.length);
  out.set(gif.subarray(0, gif.length - 1), 0);
  out.set(blocks, gif.length - 1);
  out[out.length - 1] = 0x3b;
  return out;
}

/** Reads back the comment extensions (for tests and for checking provenance). */
export function gifComments(gif: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < gif.length - 1; i++) {
    if (gif[i] !== 0x21 || gif[i + 1] !== 0xfe) continue;
    let j = i + 2;
    let s = '';
    while (j < gif.length && gif[j] !== 0) {
      const n = gif[j] ?? 0;
      for (let k = 1; k <= n; k++) s += String.fromCharCode(gif[j + k] ?? 0);
      j += n + 1;
    }
    if (s.startsWith('PaintsUndo')) out.push(s);
  }
  return out;
}
