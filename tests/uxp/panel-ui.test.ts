/**
 * The panel UI in real headless Chromium: the real view, controller and Photoshop host implementation over
 * a simulated document (the sample illustration + an ink layer in the fake Photoshop), talking to a REAL
 * engine on 127.0.0.1. Screenshots of the main states go to $PU_SCREENSHOTS (default: a temp folder).
 *
 * The page, the server and Chromium: chromium.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ChromiumHarness } from './chromium.js';
import { loadSample, patchLayer } from './sample-doc.js';
import { TOKEN, WRONG_TOKEN } from './engine.js';

const shots = process.env.PU_SCREENSHOTS ?? join(tmpdir(), 'paints-undo-uxp-screenshots');
mkdirSync(shots, { recursive: true });

const sample = await loadSample('1.jpg', 320); // 320x411
const ink = patchLayer(sample, await loadSample('2.jpg', 120), { left: 30, top: 40, width: 120, height: 150 });

const harness = new ChromiumHarness('page.ts', {
  title: 'harbour.psd',
  width: sample.width,
  height: sample.height,
  layers: [
    { name: 'Ink', rgba: ink },
    { name: 'Background', rgba: sample.data },
  ],
});

before(async () => {
  await harness.start();
});

after(async () => {
  await harness.stop();
});

function open(token: string | undefined, opts: { width?: number; dark?: boolean } = {}): Promise<Page> {
  return harness.open(token ? { token } : {}, opts);
}

const byId = (id: string): string => `[data-testid="${id}"]`;

// Browser-side code is passed as strings: this file is type-checked for Node, without DOM types.
const textOf = (id: string): string => `(document.querySelector('[data-testid="${id}"]')?.textContent ?? '')`;

/**
 * Waits for a page condition. The budget is generous because the whole suite runs Chromium pages, engines
 * and workers side by side on two cores; when it runs out, the error shows what the panel said instead.
 */
async function waitFor(page: Page, expression: string, timeout = 90_000): Promise<void> {
  try {
    await page.waitForFunction(expression, undefined, { timeout });
  } catch (error) {
    const said = await page
      .evaluate(`[${textOf('conn-label')}, ${textOf('message')}, ${textOf('preview-step')}].join(' | ')`)
      .catch(() => 'the page did not answer');
    throw new Error(`waited ${timeout} ms for ${expression}; the panel shows: ${String(said)}`, { cause: error });
  }
}

async function inPage<T>(page: Page, expression: string): Promise<T> {
  return (await page.evaluate(expression)) as T;
}

async function connectionLabel(page: Page): Promise<string> {
  return (await page.textContent(byId('conn-label'))) ?? '';
}

async function waitLabel(page: Page, label: string): Promise<void> {
  await waitFor(page, `${textOf('conn-label')} === ${JSON.stringify(label)}`);
}

