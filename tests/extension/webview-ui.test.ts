// The timeline webview in real headless Chromium, talking to a real TimelineSession and the real engine
// over stdio. The page is the extension's own HTML (same CSP and nonce); a small shim stands in for
// VS Code's acquireVsCodeApi and message passing, carrying typed arrays the way VS Code does.
// Covers: init and first frame, slider scrubbing (debounced, newest frame shown), presets, play/pause, export flow,
// error display, theme variables, and state restored when the webview is re-created (tab hidden/shown).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EngineManager } from '../../extension/src/core/engine-manager.js';
import type { HostMessage, WebviewMessage } from '../../extension/src/core/messages.js';
import { readSettings, type SettingKey } from '../../extension/src/core/settings.js';
import { TimelineSession, type SessionHost } from '../../extension/src/core/timeline-session.js';
import { webviewHtml } from '../../extension/src/core/webview-html.js';
import { samplePath } from '../shared-samples.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const extensionPath = join(root, 'extension');
const scratch = mkdtempSync(join(tmpdir(), 'pu-ext-webview-'));
// A shared sample at 384 px on the long side (288x384): plans in about a second on this machine.
const SAMPLE = join(scratch, 'sample.png');
/** Screenshots for a person to look at (the test prints where). */
const shots = join(tmpdir(), 'paints-undo-extension-screens');
const NONCE = 'dGVzdG5vbmNlMTIzNDU2Nzg5MA';

const DARK = {
  '--vscode-foreground': 'rgb(204, 204, 204)',
  '--vscode-editor-background': 'rgb(31, 31, 31)',
  '--vscode-button-background': 'rgb(0, 120, 212)',
  '--vscode-button-foreground': 'rgb(255, 255, 255)',
  '--vscode-button-secondaryBackground': 'rgb(49, 49, 49)',
  '--vscode-button-secondaryForeground': 'rgb(204, 204, 204)',
  '--vscode-input-background': 'rgb(49, 49, 49)',
  '--vscode-input-foreground': 'rgb(204, 204, 204)',
  '--vscode-descriptionForeground': 'rgb(157, 157, 157)',
  '--vscode-editorWidget-background': 'rgb(32, 32, 32)',
  '--vscode-editor-inactiveSelectionBackground': 'rgb(58, 61, 65)',
  '--vscode-inputValidation-errorBackground': 'rgb(90, 29, 29)',
  '--vscode-inputValidation-errorBorder': 'rgb(190, 17, 0)',
  '--vscode-errorForeground': 'rgb(248, 81, 73)',
  '--vscode-badge-background': 'rgb(97, 97, 97)',
  '--vscode-badge-foreground': 'rgb(248, 248, 248)',
  '--vscode-font-family': 'sans-serif',
  '--vscode-font-size': '13px',
};
const LIGHT = { ...DARK, '--vscode-foreground': 'rgb(59, 59, 59)', '--vscode-editor-background': 'rgb(255, 255, 255)', '--vscode-button-background': 'rgb(0, 95, 184)', '--vscode-input-background': 'rgb(255, 255, 255)', '--vscode-input-foreground': 'rgb(59, 59, 59)', '--vscode-editorWidget-background': 'rgb(248, 248, 248)', '--vscode-editor-inactiveSelectionBackground': 'rgb(229, 235, 241)', '--vscode-button-secondaryBackground': 'rgb(229, 229, 229)', '--vscode-button-secondaryForeground': 'rgb(59, 59, 59)' };

