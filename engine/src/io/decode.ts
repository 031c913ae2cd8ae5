/**
 * Reads an input artwork (file or buffer) into a SourceImage.
 *
 * Size policy (documented in README "Input images"):
 * - refused before any pixel is decoded: files over 256 MiB, images over 100 Mpx, a long side over
 *   16384 px or a short side under 16 px, also after downscaling to the working size (INPUT_TOO_LARGE /
 *   INPUT_TOO_SMALL);
 * - accepted and downscaled (with a notice): a long side over 4096 px, the largest size the classic
 *   backend is tuned for. A demanding user wants the job to run, not a refusal for a 6000 px scan, and
 *   a 4096 px reconstruction is indistinguishable in a timelapse;
 * - accepted with a notice: a long side under 256 px (works, but too few pixels for convincing strokes).
 *
 * Colour: everything becomes 8-bit sRGB (CMYK, 16-bit, greyscale, palette and ICC-tagged inputs are
 * converted by libvips), EXIF orientation is applied, and transparency is flattened onto white paper
 * while the alpha channel is kept for layer exports.
 */
import { createHash, type Hash } from 'node:crypto';
import type { SourceImage } from '../core/backend.js';
import { PaintsUndoError } from '../core/errors.js';
import { flattenOnWhite, type RgbImage, type RgbaImage } from '../core/image.js';
import { formatBytes, readInputFile } from './input-file.js';
import { inputSubject } from './input-name.js';

export interface InputLimits {
  /** File size refused before reading (bytes). */
  readonly maxFileBytes: number;
  /** Decoded pixels (width * height) refused before decoding. */
  readonly maxPixels: number;
  /** Long side refused before decoding. */
  readonly maxLongSide: number;
  /** Short side below which an image is refused. */
  readonly minSide: number;
  /** Long side above which the image is downscaled after decoding. */
  readonly workingLongSide: number;
  /** Long side below which a quality notice is given. */
  readonly recommendedMinLongSide: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxFileBytes: 256 * 1024 * 1024,
  maxPixels: 100_000_000,
  maxLongSide: 16384,
  minSide: 16,
  workingLongSide: 4096,
  recommendedMinLongSide: 256,
};

/** Formats libvips may decode for us; SVG/PDF are excluded (vector inputs can expand without bound). */
const RASTER_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif', 'heif']);
const FORMAT_LIST = 'PNG, JPEG, WebP, GIF, TIFF, AVIF or PSD';

export interface DecodedInput {
  readonly source: SourceImage;
  /** Detected container format, e.g. "png", "jpeg", "psd". */
  readonly format: string;
  /** Size as stored in the file, after EXIF orientation. */
  readonly originalWidth: number;
  readonly originalHeight: number;
  /** Human-readable notes about conversions (downscaling, colour mode), one sentence each. */
  readonly notices: readonly string[];
}

export interface DecodeOptions {
  readonly limits?: Partial<InputLimits>;
  /** Where the decoded pixels are allocated (default: ordinary memory); see `sourceFromRgba`. */
  readonly allocate?: (bytes: number) => Uint8Array;
}

/** Reads (a regular file, at most `maxFileBytes`, see input-file.ts) and decodes an image file; every failure is an INPUT_* error. */
export async function decodeImageFile(path: string, options: DecodeOptions = {}): Promise<DecodedInput> {
  const limits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
  const buffer = await readInputFile(path, { maxBytes: limits.maxFileBytes });
  return decodeImageBuffer(buffer, { ...options, name: path });
}

/** libvips sample formats (sharp's metadata `depth`) in the user's words. */
const SAMPLE_DEPTHS: Record<string, string> = {
  ushort: '16-bit',
  short: '16-bit signed',
  uint: '32-bit',
  int: '32-bit signed',
  float: '32-bit floating-point',
  double: '64-bit floating-point',
  complex: 'complex',
  dpcomplex: 'complex',
};

/** Decodes an in-memory image. `name` is used in messages only. */
export async function decodeImageBuffer(
  buffer: Uint8Array,
  options: DecodeOptions & { readonly name?: string } = {},
): Promise<DecodedInput> {
  const limits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
  const name = options.name ?? 'the image';
  if (buffer.length === 0) {
    throw new PaintsUndoError('INPUT_NOT_IMAGE', `${inputSubject(name, 'input')} is empty (0 bytes).`, {
      hint: `Pass a ${FORMAT_LIST} file.`,
      details: { name },
    });
  }
  if (buffer.length > limits.maxFileBytes) {
    throw new PaintsUndoError('INPUT_TOO_LARGE', `${inputSubject(name, 'input')} is ${formatBytes(buffer.length)}, more than the ${formatBytes(limits.maxFileBytes)} limit.`, {
      hint: 'Export the artwork at a smaller size.',
      details: { name, bytes: buffer.length },
    });
  }
  if (isPsd(buffer)) return decodePsd(buffer, name, limits, options);
  return decodeRaster(buffer, name, limits, options);
}

