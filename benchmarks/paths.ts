/**
 * Where the benchmarks find the repository and the shared fixtures, whether they run from their sources
 * (under tsx) or compiled into benchmarks/build/ (as `npm run bench` runs them, see run.ts).
 */
import { join, resolve } from 'node:path';
import { enginePackage } from '../engine/src/io/provenance.js';

const engine = enginePackage();
if (!engine) throw new Error('no paints-undo package.json above the benchmarks');

/** The repository root: the folder of paints-undo's package.json, found as the engine finds its version. */
export const repoRoot = engine.folder;

/** The tiny golden models of the model benchmarks: GOLDEN_DIR, or ../shared/golden next to the repository. */
export const goldenDir = resolve(process.env['GOLDEN_DIR'] ?? join(repoRoot, '..', 'shared', 'golden'));
