/**
 * safetensors: u64 little-endian header length N, N bytes of JSON, then raw little-endian tensor data.
 * `data_offsets` are relative to the end of the header, so the absolute byte offset of a tensor in the
 * file is `8 + N + begin`; that absolute offset is what ONNX external data points at (no copies).
 */
import { closeSync, constants, openSync, readSync, fstatSync } from 'node:fs';
import { z } from 'zod';
import { PaintsUndoError } from '../../engine/src/core/errors.js';

export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

const EntrySchema = z.object({
  dtype: z.enum(SAFETENSORS_DTYPES),
  shape: z.array(z.number().int().min(0)),
  data_offsets: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
});

export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Absolute byte offset in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeader {
  readonly path: string;
  readonly fileSize: number;
  /** Absolute offset of the first data byte (8 + header length). */
  readonly dataStart: number;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Largest tensor we accept: far above any tensor of the models read here. */
const MAX_TENSOR_BYTES = 4 * 1024 * 1024 * 1024;

/** Largest header we accept (the format itself caps it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function corrupt(path: string, why: string): PaintsUndoError {
  return new PaintsUndoError('MODEL_MISSING', `${path} is not a valid safetensors file: ${why}.`, {
    hint: 'Download the file again; it may be truncated or not a safetensors file.',
    details: { path },
  });
}

/** Reads only the header (a few KB) of a safetensors file; tensor data stays on disk. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const cannotRead = (cause: unknown, what = `Cannot read ${path}`): PaintsUndoError =>
    new PaintsUndoError('MODEL_MISSING', `${what}${cause instanceof Error ? ` (${cause.message})` : ''}.`, {
      hint: 'Check the model folder with `paints-undo models verify <dir>`.',
      details: { path },
      cause,
    });
  let fd: number;
  try {
    // Non-blocking: a FIFO in its place must not hang the engine (a blocked open ignores Ctrl+C); it is
    // refused below with anything else that is not a regular file.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    throw cannotRead(cause, `Cannot open ${path}`);
  }
  try {
    let info;
    try {
      info = fstatSync(fd);
    } catch (cause) {
      throw cannotRead(cause);
    }
    if (!info.isFile()) throw corrupt(path, `it is ${info.isDirectory() ? 'a folder' : 'not a regular file'}`);
    const fileSize = info.size;
    if (fileSize < 8) throw corrupt(path, `it has ${fileSize} bytes`);
    const lenBuf = Buffer.alloc(8);
    readAll(path, fd, lenBuf, 0, cannotRead);
    const headerLength = Number(lenBuf.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize) {
      throw corrupt(path, `header length ${headerLength} does not fit in ${fileSize} bytes`);
    }
    const headerBuf = Buffer.alloc(headerLength);
    readAll(path, fd, headerBuf, 8, cannotRead);
    return parseHeader(path, headerBuf.toString('utf8'), 8 + headerLength, fileSize);
  } finally {
    closeSync(fd);
  }
}

/** Fills `buffer` from `position` (a file shorter than it claims is corrupt). */
function readAll(path: string, fd: number, buffer: Buffer, position: number, cannotRead: (cause: unknown) => PaintsUndoError): void {
  let done = 0;
  while (done < buffer.length) {
    let read: number;
    try {
      read = readSync(fd, buffer, done, buffer.length - done, position + done);
    } catch (cause) {
      throw cannotRead(cause);
    }
    if (read === 0) throw corrupt(path, 'it ends before its header does');
    done += read;
  }
}

function parseHeader(path: string, json: string, dataStart: number, fileSize: number): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw corrupt(path, 'the header is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt(path, 'the header is not an object');
  // JSON.parse keeps the last of two equal keys: an entry hidden that way is counted here (every entry has
  // one "data_offsets"), so that no tensor of the file goes unchecked.
  const entries = Object.keys(raw).filter((name) => name !== '__metadata__').length;
  const offsetsGiven = json.split('"data_offsets"').length - 1;
  if (offsetsGiven > entries) throw corrupt(path, `its header names ${offsetsGiven - entries} tensor(s) twice`);
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === '__metadata__') {
      const parsed = z.record(z.string(), z.string()).safeParse(value);
      if (parsed.success) metadata = parsed.data;
      continue;
    }
    const parsed = EntrySchema.safeParse(value);
    if (!parsed.success) throw corrupt(path, `entry ${JSON.stringify(name)} is malformed (${parsed.error.issues[0]?.message ?? ''})`);
    const { dtype, shape, data_offsets: [begin, end] } = parsed.data;
    const elements = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== elements * BYTES_PER_ELEMENT[dtype]) {
      throw corrupt(path, `tensor ${name} has ${end - begin} bytes for shape [${shape.join(', ')}] ${dtype}`);
    }
    if (dataStart + end > fileSize) throw corrupt(path, `tensor ${name} ends past the end of the file`);
    // The largest tensor of the official models is ~150 MB; one of gigabytes is a forged header (over a
    // sparse file) that would make onnxruntime allocate it.
    if (end - begin > MAX_TENSOR_BYTES) throw corrupt(path, `tensor ${name} claims ${end - begin} bytes (at most ${MAX_TENSOR_BYTES} are read per tensor)`);
    tensors.set(name, { name, dtype, shape, offset: dataStart + begin, byteLength: end - begin });
  }
  // The format lays tensors out one after another: two that share bytes are a damaged or forged file.
  const ranges = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1]!;
    if (ranges[i]!.offset < previous.offset + previous.byteLength) throw corrupt(path, `tensors ${previous.name} and ${ranges[i]!.name} overlap`);
  }
  return { path, fileSize, dataStart, tensors, metadata };
}

