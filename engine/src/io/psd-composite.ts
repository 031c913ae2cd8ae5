/**
 * The composite ("merged") image of a PSD or PSB, read from the image data section as the Adobe
 * Photoshop File Formats Specification describes it, in every colour mode Photoshop saves: Bitmap,
 * Grayscale, Indexed, RGB, CMYK, Duotone and Lab, 1/8/16/32 bits. Layers are not read.
 *
 * Strict where a lenient reader shows black: every section must fit in the file; the pixel data must be
 * there (its least possible size is checked from the header before anything is decoded, so a 50-byte
 * file that declares 7000x7000 is refused at once); every RLE row must decode to exactly one row.
 *
 * Colour is left to libvips where it can: the samples are handed over as a planar TIFF (planar-tiff.ts)
 * that says what they mean (CMYK with the document's ICC profile or a standard one, 16-bit, float), and
 * decode.ts converts them to 8-bit sRGB as for every other format. Lab is converted here (libvips reads
 * Lab as D65, Photoshop's is D50). Multichannel documents have no defined RGB appearance and are
 * refused with what to do.
 */
import { PaintsUndoError } from '../core/errors.js';
import { planarTiff, type PlanarTiffSpec } from './planar-tiff.js';
import { inputSubject } from './input-name.js';

export const PSD_COLOR_MODES: Readonly<Record<number, string>> = {
  0: 'Bitmap',
  1: 'Grayscale',
  2: 'Indexed',
  3: 'RGB',
  4: 'CMYK',
  7: 'Multichannel',
  8: 'Duotone',
  9: 'Lab',
};

/** Colour channels of each mode; a document may have more (alpha, spot channels). */
const COLOUR_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 1, 3: 3, 4: 4, 7: 1, 8: 1, 9: 3 };
/** Bit depths Photoshop saves in each mode. */
const DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1],
  1: [8, 16, 32],
  2: [8],
  3: [8, 16, 32],
  4: [8, 16],
  7: [8, 16],
  8: [8, 16],
  9: [8, 16],
};

const RESOURCE_ICC = 1039;
const RESOURCE_TRANSPARENT_INDEX = 1047;
const RESOURCE_VERSION_INFO = 1057;

export interface PsdHeader {
  /** 1: PSD, 2: PSB (large document). */
  readonly version: 1 | 2;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly depth: number;
  readonly mode: number;
}

export interface PsdComposite {
  readonly header: PsdHeader;
  /** The composite as a planar TIFF for sharp. */
  readonly tiff: Buffer;
  /** What was converted, one sentence each. */
  readonly notices: readonly string[];
}

export function psdCorrupt(name: string, reason: string, cause?: unknown): PaintsUndoError {
  return new PaintsUndoError('INPUT_CORRUPT', `${inputSubject(name, 'PSD')} is truncated or corrupt (${reason}).`, {
    hint: 'Save the document again from your painting application, or export a PNG.',
    details: { name, reason },
    cause,
  });
}

function unsupported(name: string, what: string): PaintsUndoError {
  return new PaintsUndoError('INPUT_NOT_IMAGE', `${inputSubject(name, 'PSD')} ${what}, which paints-undo cannot read.`, {
    hint: 'In Photoshop choose Image > Mode > RGB Color (8 Bits/Channel), save, and try again; or export a PNG.',
    details: { name, reason: what },
  });
}