/** The format a file claims by its magic bytes, for telling "corrupt image" from "not an image". */
function sniffFormat(b: Uint8Array): string | undefined {
  const starts = (...bytes: number[]): boolean => bytes.every((v, i) => b[i] === v);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'PNG';
  if (starts(0xff, 0xd8, 0xff)) return 'JPEG';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'GIF';
  if (starts(0x52, 0x49, 0x46, 0x46) && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'WebP';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'TIFF';
  return undefined;
}

/** Width and height from a PNG's IHDR chunk (always the first), or undefined when it is not there. */
function pngHeaderSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 24 || String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function isPsd(buffer: Uint8Array): boolean {
  return buffer.length >= 4 && buffer[0] === 0x38 && buffer[1] === 0x42 && buffer[2] === 0x50 && buffer[3] === 0x53;
}

/** `as`: the container the samples came from (a PSD's composite as TIFF) and what it already said about them. */
async function decodeRaster(buffer: Uint8Array, name: string, limits: InputLimits, options: DecodeOptions, as?: { format: string; notices: readonly string[] }): Promise<DecodedInput> {
  const { default: sharp } = await import('sharp');
  // Header only: libvips reads dimensions without decoding pixels, so bombs are refused here.
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(buffer, { limitInputPixels: false }).metadata();
  } catch (error) {
    const sniffed = sniffFormat(buffer);
    // libpng refuses a width or height over 1,000,000 as corrupt, though PNG allows 2^31-1: the header's
    // own size says what is wrong (too large, too small, or zero).
    const header = sniffed === 'PNG' ? pngHeaderSize(buffer) : undefined;
    if (header !== undefined && header.width > 0 && header.height > 0) checkDimensions(name, header.width, header.height, limits);
    if (sniffed !== undefined) {
      const why = header !== undefined && (header.width === 0 || header.height === 0) ? `its header gives a size of ${header.width}x${header.height}` : 'its header is corrupt';
      throw new PaintsUndoError('INPUT_CORRUPT', `${inputSubject(name, 'input')} looks like a ${sniffed} file, but ${why}.`, {
        hint: 'Re-export the artwork from your painting application.',
        details: { name, format: sniffed, reason: errorText(error) },
        cause: error,
      });
    }
    throw new PaintsUndoError('INPUT_NOT_IMAGE', `${inputSubject(name, 'input')} is not an image this tool can read.`, {
      hint: `Use a ${FORMAT_LIST} file.`,
      details: { name, reason: errorText(error) },
      cause: error,
    });
  }
  const format = as?.format ?? meta.format;
  if (!RASTER_FORMATS.has(meta.format)) {
    throw new PaintsUndoError('INPUT_NOT_IMAGE', `${inputSubject(name, 'input')} is ${format.toUpperCase()}, which is not supported.`, {
      hint: `Convert it to a ${FORMAT_LIST} file first.`,
      details: { name, format },
    });
  }
  const width = meta.autoOrient.width;
  const height = meta.autoOrient.height;
  checkDimensions(name, width, height, limits);

  const notices: string[] = [...(as?.notices ?? [])];
  if (as === undefined && meta.space === 'cmyk') notices.push('Converted CMYK to sRGB.');
  if (as === undefined && meta.depth !== 'uchar' && meta.depth !== 'char') notices.push(`Converted ${SAMPLE_DEPTHS[meta.depth] ?? meta.depth} samples to 8-bit.`);
  if (meta.orientation !== undefined && meta.orientation !== 1) notices.push(`Applied EXIF orientation ${meta.orientation}.`);
  // Only the first page is decoded (animated: false): say so, rather than silently drop the rest.
  const pages = meta.pages ?? 1;
  if (pages > 1) {
    notices.push(
      meta.format === 'tiff' || meta.format === 'heif'
        ? `Used the first of ${pages} pages; save the page you want on its own to use another.`
        : `Used the first of ${pages} frames of the animation; export the frame you want as a still image to use another.`,
    );
  }

  const target = workingSize(width, height, limits);
  let pipeline = sharp(buffer, { limitInputPixels: limits.maxPixels, failOn: 'error', animated: false }).autoOrient();
  if (target.width !== width || target.height !== height) pipeline = pipeline.resize(target.width, target.height, { fit: 'fill', kernel: 'lanczos3' });
  notices.push(...sizeNotices(width, height, target, limits));
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await pipeline.toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new PaintsUndoError('INPUT_CORRUPT', `${inputSubject(name, 'image')} is truncated or corrupt and cannot be decoded.`, {
      hint: 'Re-export the artwork from your painting application.',
      details: { name, reason: errorText(error) },
      cause: error,
    });
  }
  if (raw.info.channels !== 4) {
    throw new PaintsUndoError('INTERNAL', `Decoder returned ${raw.info.channels} channels instead of 4 for ${name}.`);
  }
  const rgba: RgbaImage = {
    width: raw.info.width,
    height: raw.info.height,
    channels: 4,
    data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength),
  };
  return { source: sourceFromRgba(rgba, options.allocate), format, originalWidth: width, originalHeight: height, notices };
}

