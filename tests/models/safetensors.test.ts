import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, readSafetensorsHeader } from '../../models/src/safetensors.js';
import { PaintsUndoError } from '../../engine/src/core/errors.js';

function build(entries: Record<string, unknown>, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(entries));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

test('header offsets are absolute file offsets and views read the right bytes', () => {
  const data = Buffer.alloc(4 * 3 + 2);
  data.writeUInt16LE(7, 0);
  [1.5, -2, 3].forEach((v, i) => data.writeFloatLE(v, 2 + 4 * i));
  const bytes = build(
    {
      b: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
      a: { dtype: 'F32', shape: [3], data_offsets: [2, 14] },
      __metadata__: { format: 'pt' },
    },
    data,
  );
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const path = join(dir, 'x.safetensors');
  writeFileSync(path, bytes);
  const header = readSafetensorsHeader(path);
  const a = header.tensors.get('a');
  assert.ok(a);
  assert.equal(a.offset, bytes.length - 12);
  assert.equal(header.metadata.format, 'pt');
  const file = SafetensorsFile.fromBuffer(path, readFileSync(path));
  assert.deepEqual(Array.from(file.float32('a')), [1.5, -2, 3]);
  assert.deepEqual(Array.from(file.uint8('b')), [7, 0]);
  assert.throws(() => file.int64('a'), /is F32, expected I64/);
});

test('a size mismatch or truncated file is reported with the file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  const path = join(dir, 'bad.safetensors');
  writeFileSync(path, build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } }, Buffer.alloc(8)));
  assert.throws(
    () => readSafetensorsHeader(path),
    (e: unknown) => e instanceof PaintsUndoError && e.code === 'MODEL_MISSING' && /bad\.safetensors.*8 bytes for shape \[4\]/.test(e.message),
  );
  writeFileSync(path, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensorsHeader(path), /has 3 bytes/);
});
