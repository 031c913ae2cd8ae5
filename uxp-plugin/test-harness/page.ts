/**
 * Test harness, not shipped (the build bundles only src/). Browser entry of the Chromium panel tests
 * (tests/uxp/panel-ui.test.ts): the real panel (view + controller + UxpPhotoshopHost) on a
 * simulated Photoshop document (the fake, with the real sample pixels served by the test), talking to the
 * real engine whose URL comes in the query string. `window.harness` exposes the fake for assertions.
 */
import { UxpPhotoshopHost } from '../src/host/photoshop-host.js';
import { startPanel } from '../src/panel/main.js';
import { loadServedDocument, openInFakePhotoshop } from './document.js';

async function boot(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const engine = params.get('engine') ?? '';
  const { ps, doc } = openInFakePhotoshop(await loadServedDocument(), params.get('token'));
  const host = new UxpPhotoshopHost(ps.modules, ps.uxp);
  const root = document.getElementById('app');
  if (!root) throw new Error('no #app');
  const panel = startPanel(root, { host, baseUrl: engine, debounceMs: 40 });
  // A stand-in for Photoshop's Layers and History panels, so screenshots show what an import did.
  const layersBox = document.createElement('pre');
  layersBox.setAttribute('data-testid', 'sim-layers');
  layersBox.style.cssText = 'margin:10px;padding:6px 8px;border:1px dashed var(--border);font:11px monospace;white-space:pre-wrap';
  document.body.append(layersBox);
  const showLayers = (): void => {
    const rows = doc.outline().map((r) => `${r.visible ? '[v]' : '[ ]'} ${'   '.repeat(r.depth)}${r.kind === 'group' ? '▾ ' : ''}${r.name}`);
    const history = doc.historyStates.map((h) => `  ${h.id === doc.activeHistoryState.id ? '▸' : ' '} ${h.name}`);
    layersBox.textContent = `Simulated Photoshop — Layers\n${rows.join('\n')}\nHistory\n${history.join('\n')}`;
  };
  showLayers();
  const shown: number[] = [];
  const requested: number[] = [];
  panel.controller.subscribe((s) => {
    showLayers();
    if (s.preview && shown[shown.length - 1] !== s.preview.step) shown.push(s.preview.step);
    if (requested[requested.length - 1] !== s.step) requested.push(s.step);
  });
  Object.assign(window, {
    harness: {
      ps,
      doc,
      panel,
      shown,
      requested,
      outline: () => doc.outline().map((r) => ({ name: r.name, depth: r.depth, visible: r.visible, kind: r.kind })),
      history: () => doc.historyStates.map((h) => h.name),
      layerPixel: (name: string, x: number, y: number) => {
        const row = doc.outline().find((r) => r.name === name);
        if (!row?.pixels) return undefined;
        const i = (y * doc.width + x) * 4;
        return Array.from(row.pixels.subarray(i, i + 4));
      },
      liveImageData: () => ps.liveImageData,
    },
  });
  document.body.setAttribute('data-ready', '1');
}

void boot();
