/**
 * Builds dist/ once for the CLI tests, the way users run the CLI (bin/paints-undo -> dist/). The build is
 * skipped when dist/engine/src/cli/main.js is newer than every source file it compiles (`npm test`
 * builds first, so there it is always skipped).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'paints-undo');
const ENTRY = join(ROOT, 'dist', 'engine', 'src', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    if (info.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const sources = Math.max(...['engine/src', 'models/src'].filter((d) => existsSync(join(ROOT, d))).map((d) => newestSource(join(ROOT, d))));
  if (existsSync(ENTRY) && statSync(ENTRY).mtimeMs >= sources) return;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  // tsc emits even when another area has a type error; the type-check step of `npm test` reports those.
  if (!existsSync(ENTRY)) throw new Error(`build failed, no ${ENTRY}:\n${result.stdout}\n${result.stderr}`);
}
