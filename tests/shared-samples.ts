/**
 * Where the shared sample illustrations are: PAINTS_UNDO_SAMPLES, else ../shared/samples next to the
 * repository (where CI has them, wherever the clone lives). Every test reads samples through here.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SAMPLES_DIR = process.env['PAINTS_UNDO_SAMPLES'] ?? fileURLToPath(new URL('../../shared/samples', import.meta.url));

/** A shared sample by file name, e.g. `samplePath('1.jpg')`. */
export function samplePath(name: string): string {
  return join(SAMPLES_DIR, name);
}