/** Reads and checks the 26-byte header; dimensions against the engine's limits are the caller's. */
export function readPsdHeader(buffer: Uint8Array, name: string): PsdHeader {
  if (buffer.length < 26) throw psdCorrupt(name, `the header is cut off: ${buffer.length} of 26 bytes`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const version = view.getUint16(4);
  const channels = view.getUint16(12);
  const height = view.getUint32(14);
  const width = view.getUint32(18);
  const depth = view.getUint16(22);
  const mode = view.getUint16(24);
  if (version !== 1 && version !== 2) throw psdCorrupt(name, `unknown version ${version}`);
  const modeName = PSD_COLOR_MODES[mode];
  if (modeName === undefined) throw psdCorrupt(name, `unknown colour mode ${mode}`);
  if (channels < 1 || channels > 56) throw psdCorrupt(name, `${channels} channels; a document has 1 to 56`);
  const maxSide = version === 1 ? 30000 : 300000;
  if (width < 1 || height < 1 || width > maxSide || height > maxSide) throw psdCorrupt(name, `a size of ${width}x${height} pixels`);
  if (!DEPTHS[mode]!.includes(depth)) throw psdCorrupt(name, `${depth} bits per channel in ${modeName} mode`);
  if (channels < COLOUR_CHANNELS[mode]!) throw psdCorrupt(name, `${channels} channel(s) for ${modeName} mode, which needs ${COLOUR_CHANNELS[mode]}`);
  return { version, channels, height, width, depth, mode };
}

/** Bounds-checked big-endian reading; running past the end is "truncated", never zeros. */
class Cursor {
  offset = 0;
  private readonly view: DataView;

  constructor(
    readonly buffer: Uint8Array,
    private readonly name: string,
  ) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  need(bytes: number, what: string): void {
    if (this.offset + bytes > this.buffer.length) {
      throw psdCorrupt(this.name, `${what} needs ${bytes} bytes at byte ${this.offset}, but the file ends at ${this.buffer.length}`);
    }
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.offset);
    this.offset += 2;
    return value;
  }

  /** A section length (4 bytes, 8 in PSB for the large sections); returns [start, end) and skips it. */
  section(what: string, large: boolean): { start: number; end: number } {
    this.need(large ? 8 : 4, `the length of ${what}`);
    const length = large ? Number(this.view.getBigUint64(this.offset)) : this.view.getUint32(this.offset);
    this.offset += large ? 8 : 4;
    this.need(length, what);
    const start = this.offset;
    this.offset += length;
    return { start, end: start + length };
  }
}

/** Image resources by id (the first of each); a malformed block ends the list (resources are optional). */
function readResources(buffer: Uint8Array, start: number, end: number): Map<number, Uint8Array> {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const resources = new Map<number, Uint8Array>();
  let at = start;
  while (at + 12 <= end) {
    const signature = String.fromCharCode(buffer[at]!, buffer[at + 1]!, buffer[at + 2]!, buffer[at + 3]!);
    if (!['8BIM', 'MeSa', 'AgHg', 'PHUT', 'DCSR'].includes(signature)) break;
    const id = view.getUint16(at + 4);
    const nameBytes = 1 + buffer[at + 6]!;
    const sizeAt = at + 6 + nameBytes + (nameBytes & 1);
    if (sizeAt + 4 > end) break;
    const size = view.getUint32(sizeAt);
    const dataAt = sizeAt + 4;
    if (dataAt + size > end) break;
    if (!resources.has(id)) resources.set(id, buffer.subarray(dataAt, dataAt + size));
    at = dataAt + size + (size & 1);
  }
  return resources;
}

/**
 * PackBits: decodes `src[from, to)` into exactly `dst.length` bytes; false when the row is too short,
 * too long, or runs past its own bytes.
 */
function unpackRow(src: Uint8Array, from: number, to: number, dst: Uint8Array): boolean {
  let s = from;
  let d = 0;
  while (s < to) {
    const header = src[s++]!;
    if (header < 128) {
      const count = header + 1;
      if (s + count > to || d + count > dst.length) return false;
      dst.set(src.subarray(s, s + count), d);
      s += count;
      d += count;
    } else if (header > 128) {
      const count = 257 - header;
      if (s >= to || d + count > dst.length) return false;
      dst.fill(src[s++]!, d, d + count);
      d += count;
    }
    // 128 is a no-op.
  }
  return d === dst.length;
}

/** Where each channel's pixels are and how to get them into a plane buffer. */
interface ChannelData {
  readonly rowBytes: number;
  /** Fills `target` (rowBytes * height bytes) with channel `c`. */
  readonly read: (c: number, target: Uint8Array) => void;
}

