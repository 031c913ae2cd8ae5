/**
 * Wraps uncompressed planar samples in a minimal big-endian TIFF, so libvips (sharp) can do the colour
 * work on pixels that come from elsewhere (the composite of a PSD): CMYK through its embedded ICC
 * profile or libvips' standard CMYK profile, greyscale and RGB with their profiles, 16-bit and 32-bit
 * float samples. sharp's raw input only knows sRGB-like bands; a TIFF says what the samples mean.
 *
 * Layout: header, one IFD, the long tag values, then one strip per plane (PlanarConfiguration 2), so
 * a caller fills each plane in place, big-endian as PSD stores them (TIFF 6.0, "MM" byte order).
 */

export type TiffPhotometric = 'grey' | 'rgb' | 'cmyk';

export interface PlanarTiffSpec {
  readonly width: number;
  readonly height: number;
  /** 8 or 16 (unsigned integers) or 32 (IEEE float). */
  readonly bitsPerSample: 8 | 16 | 32;
  readonly photometric: TiffPhotometric;
  /** Colour planes (1 grey, 3 rgb, 4 cmyk) plus an optional last unassociated alpha plane. */
  readonly planes: number;
  readonly alpha: boolean;
  /** An ICC profile that says what the colour samples mean (grey, rgb, cmyk). */
  readonly icc?: Uint8Array;
}

export interface PlanarTiff {
  readonly bytes: Buffer;
  /** One view per plane into `bytes`, to be filled by the caller: rows top to bottom, big-endian samples. */
  readonly planes: readonly Buffer[];
}

const PHOTOMETRIC: Record<TiffPhotometric, number> = { grey: 1, rgb: 2, cmyk: 5 };
const SHORT = 3;
const LONG = 4;
const UNDEFINED = 7;
const TYPE_BYTES: Record<number, number> = { [SHORT]: 2, [LONG]: 4, [UNDEFINED]: 1 };

interface Tag {
  readonly tag: number;
  readonly type: number;
  readonly values: readonly number[] | Uint8Array;
}

/** Allocates the TIFF with room for every plane; fill `planes` before handing `bytes` to sharp. */
export function planarTiff(spec: PlanarTiffSpec): PlanarTiff {
  const { width, height, bitsPerSample, planes } = spec;
  const planeBytes = width * height * (bitsPerSample / 8);
  const tags: Tag[] = [
    { tag: 256, type: LONG, values: [width] },
    { tag: 257, type: LONG, values: [height] },
    { tag: 258, type: SHORT, values: new Array<number>(planes).fill(bitsPerSample) },
    { tag: 259, type: SHORT, values: [1] }, // no compression
    { tag: 262, type: SHORT, values: [PHOTOMETRIC[spec.photometric]] },
    { tag: 273, type: LONG, values: new Array<number>(planes).fill(0) }, // strip offsets, set below
    { tag: 277, type: SHORT, values: [planes] },
    { tag: 278, type: LONG, values: [height] }, // one strip per plane
    { tag: 279, type: LONG, values: new Array<number>(planes).fill(planeBytes) },
    { tag: 284, type: SHORT, values: [2] }, // planar
  ];
  if (spec.photometric === 'cmyk') tags.push({ tag: 332, type: SHORT, values: [1] }); // InkSet: CMYK
  if (spec.alpha) tags.push({ tag: 338, type: SHORT, values: [2] }); // ExtraSamples: unassociated alpha
  // SampleFormat: IEEE float for 32 bits.
  if (bitsPerSample === 32) tags.push({ tag: 339, type: SHORT, values: new Array<number>(planes).fill(3) });
  if (spec.icc !== undefined && spec.icc.length > 0) tags.push({ tag: 34675, type: UNDEFINED, values: spec.icc });
  tags.sort((a, b) => a.tag - b.tag);

  const ifdBytes = 2 + tags.length * 12 + 4;
  let cursor = 8 + ifdBytes;
  const placed = tags.map((t) => {
    const bytes = t.values.length * TYPE_BYTES[t.type]!;
    if (bytes <= 4) return { ...t, offset: undefined };
    const offset = cursor;
    cursor += bytes + (bytes & 1);
    return { ...t, offset };
  });
  const dataStart = cursor;
  const buffer = Buffer.alloc(dataStart + planes * planeBytes);
  buffer.write('MM', 0, 'latin1');
  buffer.writeUInt16BE(42, 2);
  buffer.writeUInt32BE(8, 4);
  buffer.writeUInt16BE(tags.length, 8);
  const strips = Array.from({ length: planes }, (_, i) => dataStart + i * planeBytes);
  placed.forEach((t, i) => {
    const values = t.tag === 273 ? strips : t.values;
    const entry = 10 + i * 12;
    buffer.writeUInt16BE(t.tag, entry);
    buffer.writeUInt16BE(t.type, entry + 2);
    buffer.writeUInt32BE(values.length, entry + 4);
    const at = t.offset ?? entry + 8;
    if (t.offset !== undefined) buffer.writeUInt32BE(t.offset, entry + 8);
    for (let v = 0; v < values.length; v++) {
      if (t.type === SHORT) buffer.writeUInt16BE(values[v]!, at + v * 2);
      else if (t.type === LONG) buffer.writeUInt32BE(values[v]!, at + v * 4);
      else buffer[at + v] = values[v]!;
    }
  });
  buffer.writeUInt32BE(0, 10 + tags.length * 12); // no next IFD
  return { bytes: buffer, planes: strips.map((start) => buffer.subarray(start, start + planeBytes)) };
}
