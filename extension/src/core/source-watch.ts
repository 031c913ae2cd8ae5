/**
 * Watches the image a timeline editor shows, so that an edit saved from a paint program shows in the
 * timeline without reopening it. The folder is watched, not the file: paint programs save through a
 * temporary file renamed over the old one, which ends a watch on the file itself. Bursts of events (one
 * save writes in several chunks) are taken as one change, once the file has been quiet for `quietMs`.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface SourceWatch {
  dispose(): void;
}

export function watchSource(path: string, onChange: () => void, log: (line: string) => void, quietMs = 300): SourceWatch {
  const name = basename(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
      // Some platforms do not say which file changed: then any change in the folder may be this one.
      if (changed !== null && changed.toString() !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        onChange();
      }, quietMs);
    });
    watcher.on('error', (error) => log(`[extension] stopped watching ${path} for changes: ${error.message}`));
  } catch (error) {
    // Out of watches (inotify's limit), or a folder that cannot be watched: the editor works, without reloading.
    log(`[extension] cannot watch ${path} for changes (${error instanceof Error ? error.message : String(error)}); reopen the editor after editing the image.`);
  }
  return {
    dispose() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