async function waitPreview(page: Page, step: number): Promise<void> {
  await waitFor(page, `${textOf('preview-step')}.startsWith('Step ${step}') && document.querySelector('[data-testid="preview"]').complete`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

type Row = { name: string; depth: number; visible: boolean; kind: string };

test('wrong token: the panel says so and shows the pairing field', async () => {
  const page = await open(WRONG_TOKEN);
  try {
    await waitLabel(page, 'Wrong token');
    assert.match((await page.textContent(byId('conn-fix'))) ?? '', /Paste the token/);
    assert.equal(await page.isVisible(byId('token')), true);
    await shot(page, '01-wrong-token');
  } finally {
    await page.close();
  }
});

test('pairing, scrubbing (stale answers never shown), presets and keyframe import', async () => {
  const page = await open(undefined);
  try {
    await waitLabel(page, 'Not paired');
    await shot(page, '02-unpaired');
    await page.fill(byId('token'), TOKEN);
    await page.click(byId('pair'));
    await waitLabel(page, 'Connected to the engine');
    await waitPreview(page, 500);
    await shot(page, '03-connected-step-500');

    // A drag: many input events in a row, faster than the engine answers.
    const slider = page.locator(byId('slider'));
    for (const v of [900, 880, 860, 840, 820, 800, 760, 720, 700]) {
      await slider.fill(String(v));
    }
    await waitPreview(page, 700);
    const { shown, requested } = await inPage<{ shown: number[]; requested: number[] }>(page, '({ shown: [...harness.shown], requested: [...harness.requested] })');
    // Every step shown was asked for, in the order asked: an older answer never replaces a newer one.
    let last = -1;
    for (const s of shown) {
      const index = requested.lastIndexOf(s);
      assert.ok(index >= last, `step ${s} shown out of order (shown ${shown.join(',')}, requested ${requested.join(',')})`);
      last = index;
    }
    assert.equal(shown[shown.length - 1], 700);
    assert.equal(await page.inputValue(byId('step')), '700');

    // Arrow keys nudge, Shift+arrow by 10; a preset jumps.
    await slider.focus();
    await page.keyboard.press('Shift+ArrowLeft');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.inputValue(byId('step')), '691');
    await page.click(byId('preset-400'));
    await waitPreview(page, 400);
    // Cached: back to 700 shows at once, marked as cached.
    await page.fill(byId('step'), '700');
    await page.press(byId('step'), 'Enter');
    await waitFor(page, `${textOf('preview-step')} === 'Step 700 · cached'`);

    await page.click(byId('import-keyframes'));
    await waitFor(page, `/Imported 6 keyframes/.test(${textOf('message')})`);
    const rows = await inPage<Row[]>(page, 'harness.outline()');
    assert.deepEqual(
      rows.map((r) => `${'  '.repeat(r.depth)}${r.name}${r.visible ? '' : ' (hidden)'}`),
      ['harbour keyframes', '  Step 400', '  Step 600 (hidden)', '  Step 800 (hidden)', '  Step 900 (hidden)', '  Step 950 (hidden)', '  Step 999 (hidden)', 'Ink', 'Background'],
    );
    assert.deepEqual(await inPage<string[]>(page, 'harness.history()'), ['Open', 'PaintsUndo: import keyframes']);
    const corner = await inPage<number[]>(page, "harness.layerPixel('Step 999', 2, 2)");
    assert.deepEqual(corner.slice(3), [255], 'canvas imports are opaque over the full canvas');
    assert.equal(await inPage<number>(page, 'harness.liveImageData()'), 0);
    await shot(page, '04-keyframes-imported');
  } finally {
    await page.close();
  }
});

test('per-layer undo: frames of the active layer land above it, at its bounds', async () => {
  const page = await open(TOKEN);
  try {
    await waitLabel(page, 'Connected to the engine');
    await page.click(byId('source-layer'));
    await page.click(byId('preset-600'));
    await waitPreview(page, 600);
    // The layer alone is 120x150: the engine says it is small, under the document line.
    await waitFor(page, `/only 120x150; results look best from/.test(${textOf('source-notice')})`);
    await page.click(byId('add-step'));
    await waitFor(page, `/Added “Step 600”/.test(${textOf('message')})`);
    const rows = await inPage<Row[]>(page, 'harness.outline()');
    assert.deepEqual(
      rows.map((r) => r.name),
      ['Step 600', 'Ink', 'Background'],
    );
    const px = (x: number, y: number): Promise<number[]> => inPage<number[]>(page, `harness.layerPixel('Step 600', ${x}, ${y})`);
    assert.equal((await px(10, 10))[3], 0, 'nothing outside the source layer bounds');
    assert.equal((await px(200, 300))[3], 0);
    await shot(page, '05-layer-source');
  } finally {
    await page.close();
  }
});

test('cancel in the middle of a job: no partial layers, no history state', async () => {
  const page = await open(TOKEN);
  try {
    await waitLabel(page, 'Connected to the engine');
    await page.evaluate('harness.panel.controller.setSeed(777); harness.panel.controller.setKeyframeSteps(Array.from({ length: 40 }, (_, i) => 5 + i * 24))');
    await page.click(byId('import-keyframes'));
    await page.waitForSelector(`${byId('busy')}:not([hidden])`);
    await waitFor(page, `/—/.test(document.querySelector('.busy-label').textContent)`);
    await shot(page, '06-busy-with-cancel');
    await page.click(byId('cancel'));
    await waitFor(page, `/Cancelled; nothing was imported/.test(${textOf('message')})`);
    const rows = await inPage<Row[]>(page, 'harness.outline()');
    assert.deepEqual(
      rows.map((r) => r.name),
      ['Ink', 'Background'],
    );
    assert.deepEqual(await inPage<string[]>(page, 'harness.history()'), ['Open']);
    await shot(page, '07-cancelled');
  } finally {
    await page.close();
  }
});

test('engine restart: "not running" with the command to start it, then reconnects by itself', async () => {
  const page = await open(TOKEN, { dark: true, width: 240 });
  try {
    await waitLabel(page, 'Connected to the engine');
    await harness.engine.stop();
    await waitLabel(page, 'Engine not running');
    assert.match((await page.textContent(byId('conn-fix'))) ?? '', /paints-undo serve --port \d+/);
    await shot(page, '08-dark-narrow-engine-stopped');
    await harness.engine.start();
    await waitLabel(page, 'Connected to the engine');
    await waitPreview(page, 500);
    await shot(page, '09-dark-narrow-reconnected');
    assert.equal(await connectionLabel(page), 'Connected to the engine');
  } finally {
    await page.close();
  }
});