/**
 * Raw pixels (a host's canvas, see RawPixels in client/protocol.ts): the size is checked like a file
 * header's, the byte count must match it exactly, and pixels above the working size are downscaled as a
 * file's would be. Nothing is decoded, so a 4096 px canvas costs a copy and a hash (`hashedAhead`: the
 * id hash of these bytes as far as they were hashed while they arrived).
 */
export async function decodeRawPixels(
  bytes: Uint8Array,
  layout: { readonly width: number; readonly height: number; readonly channels: 3 | 4 },
  options: DecodeOptions & { readonly name?: string; readonly hashedAhead?: PixelIdHash } = {},
): Promise<DecodedInput> {
  const limits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
  const name = options.name ?? 'the raw pixels';
  const { width, height, channels } = layout;
  checkDimensions(name, width, height, limits);
  const expected = width * height * channels;
  if (bytes.length !== expected) {
    throw new PaintsUndoError('INPUT_CORRUPT', `${inputSubject(name, 'input')}: ${bytes.length} bytes were sent, but ${width}x${height} with ${channels} channels is ${expected} bytes.`, {
      hint: `Send exactly width x height x channels bytes: rows top to bottom, ${channels === 3 ? 'RGB' : 'RGBA (straight alpha)'}, 8 bits per channel.`,
      details: { name, width, height, channels, bytes: bytes.length },
    });
  }
  const target = workingSize(width, height, limits);
  const notices = sizeNotices(width, height, target, limits);
  if (target.width !== width || target.height !== height) {
    const { default: sharp } = await import('sharp');
    const raw = await sharp(bytes, { raw: { width, height, channels }, limitInputPixels: limits.maxPixels })
      .resize(target.width, target.height, { fit: 'fill', kernel: 'lanczos3' })
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const rgba: RgbaImage = { width: raw.info.width, height: raw.info.height, channels: 4, data: new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength) };
    return { source: sourceFromRgba(rgba, options.allocate), format: 'raw', originalWidth: width, originalHeight: height, notices };
  }
  // Pixels hashed while they arrived: only what is left is hashed here.
  const ahead = options.hashedAhead;
  let id: string | undefined;
  if (ahead && ahead.width === width && ahead.height === height && ahead.channels === channels) {
    ahead.update(bytes, width * height);
    id = ahead.digest();
  }
  const source =
    channels === 4 ? sourceFromRgba({ width, height, channels: 4, data: bytes }, options.allocate, id) : sourceFromRgb({ width, height, channels: 3, data: bytes }, options.allocate, id);
  return { source, format: 'raw', originalWidth: width, originalHeight: height, notices };
}

/** What the working size (`target`, from workingSize) and the recommended minimum say about an image of `width` x `height`. */
function sizeNotices(width: number, height: number, target: { width: number; height: number }, limits: InputLimits): string[] {
  const notices: string[] = [];
  if (target.width !== width || target.height !== height) {
    notices.push(`Downscaled from ${width}x${height} to ${target.width}x${target.height} (the largest working size is ${limits.workingLongSide} px on the long side).`);
  }
  if (Math.max(width, height) < limits.recommendedMinLongSide) {
    notices.push(`The image is only ${width}x${height}; results look best from ${limits.recommendedMinLongSide} px on the long side.`);
  }
  return notices;
}

