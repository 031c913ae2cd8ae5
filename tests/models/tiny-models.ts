/** A models folder laid out like the real downloads, made of symlinks to the tiny golden components. */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_DIR, loadManifest } from '../golden/golden.js';

const SNAPSHOT_FOLDERS = {
  'lllyasviel/paints_undo_single_frame': 'paints_undo_single_frame',
  'lllyasviel/paints_undo_multi_frame': 'paints_undo_multi_frame',
} as const;

export type TinySnapshot = keyof typeof SNAPSHOT_FOLDERS;

/** The single-frame snapshot by default; the multi-frame pipeline needs both. */
export function tinyModelsDir(repos: readonly TinySnapshot[] = ['lllyasviel/paints_undo_single_frame']): string {
  const manifest = loadManifest();
  const dir = mkdtempSync(join(tmpdir(), 'pu-models-'));
  for (const repo of repos) {
    const snapshot = manifest.snapshots[repo];
    if (snapshot === undefined) throw new Error(`the golden manifest has no snapshot map for ${repo}`);
    const root = join(dir, SNAPSHOT_FOLDERS[repo]);
    mkdirSync(root);
    for (const [sub, component] of Object.entries(snapshot)) {
      symlinkSync(join(GOLDEN_DIR, manifest.components[component]?.folder ?? component), join(root, sub));
    }
  }
  return dir;
}

/** Both official snapshots, as the `paintsundo` backend needs them. */
export function tinyFullModelsDir(): string {
  return tinyModelsDir(['lllyasviel/paints_undo_single_frame', 'lllyasviel/paints_undo_multi_frame']);
}