/** A loaded safetensors file (whole file in one buffer) with zero-copy typed views. For small files: golden cases. */
export class SafetensorsFile {
  readonly header: SafetensorsHeader;
  private readonly bytes: Buffer;

  private constructor(header: SafetensorsHeader, bytes: Buffer) {
    this.header = header;
    this.bytes = bytes;
  }

  static fromBuffer(path: string, bytes: Buffer): SafetensorsFile {
    if (bytes.length < 8) throw corrupt(path, `it has ${bytes.length} bytes`);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    if (8 + headerLength > bytes.length) throw corrupt(path, 'header length past the end');
    const header = parseHeader(path, bytes.subarray(8, 8 + headerLength).toString('utf8'), 8 + headerLength, bytes.length);
    return new SafetensorsFile(header, bytes);
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const info = this.header.tensors.get(name);
    if (info === undefined) {
      throw new PaintsUndoError('MODEL_MISSING', `Tensor ${name} is not in ${this.header.path}.`, {
        details: { path: this.header.path, tensor: name, available: this.names().slice(0, 20) },
      });
    }
    return info;
  }

  /** Raw bytes of a tensor (a view, not a copy). */
  raw(name: string): Uint8Array {
    const info = this.info(name);
    return new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + info.offset, info.byteLength);
  }

  /** Typed copy (aligned) of a tensor as float32, int64 (as BigInt64Array) or uint8. */
  float32(name: string): Float32Array {
    const info = this.info(name);
    if (info.dtype !== 'F32') throw corrupt(this.header.path, `tensor ${name} is ${info.dtype}, expected F32`);
    return new Float32Array(copyAligned(this.raw(name)));
  }

  int64(name: string): BigInt64Array {
    const info = this.info(name);
    if (info.dtype !== 'I64') throw corrupt(this.header.path, `tensor ${name} is ${info.dtype}, expected I64`);
    return new BigInt64Array(copyAligned(this.raw(name)));
  }

  uint8(name: string): Uint8Array {
    const info = this.info(name);
    if (info.dtype !== 'U8') throw corrupt(this.header.path, `tensor ${name} is ${info.dtype}, expected U8`);
    return this.raw(name);
  }
}

function copyAligned(view: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(view.byteLength);
  new Uint8Array(out).set(view);
  return out;
}

export function bytesPerElement(dtype: SafetensorsDtype): number {
  return BYTES_PER_ELEMENT[dtype];
}
