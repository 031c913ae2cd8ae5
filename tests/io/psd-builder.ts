/**
 * Builds PSD/PSB files from the Adobe Photoshop File Formats Specification, for the colour modes and
 * damaged files that no PSD writer on npm produces (ag-psd writes RGB only; ImageMagick, used for
 * tests/fixtures/psd, writes no Lab, Duotone, Multichannel or 32-bit documents): header, colour mode
 * data, image resources, layer and mask information (only its layer count), and the composite image
 * data, raw or PackBits (RLE).
 */

export interface PsdSpec {
  readonly width: number;
  readonly height: number;
  /** 0 Bitmap, 1 Grayscale, 2 Indexed, 3 RGB, 4 CMYK, 7 Multichannel, 8 Duotone, 9 Lab. */
  readonly mode: number;
  readonly depth: 1 | 8 | 16 | 32;
  /** One plane per channel, rows top to bottom, samples big-endian as stored in the file. */
  readonly planes: readonly Uint8Array[];
  readonly compression?: 'raw' | 'rle';
  /** 2 writes a PSB (large document format). */
  readonly version?: 1 | 2;
  readonly colorModeData?: Uint8Array;
  /** Image resources by id (e.g. 1039 ICC profile). */
  readonly resources?: ReadonlyMap<number, Uint8Array>;
  /** Written in the layer info; negative means "the first extra channel is the composite's alpha". */
  readonly layerCount?: number;
}

/** PackBits, as Photoshop writes it: literal runs and repeats of up to 128 bytes. */
export function packBits(row: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < row.length) {
    let run = 1;
    while (i + run < row.length && run < 128 && row[i + run] === row[i]) run++;
    if (run >= 2) {
      out.push(257 - run, row[i]!);
      i += run;
      continue;
    }
    const start = i;
    while (i < row.length && i - start < 128 && !(i + 1 < row.length && row[i + 1] === row[i])) i++;
    if (i === start) i++;
    out.push(i - start - 1);
    for (let k = start; k < i; k++) out.push(row[k]!);
  }
  return Uint8Array.from(out);
}

function u16(v: number): number[] {
  return [(v >> 8) & 255, v & 255];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

function u64(v: number): number[] {
  return [...u32(Math.floor(v / 2 ** 32)), ...u32(v >>> 0)];
}

export function rowBytesOf(spec: Pick<PsdSpec, 'width' | 'depth'>): number {
  return spec.depth === 1 ? Math.ceil(spec.width / 8) : spec.width * (spec.depth / 8);
}

export function buildPsd(spec: PsdSpec): Uint8Array {
  const version = spec.version ?? 1;
  const bytes: number[] = [];
  const push = (data: ArrayLike<number>): void => {
    for (let i = 0; i < data.length; i++) bytes.push(data[i]!);
  };
  push([0x38, 0x42, 0x50, 0x53, ...u16(version), 0, 0, 0, 0, 0, 0]);
  push([...u16(spec.planes.length), ...u32(spec.height), ...u32(spec.width), ...u16(spec.depth), ...u16(spec.mode)]);
  const modeData = spec.colorModeData ?? new Uint8Array(0);
  push([...u32(modeData.length)]);
  push(modeData);
  const resources: number[] = [];
  const add = (data: ArrayLike<number>): void => {
    for (let i = 0; i < data.length; i++) resources.push(data[i]!);
  };
  for (const [id, data] of spec.resources ?? new Map<number, Uint8Array>()) {
    add([0x38, 0x42, 0x49, 0x4d, ...u16(id), 0, 0, ...u32(data.length)]);
    add(data);
    if (data.length % 2 === 1) resources.push(0);
  }
  push(u32(resources.length));
  push(resources);
  // Layer and mask information: only a layer info with its count (no layer records when the count is 0 or -1 is for the merged alpha flag).
  if (spec.layerCount === undefined) {
    push(version === 2 ? u64(0) : u32(0));
  } else {
    const layerInfo = [...u16(spec.layerCount & 0xffff), 0, 0];
    push(version === 2 ? u64(layerInfo.length + 8) : u32(layerInfo.length + 4));
    push(version === 2 ? u64(layerInfo.length) : u32(layerInfo.length));
    push(layerInfo);
  }
  const rowBytes = rowBytesOf(spec);
  if ((spec.compression ?? 'rle') === 'raw') {
    push(u16(0));
    for (const plane of spec.planes) push(plane);
  } else {
    push(u16(1));
    const rows: Uint8Array[] = [];
    for (const plane of spec.planes) for (let y = 0; y < spec.height; y++) rows.push(packBits(plane.subarray(y * rowBytes, (y + 1) * rowBytes)));
    for (const row of rows) push(version === 2 ? u32(row.length) : u16(row.length));
    for (const row of rows) push(row);
  }
  return Uint8Array.from(bytes);
}

/** A plane of `width` x `height` samples of `depth` bits from a function of the pixel index. */
export function plane(width: number, height: number, depth: 8 | 16 | 32, sample: (i: number) => number): Uint8Array {
  const bytes = new Uint8Array(width * height * (depth / 8));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < width * height; i++) {
    const v = sample(i);
    if (depth === 8) bytes[i] = v;
    else if (depth === 16) view.setUint16(i * 2, v);
    else view.setFloat32(i * 4, v);
  }
  return bytes;
}