// Typed arrays cross page.evaluate as {__u8: base64}, as VS Code transfers them as binary.
type Wire = unknown;
function toWire(value: unknown): Wire {
  if (value instanceof Uint8Array) return { __u8: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

const SHIM = `
(() => {
  const decode = (v) => {
    if (v && typeof v === 'object' && typeof v.__u8 === 'string') {
      const bin = atob(v.__u8); const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
    if (Array.isArray(v)) return v.map(decode);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
    return v;
  };
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return {
      postMessage: (m) => window.__toHost(JSON.parse(JSON.stringify(m))),
      getState: () => JSON.parse(sessionStorage.getItem('vscode-state') || 'null'),
      setState: (s) => sessionStorage.setItem('vscode-state', JSON.stringify(s)),
    };
  };
  window.__fromHost = (m) => window.dispatchEvent(new MessageEvent('message', { data: decode(m) }));
})();`;

interface Harness {
  readonly page: Page;
  readonly sent: WebviewMessage[];
  readonly saveDialogs: string[];
  readonly written: string[];
  readonly session: TimelineSession;
}

let server: Server;
let origin: string;
let browser: Browser;
let engine: EngineManager;
const settingsValues: Partial<Record<SettingKey, unknown>> = {};

function page(sourcePath: string): string {
  const html = webviewHtml({ cspSource: origin, scriptUri: `${origin}/out/webview/main.js`, styleUri: `${origin}/media/webview.css`, title: 'PaintsUndo Timeline: test', nonce: NONCE });
  return html.replace(`<script nonce="${NONCE}" src=`, `<script nonce="${NONCE}">${SHIM}</script>\n<script nonce="${NONCE}" src=`).replace('<body>', `<body data-source="${sourcePath}">`);
}

async function open(sourcePath: string, saveTo: string): Promise<Harness> {
  const p = await browser.newPage({ viewport: { width: 900, height: 900 } });
  const sent: WebviewMessage[] = [];
  const saveDialogs: string[] = [];
  const written: string[] = [];
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const host: SessionHost = {
    post: (message: HostMessage) => {
      p.evaluate(`window.__fromHost(${JSON.stringify(toWire(message))})`).catch(() => undefined);
    },
    showSaveDialog: (options) => {
      saveDialogs.push(options.defaultPath);
      return Promise.resolve(saveTo);
    },
    showFolderDialog: () => Promise.resolve(undefined),
    confirmReplace: () => Promise.resolve(false),
    withProgress: (_title, task) => task({ report: () => undefined, onCancel: () => undefined }),
    writeFile: (path, bytes) => {
      writeFileSync(path, bytes);
      written.push(path);
      return Promise.resolve();
    },
    readSource: () => Promise.resolve(new Uint8Array(readFileSync(sourcePath))),
    sourceSize: () => Promise.resolve(statSync(sourcePath).size),
    showInfo: () => undefined,
    showError: () => undefined,
  };
  const session = new TimelineSession({
    sourcePath,
    fileName: sourcePath.split('/').at(-1) ?? 'image',
    confirmRestart: () => Promise.resolve(true),
    exportFolder: () => dirname(sourcePath),
    engine,
    host,
    settings: () => readSettings((k) => settingsValues[k]),
    log: () => undefined,
    sliderName: `ui-${Math.random()}`,
  });
  await p.exposeFunction('__toHost', (m: WebviewMessage) => {
    sent.push(m);
    session.handle(m);
  });
  await p.goto(`${origin}/?source=${encodeURIComponent(sourcePath)}`);
  assert.deepEqual(errors, [], 'no script errors and no CSP violations');
  return { page: p, sent, saveDialogs, written, session };
}

async function setTheme(p: Page, vars: Record<string, string>): Promise<void> {
  // VS Code puts the theme on <html>'s style through the CSSOM, which the CSP allows.
  await p.evaluate(`for (const [k, v] of Object.entries(${JSON.stringify(vars)})) document.documentElement.style.setProperty(k, v)`);
}

/**
 * Polls a page expression. (page.waitForFunction would evaluate a string with eval inside the page,
 * which the webview's CSP rightly forbids; page.evaluate goes through the debugger protocol.)
 */
async function waitUntil(p: Page, expression: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await p.evaluate<boolean>(expression))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function shownStep(p: Page): Promise<string | undefined> {
  return p.locator('#preview').getAttribute('data-step').then((s) => s ?? undefined);
}

async function waitForStep(p: Page, step: number): Promise<void> {
  await waitUntil(p, `(() => { const img = document.getElementById('preview'); return img.dataset.step === '${step}' && img.complete; })()`, 90_000);
}

before(async () => {
  await sharp(samplePath('3.jpg')).resize(384, 384, { fit: 'inside' }).png().toFile(SAMPLE);
  mkdirSync(shots, { recursive: true });
  process.env.PAINTS_UNDO_CACHE_DIR = join(scratch, 'cache');
  process.env.PAINTS_UNDO_CONFIG_DIR = join(scratch, 'config');
  engine = new EngineManager({ extensionPath, settings: () => readSettings((k) => settingsValues[k]), log: () => undefined, clientName: 'webview-ui-test' });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const files: Record<string, [string, string]> = {
      '/out/webview/main.js': [join(extensionPath, 'out/webview/main.js'), 'text/javascript'],
      '/media/webview.css': [join(extensionPath, 'media/webview.css'), 'text/css'],
    };
    const file = files[url.pathname];
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(url.searchParams.get('source') ?? ''));
    } else if (file) {
      res.writeHead(200, { 'content-type': file[1] }).end(readFileSync(file[0]));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  assert.ok(existsSync(join(extensionPath, 'out/webview/main.js')), 'run `npm run build:extension` first');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await engine?.dispose();
  server?.close();
  rmSync(scratch, { recursive: true, force: true });
  console.log(`webview screenshots: ${shots}`);
});

test('webview: first frame, theme variables, scrubbing, presets, export flow and state restore', async () => {
  const out = join(scratch, 'ui.mp4');
  const h = await open(SAMPLE, out);
  const p = h.page;
  await setTheme(p, DARK);
  await waitForStep(p, 0);
  assert.match((await p.locator('#title').textContent()) ?? '', /sample\.png \(288×384\)/);
  assert.match((await p.locator('#engine').textContent()) ?? '', /connected/);
  assert.equal(await p.locator('#error').isHidden(), true);

  // Theme: colours come from the variables, and follow a theme change.
  const colours = async (): Promise<string[]> =>
    p.evaluate<string[]>(`[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color, getComputedStyle(document.getElementById('export-timelapse')).backgroundColor]`);
  assert.deepEqual(await colours(), [DARK['--vscode-editor-background'], DARK['--vscode-foreground'], DARK['--vscode-button-background']]);
  await p.screenshot({ path: join(shots, '1-dark-step0.png') });
  await setTheme(p, LIGHT);
  assert.deepEqual(await colours(), [LIGHT['--vscode-editor-background'], LIGHT['--vscode-foreground'], LIGHT['--vscode-button-background']]);

  // Scrub: a quick series of slider positions ends on the newest one; fewer requests than positions.
  const framesBefore = h.sent.filter((m) => m.type === 'frame').length;
  // A drag: eleven input events in one task (as fast as a real drag can be), so the debounce must
  // coalesce them into one request, for the last position.
  await p.evaluate(`(() => {
    const slider = document.getElementById('step');
    for (const v of [300, 320, 340, 360, 380, 400, 420, 440, 460, 480, 500]) {
      slider.value = String(v);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    }
  })()`);
  await waitForStep(p, 500);
  assert.equal(await p.locator('#step-number').inputValue(), '500');
  const frameRequests = h.sent.filter((m) => m.type === 'frame').length - framesBefore;
  assert.equal(frameRequests, 1, 'the drag is debounced into one request');
  // Then a slower drag, one position per task: every shown frame matches the slider, and it ends on the last one.
  for (const v of [510, 520, 530]) await p.locator('#step').fill(String(v));
  await waitForStep(p, 530);
  const lastFrame = h.sent.filter((m) => m.type === 'frame').at(-1);
  assert.equal(lastFrame?.type === 'frame' && lastFrame.step, 530);
  await p.screenshot({ path: join(shots, '2-light-step500.png') });

  // Presets jump straight to a step; the blank canvas is (nearly) white.
  await p.locator('button.preset[data-step="999"]').click();
  await waitForStep(p, 999);
  // Mean brightness of the shown frame, drawn into a 32x32 canvas (evaluated in the page).
  const brightness = await p.evaluate<number>(`(() => {
    const c = document.createElement('canvas');
    c.width = 32;
    c.height = 32;
    const g = c.getContext('2d');
    g.drawImage(document.getElementById('preview'), 0, 0, 32, 32);
    const d = g.getImageData(0, 0, 32, 32).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += (d[i] + d[i + 1] + d[i + 2]) / 3;
    return sum / (d.length / 4);
  })()`);
  assert.ok(brightness > 245, `step 999 brightness ${brightness}`);
  // Going back to a step seen before is served by the webview's own cache: no new request.
  const before = h.sent.length;
  await p.locator('#step-number').fill('500');
  await p.locator('#step-number').press('Enter');
  await waitForStep(p, 500);
  assert.equal(h.sent.length, before, 'a cached step shows without asking the host');

  // Export: options from the form travel in the message; the dialog defaults next to the source.
  await p.locator('#frames').fill('10');
  await p.locator('#frames').press('Tab');
  await p.locator('#size').fill('128');
  await p.locator('#size').press('Tab');
  await p.locator('#export-timelapse').click();
  await waitUntil(p, `/^Saved /.test(document.getElementById('status').textContent)`, 120_000);
  const exportMessage = h.sent.find((m) => m.type === 'export');
  assert.deepEqual(exportMessage?.type === 'export' && exportMessage.spec, { what: 'timelapse', format: 'mp4', frames: 10, fps: 25, label: false, size: 128 });
  assert.deepEqual(h.saveDialogs, [join(scratch, 'sample-timelapse.mp4')]);
  assert.deepEqual(h.written, [out]);
  assert.ok(readFileSync(out).length > 1000);
  await p.screenshot({ path: join(shots, '3-after-export.png') });

  // The tab is hidden and shown again: VS Code re-creates the page; the state comes back.
  await p.reload();
  await waitForStep(p, 500);
  assert.equal(await p.locator('#step').inputValue(), '500');
  assert.equal(await p.locator('#frames').inputValue(), '10');

  // Play walks from the current step towards the finished artwork (decreasing steps); Pause stops it.
  const playedFrom = h.sent.length;
  await p.locator('#play').click();
  await waitUntil(p, `Number(document.getElementById('preview').dataset.step) <= 460`, 90_000);
  assert.match((await p.locator('#play').textContent()) ?? '', /Pause/);
  await p.locator('#play').click();
  await waitUntil(p, `document.getElementById('play').textContent.includes('Play')`, 90_000);
  const played = h.sent.slice(playedFrom).flatMap((m) => (m.type === 'frame' ? [m.step] : []));
  assert.ok(played.length >= 2, `played ${played.join(',')}`);
  assert.deepEqual(played, [...played].sort((a, b) => b - a), 'frames are requested in drawing order');
  h.session.dispose();
  await p.close();
});

test('webview: what the engine says of the image (too small to look good) shows under the title', async () => {
  const small = join(scratch, 'thumb.png');
  await sharp(SAMPLE).resize(200, 150, { fit: 'fill' }).png().toFile(small);
  const h = await open(small, join(scratch, 'thumb.mp4'));
  const p = h.page;
  await waitForStep(p, 0);
  assert.equal(await p.locator('#notice').isHidden(), false);
  assert.match((await p.locator('#notice').textContent()) ?? '', /only 200x150; results look best from/);
  h.session.dispose();
  await p.close();
  // The 288x384 sample needs no word.
  const plain = await open(SAMPLE, join(scratch, 'plain.mp4'));
  await waitForStep(plain.page, 0);
  assert.equal(await plain.page.locator('#notice').isHidden(), true);
  plain.session.dispose();
  await plain.page.close();
});

test('webview: an image edited on disk replaces the frames shown, none of the earlier frames is shown again', async () => {
  const edited = join(scratch, 'edited.png');
  await sharp(SAMPLE).png().toFile(edited);
  const h = await open(edited, join(scratch, 'edited.mp4'));
  const p = h.page;
  await waitForStep(p, 0);
  const before = await p.locator('#preview').getAttribute('src');
  await sharp(SAMPLE).flop().resize(300, 300, { fit: 'fill' }).png().toFile(edited);
  await h.session.sourceChanged();
  await waitUntil(p, `document.getElementById('preview').src !== ${JSON.stringify(before)} && document.getElementById('preview').complete`, 60_000);
  assert.equal(await shownStep(p), '0');
  assert.match((await p.locator('#title').textContent()) ?? '', /300×300/);
  h.session.dispose();
  await p.close();
});

test('webview: an engine error is shown with its message, and the controls stay disabled', async () => {
  const broken = join(scratch, 'broken.jpg');
  writeFileSync(broken, readFileSync(SAMPLE).subarray(0, 400));
  const h = await open(broken, join(scratch, 'never.mp4'));
  const p = h.page;
  await setTheme(p, DARK);
  await p.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
  const code = await p.locator('#error').getAttribute('data-code');
  assert.ok(code === 'INPUT_CORRUPT' || code === 'INPUT_NOT_IMAGE', String(code));
  assert.ok(((await p.locator('#error .error-text').textContent()) ?? '').length > 10);
  assert.equal(await p.locator('#export-timelapse').isDisabled(), true);
  assert.equal(await p.locator('#step').isDisabled(), true);
  assert.equal(await shownStep(p), undefined);
  await p.screenshot({ path: join(shots, '4-error.png') });
  h.session.dispose();
  await p.close();
});

test('webview: an export that failed keeps its error while the slider shows other frames', async () => {
  // The chosen folder does not exist: writing the video fails after the engine made it.
  const h = await open(SAMPLE, join(scratch, 'no-such-folder', 'out.mp4'));
  const p = h.page;
  await waitForStep(p, 0);
  await p.locator('#frames').fill('4');
  await p.locator('#frames').press('Tab');
  await p.locator('#export-timelapse').click();
  await p.waitForSelector('#error:not([hidden])', { timeout: 120_000 });
  assert.equal(await p.locator('#status').textContent(), 'Export failed.');
  const exportError = await p.locator('#error .error-text').textContent();
  await p.locator('#step-number').fill('300');
  await p.locator('#step-number').press('Enter');
  await waitForStep(p, 300);
  assert.equal(await p.locator('#error').isHidden(), false, 'a frame does not hide the export error');
  assert.equal(await p.locator('#error .error-text').textContent(), exportError);
  h.session.dispose();
  await p.close();
});