/**
 * A PSD's composite image (psd-composite.ts reads it strictly, in every colour mode) goes through the
 * raster path as a TIFF, so colour conversion, limits, downscaling and alpha are the same as for any file.
 */
async function decodePsd(buffer: Uint8Array, name: string, limits: InputLimits, options: DecodeOptions): Promise<DecodedInput> {
  const { readPsdHeader, psdCompositeAsTiff } = await import('./psd-composite.js');
  const header = readPsdHeader(buffer, name);
  checkDimensions(name, header.width, header.height, limits);
  const composite = psdCompositeAsTiff(buffer, name);
  const notices = [...composite.notices];
  if (header.depth > 8) notices.push(`Converted ${header.depth}-bit samples to 8-bit.`);
  return decodeRaster(composite.tiff, name, limits, options, { format: 'psd', notices });
}

function checkDimensions(name: string, width: number, height: number, limits: InputLimits): void {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (!(short >= limits.minSide)) {
    throw new PaintsUndoError('INPUT_TOO_SMALL', `${inputSubject(name, 'image')} is ${width}x${height}; the minimum is ${limits.minSide} px on each side.`, {
      hint: 'Use the full-size artwork, not a thumbnail or icon.',
      details: { name, width, height, minSide: limits.minSide },
    });
  }
  if (long > limits.maxLongSide || width * height > limits.maxPixels) {
    throw new PaintsUndoError(
      'INPUT_TOO_LARGE',
      `${inputSubject(name, 'image')} is ${width}x${height} (${megapixels(width * height, limits.maxPixels)} Mpx); the limits are ${limits.maxLongSide} px on the long side and ${limits.maxPixels / 1e6} Mpx. It was not decoded.`,
      { hint: `Export it at ${limits.workingLongSide} px on the long side or less.`, details: { name, width, height } },
    );
  }
  // The minimum holds for what is processed, not only for the file: a long, thin strip downscaled to the
  // working size would fall under it (16x16384 would become 4x4096).
  const working = workingSize(width, height, limits);
  if (Math.min(working.width, working.height) < limits.minSide) {
    const ratio = Math.floor(limits.workingLongSide / limits.minSide);
    throw new PaintsUndoError(
      'INPUT_TOO_SMALL',
      `${inputSubject(name, 'image')} is ${width}x${height}; downscaled to the working size (${limits.workingLongSide} px on the long side) it would be ${working.width}x${working.height}, under the minimum of ${limits.minSide} px on each side. It was not decoded.`,
      {
        hint: `Crop it, or cut it into parts, so that the long side is at most ${ratio} times the short side.`,
        details: { name, width, height, minSide: limits.minSide, workingWidth: working.width, workingHeight: working.height },
      },
    );
  }
}

/** `pixels` in megapixels, with as many decimals (1 to 6) as it takes to differ from `limit` (100.0 would hide why 100.01 is over 100). */
function megapixels(pixels: number, limit: number): string {
  let digits = 1;
  while (digits < 6 && pixels !== limit && (pixels / 1e6).toFixed(digits) === (limit / 1e6).toFixed(digits)) digits++;
  return (pixels / 1e6).toFixed(digits);
}

