/**
 * The benchmark input: shared sample 1 resized (cropped to fill) to the case's size. The samples folder
 * is PAINTS_UNDO_SAMPLES or ../shared/samples next to the repository; without it, the demo's own
 * illustration is used, so `npm run bench` works on a fresh clone.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { SourceImage } from '../engine/src/core/backend.js';
import { sourceFromRgba } from '../engine/src/io/decode.js';
import { illustrationSvg } from '../engine/src/cli/demo/illustration.js';
import { repoRoot } from './paths.js';

export function samplesFolder(): string {
  return process.env['PAINTS_UNDO_SAMPLES'] ?? join(repoRoot, '..', 'shared', 'samples');
}

/** Where the benchmark image comes from, for the table's heading. */
export function sampleDescription(): string {
  const file = join(samplesFolder(), '1.jpg');
  return existsSync(file) ? file : 'the demo illustration (no samples folder found)';
}

export async function benchmarkSource(width: number, height: number): Promise<SourceImage> {
  const file = join(samplesFolder(), '1.jpg');
  const input = existsSync(file) ? sharp(file) : sharp(Buffer.from(illustrationSvg())).flatten({ background: '#ffffff' });
  const { data, info } = await input.resize(width, height, { fit: 'cover' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return sourceFromRgba({ width: info.width, height: info.height, channels: 4, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}
