/**
 * safetensors: u64 little-endian header length N, N bytes of JSON, then raw little-endian tensor data.
 * `data_offsets` are relative to the end of the header, so the absolute byte offset of a tensor in the
 * file is `8 + N + begin`; that absolute offset is what ONNX external data points at (no copies).
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
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
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new PaintsUndoError('MODEL_MISSING', `Cannot open ${path}.`, {
      hint: 'Check the model folder with `paints-undo models verify <dir>`.',
      details: { path },
      cause,
    });
  }
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) throw corrupt(path, `it has ${fileSize} bytes`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLength = Number(lenBuf.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize) {
      throw corrupt(path, `header length ${headerLength} does not fit in ${fileSize} bytes`);
    }
    const headerBuf = Buffer.alloc(headerLength);
    readSync(fd, headerBuf, 0, headerLength, 8);
    return parseHeader(path, headerBuf.toString('utf8'), 8 + headerLength, fileSize);
  } finally {
    closeSync(fd);
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
    tensors.set(name, { name, dtype, shape, offset: dataStart + begin, byteLength: end - begin });
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
