/**
 * Where the benchmarks find the repository and the shared fixtures, whether they run from their sources
 * (under tsx) or compiled into benchmarks/build/ (as `npm run bench` runs them, see run.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the first folder above this module whose package.json is paints-undo's. */
function findRepoRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (true) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'paints-undo') return folder;
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no paints-undo package.json above ${fileURLToPath(import.meta.url)}`);
    folder = parent;
  }
}

export const repoRoot = findRepoRoot();

/** The tiny golden models of the model benchmarks: GOLDEN_DIR, or ../shared/golden next to the repository. */
export const goldenDir = resolve(process.env['GOLDEN_DIR'] ?? join(repoRoot, '..', 'shared', 'golden'));