function workingSize(width: number, height: number, limits: InputLimits): { width: number; height: number } {
  const long = Math.max(width, height);
  if (long <= limits.workingLongSide) return { width, height };
  const scale = limits.workingLongSide / long;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Content id of decoded RGBA pixels: sha256 over u32 BE width, u32 BE height, then the pixels. */
export function imageId(rgba: RgbaImage): string {
  const id = new PixelIdHash(rgba.width, rgba.height, 4);
  id.update(rgba.data, rgba.width * rgba.height);
  return id.digest();
}

/** Pixels an RGB block is expanded to RGBA for hashing at a time (1 MB of RGBA). */
const ID_BLOCK_PIXELS = 256 * 1024;

/**
 * The image id (imageId) of 8-bit RGB or RGBA pixels that can arrive in order, hashed as far as they are
 * there: an upload is hashed while it is still being read (service/upload-ahead.ts). RGB pixels are
 * hashed in their RGBA form (alpha 255), so raw RGB and a PNG of the same pixels are one image, a block
 * at a time without an RGBA copy of the whole image.
 */
export class PixelIdHash {
  private readonly hash: Hash;
  private readonly total: number;
  private readonly block: Uint32Array | undefined;
  private done = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly channels: 3 | 4,
  ) {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(width, 0);
    header.writeUInt32BE(height, 4);
    this.hash = createHash('sha256').update(header);
    this.total = width * height;
    this.block = channels === 3 ? new Uint32Array(Math.min(this.total, ID_BLOCK_PIXELS)) : undefined;
  }

  /**
   * Hashes the pixels from where the last call stopped up to pixel `upTo` of `data` (the whole image's
   * bytes, filled at least that far). RGB stops at a multiple of 4 pixels before the end (the rest waits
   * for the next call), so that four pixels are always read as three aligned words.
   */
  update(data: Uint8Array, upTo: number): void {
    const end = Math.min(upTo, this.total);
    if (end <= this.done) return;
    const block = this.block;
    if (!block) {
      this.hash.update(data.subarray(this.done * 4, end * 4));
      this.done = end;
      return;
    }
    const stop = end === this.total ? end : end - (end % 4);
    const bytes = new Uint8Array(block.buffer);
    // Pixels at a 4-byte boundary are read as words, three for every four pixels (about 3x faster); a
    // multiple of 4 pixels starts at a multiple of 12 bytes.
    const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, Math.floor((this.total * 3) / 4)) : undefined;
    while (this.done < stop) {
      const start = this.done;
      const count = Math.min(block.length, stop - start);
      let p = 0;
      if (words) {
        const groups = count >> 2;
        for (let w = (start * 3) >> 2; p < groups * 4; p += 4, w += 3) {
          const w0 = words[w]!;
          const w1 = words[w + 1]!;
          const w2 = words[w + 2]!;
          block[p] = (w0 | 0xff000000) >>> 0;
          block[p + 1] = ((w0 >>> 24) | (w1 << 8) | 0xff000000) >>> 0;
          block[p + 2] = ((w1 >>> 16) | (w2 << 16) | 0xff000000) >>> 0;
          block[p + 3] = ((w2 >>> 8) | 0xff000000) >>> 0;
        }
      }
      for (let s = (start + p) * 3; p < count; p++, s += 3) block[p] = (data[s]! | (data[s + 1]! << 8) | (data[s + 2]! << 16) | 0xff000000) >>> 0;
      this.hash.update(bytes.subarray(0, count * 4));
      this.done += count;
    }
  }

  /** The id; every pixel must have been hashed. */
  digest(): string {
    if (this.done !== this.total) throw new Error(`the id hash has ${this.done} of ${this.total} pixels`);
    return this.hash.digest('hex');
  }
}

/**
 * The SourceImage of opaque RGB pixels, with the id their RGBA form has (PixelIdHash). `id`: the id these
 * pixels were already hashed to (an upload hashed while it arrived).
 */
export function sourceFromRgb(rgb: RgbImage, allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes), id?: string): SourceImage {
  const { width, height } = rgb;
  const src = rgb.data;
  if (id === undefined) {
    const hash = new PixelIdHash(width, height, 3);
    hash.update(src, width * height);
    id = hash.digest();
  }
  // Pixels that have a SharedArrayBuffer of their own (an upload read into shared memory) are used as they
  // are: a copy of a 4096 px canvas costs more than hashing it.
  const own = src.buffer instanceof SharedArrayBuffer && src.byteOffset === 0 && src.byteLength === src.buffer.byteLength && src.length === width * height * 3;
  const image = own ? src : allocate(width * height * 3);
  if (!own) image.set(src.subarray(0, width * height * 3));
  return { id, image: { width, height, channels: 3, data: image }, alpha: undefined };
}

/**
 * Builds the SourceImage of straight-alpha RGBA pixels: id, white-flattened RGB and (if any) alpha, the
 * last two allocated by `allocate` (e.g. in a SharedArrayBuffer, so worker threads read them without copies).
 * `id`: the id these pixels were already hashed to.
 */
export function sourceFromRgba(rgba: RgbaImage, allocate: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes), id?: string): SourceImage {
  const pixels = rgba.width * rgba.height;
  let transparent = false;
  for (let i = 3; i < rgba.data.length; i += 4) {
    if (rgba.data[i] !== 255) {
      transparent = true;
      break;
    }
  }
  let alpha: Uint8Array | undefined;
  if (transparent) {
    alpha = allocate(pixels);
    for (let p = 0; p < pixels; p++) alpha[p] = rgba.data[p * 4 + 3]!;
  }
  return { id: id ?? imageId(rgba), image: flattenOnWhite(rgba, allocate(pixels * 3)), alpha };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
