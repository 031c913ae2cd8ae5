/**
 * Test harness, not shipped (the build bundles only src/). Browser entry of the Chromium tests of the
 * panel's parts one at a time (tests/uxp/panel-parts.test.ts): `window.parts.fresh()` gives a simulated
 * Photoshop document (the fake, with the real sample pixels served by the test) and a PanelContext on the
 * real engine whose URL comes in the query string; the test builds only the part it exercises on it.
 */
import { UxpPhotoshopHost } from '../src/host/photoshop-host.js';
import { ActionRunner } from '../src/panel/actions.js';
import { ConnectionPart, TOKEN_KEY } from '../src/panel/connection.js';
import { PanelContext } from '../src/panel/context.js';
import { ExportPart } from '../src/panel/export.js';
import { HistoryPart } from '../src/panel/history.js';
import { ImportPart } from '../src/panel/import.js';
import { ScrubPart } from '../src/panel/scrub.js';
import { SourcePart } from '../src/panel/source.js';
import { loadServedDocument, openInFakePhotoshop } from './document.js';

async function boot(): Promise<void> {
  const engine = new URLSearchParams(location.search).get('engine') ?? '';
  const served = await loadServedDocument();

  /** A new fake Photoshop with the document open and, unless `token` is null, the pairing token stored. */
  const fresh = (token: string | null) => {
    const { ps, doc } = openInFakePhotoshop(served, token);
    const ctx = new PanelContext({ host: new UxpPhotoshopHost(ps.modules, ps.uxp), baseUrl: engine });
    return {
      ps,
      doc,
      ctx,
      /** Connects the context with the stored token (the parts act only while the panel shows "connected"). */
      connect: () => new ConnectionPart(ctx).start(),
      outline: () => doc.outline().map((r) => `${'  '.repeat(r.depth)}${r.name}${r.visible ? '' : ' (hidden)'}`),
      history: () => doc.historyStates.map((h) => h.name),
      calls: (name: string) => ps.calls.filter((c) => c.name === name).length,
      secret: () => new TextDecoder().decode(ps.secrets.get(TOKEN_KEY) ?? new Uint8Array()),
      /** The first bytes of a saved file, as text (e.g. "GIF89a"), and its length. */
      saved: (name: string) => {
        const bytes = ps.files.get(name);
        return bytes ? { length: bytes.length, head: new TextDecoder().decode(bytes.subarray(0, 12)) } : undefined;
      },
      /** Three visible edits (the top rows' red inverted on every layer), each a history state. */
      paint: () => {
        for (const rows of [20, 60, 120]) {
          doc.userEdit('Brush Tool', (states) => {
            for (const layer of states) {
              if (!layer.pixels) continue;
              const next = layer.pixels.slice();
              for (let i = 0; i < doc.width * Math.min(rows, doc.height) * 4; i += 4) next[i] = 255 - (next[i] ?? 0);
              layer.pixels = next;
            }
          });
        }
      },
    };
  };

  Object.assign(window, { parts: { fresh, ActionRunner, ConnectionPart, ExportPart, HistoryPart, ImportPart, ScrubPart, SourcePart } });
  document.body.setAttribute('data-ready', '1');
}

void boot();