function locateChannels(cursor: Cursor, header: PsdHeader, name: string): ChannelData {
  const { width, height, channels, depth, version } = header;
  const rowBytes = depth === 1 ? Math.ceil(width / 8) : width * (depth / 8);
  const planeBytes = rowBytes * height;
  const compression = cursor.u16('the image data');
  const buffer = cursor.buffer;
  const dataStart = cursor.offset;
  const left = buffer.length - dataStart;
  const size = `${width}x${height} pixels, ${channels} channel(s) of ${depth} bits`;
  if (compression === 0) {
    if (left < channels * planeBytes) throw psdCorrupt(name, `the image data holds ${left} bytes, but ${size} need ${channels * planeBytes}`);
    return { rowBytes, read: (c, target) => target.set(buffer.subarray(dataStart + c * planeBytes, dataStart + (c + 1) * planeBytes)) };
  }
  if (compression === 2 || compression === 3) throw unsupported(name, 'stores its composite image ZIP-compressed');
  if (compression !== 1) throw psdCorrupt(name, `unknown compression ${compression}`);
  // RLE: a byte count per row of every channel, then the rows. The shortest possible row takes 2 bytes per
  // 128 pixel bytes, so the data cannot be there when fewer bytes are left than that.
  const countBytes = version === 2 ? 4 : 2;
  const rows = channels * height;
  const least = rows * countBytes + rows * 2 * Math.ceil(rowBytes / 128);
  if (left < least) throw psdCorrupt(name, `the image data holds ${left} bytes, but ${size} need at least ${least} even when compressed`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const rowStart = new Float64Array(rows + 1);
  rowStart[0] = dataStart + rows * countBytes;
  for (let r = 0; r < rows; r++) {
    const at = dataStart + r * countBytes;
    rowStart[r + 1] = rowStart[r]! + (countBytes === 2 ? view.getUint16(at) : view.getUint32(at));
  }
  if (rowStart[rows]! > buffer.length) {
    throw psdCorrupt(name, `its RLE row lengths add up to ${rowStart[rows]! - rowStart[0]!} bytes of image data, but only ${buffer.length - rowStart[0]!} are there`);
  }
  return {
    rowBytes,
    read: (c, target) => {
      for (let y = 0; y < height; y++) {
        const r = c * height + y;
        if (!unpackRow(buffer, rowStart[r]!, rowStart[r + 1]!, target.subarray(y * rowBytes, (y + 1) * rowBytes))) {
          throw psdCorrupt(name, `row ${y + 1} of channel ${c + 1} does not decode to ${rowBytes} bytes`);
        }
      }
    },
  };
}

/** Reads one sample as a number and writes one back, for 8/16-bit integers and 32-bit floats. */
function sampleAccess(depth: number): { get: (b: Uint8Array, i: number) => number; set: (b: Uint8Array, i: number, v: number) => void; max: number } {
  if (depth === 8) return { get: (b, i) => b[i]!, set: (b, i, v) => void (b[i] = v), max: 255 };
  if (depth === 16) {
    return {
      get: (b, i) => (b[2 * i]! << 8) | b[2 * i + 1]!,
      set: (b, i, v) => {
        b[2 * i] = v >> 8;
        b[2 * i + 1] = v & 255;
      },
      max: 65535,
    };
  }
  return {
    get: (b, i) => new DataView(b.buffer, b.byteOffset + 4 * i, 4).getFloat32(0),
    set: (b, i, v) => new DataView(b.buffer, b.byteOffset + 4 * i, 4).setFloat32(0, v),
    max: 1,
  };
}

/**
 * Photoshop stores a transparent composite matted against white (towards `white` of each plane, in the
 * stored values); this undoes it so decode.ts can flatten once, as for any image with alpha.
 */
function unmatte(planes: readonly Uint8Array[], whites: readonly number[], alpha: Uint8Array, depth: number, pixels: number): void {
  const s = sampleAccess(depth);
  for (let i = 0; i < pixels; i++) {
    const a = s.get(alpha, i) / s.max;
    if (a <= 0 || a >= 1) continue;
    planes.forEach((plane, p) => {
      const white = whites[p]!;
      const v = (s.get(plane, i) - white * (1 - a)) / a;
      s.set(plane, i, depth === 32 ? v : Math.max(0, Math.min(s.max, Math.round(v))));
    });
  }
}

/** D50 reference white (Photoshop's Lab is relative to D50, the ICC connection space). */
const D50 = [0.96422, 1, 0.82521] as const;
/** XYZ (D50) to linear sRGB, Bradford-adapted to D65 (Lindbloom, "RGB/XYZ Matrices"). */
const XYZ_D50_TO_SRGB = [
  [3.1338561, -1.6168667, -0.4906146],
  [-0.9787684, 1.9161415, 0.033454],
  [0.0719453, -0.2289914, 1.4052427],
] as const;

/**
 * CIE L*a*b* (D50) to 16-bit sRGB: Lab to XYZ (CIE 15), Bradford to D65 and the sRGB matrix, then the
 * sRGB transfer curve (IEC 61966-2-1); out-of-gamut colours are clipped. PSD stores L as 0..max for
 * 0..100 and a, b offset by half the range (128 or 32768 is 0; one unit of a or b is 1 or 256 steps).
 */
function labToSrgb16(stored: readonly Uint8Array[], planes: readonly Uint8Array[], depth: number, pixels: number): void {
  const s = sampleAccess(depth);
  const out = sampleAccess(16);
  const unit = depth === 8 ? 1 : 256;
  const half = depth === 8 ? 128 : 32768;
  const epsilon = 216 / 24389;
  const kappa = 24389 / 27;
  const finv = (t: number): number => (t * t * t > epsilon ? t * t * t : (116 * t - 16) / kappa);
  const encode = (v: number): number => {
    const c = Math.max(0, Math.min(1, v));
    return Math.round(65535 * (c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055));
  };
  for (let i = 0; i < pixels; i++) {
    const L = (s.get(stored[0]!, i) / s.max) * 100;
    const a = (s.get(stored[1]!, i) - half) / unit;
    const b = (s.get(stored[2]!, i) - half) / unit;
    const fy = (L + 16) / 116;
    const xyz = [D50[0] * finv(fy + a / 500), D50[1] * (L > kappa * epsilon ? fy * fy * fy : L / kappa), D50[2] * finv(fy - b / 200)];
    for (let c = 0; c < 3; c++) {
      const m = XYZ_D50_TO_SRGB[c]!;
      out.set(planes[c]!, i, encode(m[0] * xyz[0]! + m[1] * xyz[1]! + m[2] * xyz[2]!));
    }
  }
}

/** Reads the composite of a PSD/PSB (see the module comment) and returns it as a TIFF for sharp. */
export function psdCompositeAsTiff(buffer: Uint8Array, name: string): PsdComposite {
  const header = readPsdHeader(buffer, name);
  const { width, height, depth, mode, channels } = header;
  const modeName = PSD_COLOR_MODES[mode]!;
  const cursor = new Cursor(buffer, name);
  cursor.offset = 26;
  const modeData = cursor.section('the colour mode data', false);
  const resourceSection = cursor.section('the image resources', false);
  const layerSection = cursor.section('the layer and mask information', header.version === 2);
  const resources = readResources(buffer, resourceSection.start, resourceSection.end);
  // A negative layer count says the first extra channel is the composite's transparency.
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const lengthBytes = header.version === 2 ? 8 : 4;
  const mergedAlpha =
    layerSection.end - layerSection.start >= lengthBytes + 2 && view.getInt16(layerSection.start + lengthBytes) < 0 && channels > COLOUR_CHANNELS[mode]!;
  const data = locateChannels(cursor, header, name);

  if (mode === 7) throw unsupported(name, 'is in Multichannel mode (inks without a defined RGB appearance)');
  const versionInfo = resources.get(RESOURCE_VERSION_INFO);
  if (versionInfo !== undefined && versionInfo.length >= 5 && versionInfo[4] === 0) {
    throw new PaintsUndoError('INPUT_NOT_IMAGE', `${inputSubject(name, 'PSD')} has no readable composite image.`, {
      hint: 'In Photoshop, enable "Maximize PSD compatibility" and save again, or export a PNG.',
      details: { name, colorMode: modeName, depth },
    });
  }

  const pixels = width * height;
  const planeBytes = data.rowBytes * height;
  const readChannel = (c: number): Uint8Array => {
    const plane = new Uint8Array(planeBytes);
    data.read(c, plane);
    return plane;
  };
  const icc = resources.get(RESOURCE_ICC);
  const notices = ['Read the composite image of the PSD (layers are not used as input).'];
  let spec: PlanarTiffSpec;
  let fill: (planes: readonly Buffer[]) => void;

  switch (mode) {
    case 0: {
      // 1 bit per pixel, 1 = black.
      spec = { width, height, bitsPerSample: 8, photometric: 'grey', planes: 1, alpha: false };
      fill = ([grey]) => {
        const bits = readChannel(0);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) grey![y * width + x] = bits[y * data.rowBytes + (x >> 3)]! & (0x80 >> (x & 7)) ? 0 : 255;
        }
      };
      break;
    }
    case 2: {
      if (modeData.end - modeData.start < 768) throw psdCorrupt(name, 'the colour table of the indexed image is missing');
      const table = buffer.subarray(modeData.start, modeData.start + 768);
      const transparentData = resources.get(RESOURCE_TRANSPARENT_INDEX);
      const transparent = transparentData !== undefined && transparentData.length >= 2 ? (transparentData[0]! << 8) | transparentData[1]! : undefined;
      spec = { width, height, bitsPerSample: 8, photometric: 'rgb', planes: transparent === undefined ? 3 : 4, alpha: transparent !== undefined };
      fill = (planes) => {
        const index = readChannel(0);
        for (let i = 0; i < pixels; i++) {
          const v = index[i]!;
          planes[0]![i] = table[v]!;
          planes[1]![i] = table[256 + v]!;
          planes[2]![i] = table[512 + v]!;
          if (transparent !== undefined) planes[3]![i] = v === transparent ? 0 : 255;
        }
      };
      notices.push('Converted the indexed (palette) colours of the PSD to RGB.');
      break;
    }
    case 9: {
      const colours = 3;
      spec = { width, height, bitsPerSample: 16, photometric: 'rgb', planes: colours + (mergedAlpha ? 1 : 0), alpha: mergedAlpha };
      fill = (planes) => {
        const stored = planes.map((_, c) => readChannel(c));
        const half = depth === 8 ? 128 : 32768;
        if (mergedAlpha) unmatte(stored.slice(0, colours), [depth === 8 ? 255 : 65535, half, half], stored[colours]!, depth, pixels);
        labToSrgb16(stored, planes, depth, pixels);
        if (mergedAlpha) {
          const s = sampleAccess(depth);
          const out = sampleAccess(16);
          for (let i = 0; i < pixels; i++) out.set(planes[colours]!, i, depth === 8 ? s.get(stored[colours]!, i) * 257 : s.get(stored[colours]!, i));
        }
      };
      notices.push('Converted the Lab colours of the PSD to sRGB.');
      break;
    }
    default: {
      // Grayscale, Duotone (its inks are not documented: read as greyscale, as the specification advises), RGB, CMYK.
      const colours = COLOUR_CHANNELS[mode]!;
      const photometric = mode === 3 ? 'rgb' : mode === 4 ? 'cmyk' : 'grey';
      const embedded = mode !== 8 && icc !== undefined && icc.length > 0;
      spec = {
        width,
        height,
        bitsPerSample: depth as 8 | 16 | 32,
        photometric,
        planes: colours + (mergedAlpha ? 1 : 0),
        alpha: mergedAlpha,
        ...(embedded ? { icc } : {}),
      };
      fill = (planes) => {
        planes.forEach((plane, c) => data.read(c, plane));
        const s = sampleAccess(depth);
        if (mergedAlpha) unmatte(planes.slice(0, colours), new Array<number>(colours).fill(s.max), planes[colours]!, depth, pixels);
        // PSD stores CMYK as 255 - ink (0 = full ink); TIFF as the ink itself.
        if (mode === 4) for (const plane of planes.slice(0, colours)) for (let i = 0; i < plane.length; i++) plane[i] = 255 - plane[i]!;
      };
      if (mode === 4) notices.push(`Converted the CMYK colours of the PSD to sRGB with ${embedded ? 'its embedded colour profile' : 'a standard CMYK profile (the document has none embedded)'}.`);
      if (mode === 8) notices.push('Read the duotone PSD as greyscale: its duotone inks are not reproduced.');
      break;
    }
  }
  const tiff = planarTiff(spec);
  fill(tiff.planes);
  return { header, tiff: tiff.bytes, notices };
}
