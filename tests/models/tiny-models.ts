/** A models folder laid out like the real download, made of symlinks to the tiny golden components. */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_DIR, loadManifest } from '../golden/golden.js';

export function tinyModelsDir(): string {
  const manifest = loadManifest();
  const snapshot = manifest.snapshots['lllyasviel/paints_undo_single_frame'];
  if (snapshot === undefined) throw new Error('the golden manifest has no single-frame snapshot map');
  const dir = mkdtempSync(join(tmpdir(), 'pu-models-'));
  const root = join(dir, 'paints_undo_single_frame');
  mkdirSync(root);
  for (const [sub, component] of Object.entries(snapshot)) {
    const folder = manifest.components[component]?.folder ?? component;
    symlinkSync(join(GOLDEN_DIR, folder), join(root, sub));
  }
  return dir;
}
