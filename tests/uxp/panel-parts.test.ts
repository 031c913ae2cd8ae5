/**
 * Each part of the panel controller alone, in real headless Chromium, against a REAL engine on 127.0.0.1:
 * the test builds only the part it exercises (and the parts it is made from) on a fresh simulated
 * Photoshop document (uxp-plugin/test-harness/parts.ts). The whole panel, view included, is tested in
 * panel-ui.test.ts; the same parts through the controller in Node in controller.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ChromiumHarness } from './chromium.js';
import { TOKEN } from './engine.js';
import { loadSample, patchLayer } from './sample-doc.js';

const sample = await loadSample('3.jpg', 160); // 160x213
const ink = patchLayer(sample, await loadSample('2.jpg', 60), { left: 20, top: 30, width: 60, height: 70 });
const harness = new ChromiumHarness('parts.ts', {
  title: 'girl.psd',
  width: sample.width,
  height: sample.height,
  layers: [
    { name: 'Ink', rgba: ink },
    { name: 'Background', rgba: sample.data },
  ],
});
let page: Page;

before(async () => {
  await harness.start();
  page = await harness.open({});
});

after(async () => {
  await page?.close();
  await harness.stop();
});

/** Runs an async function body in the page (browser-side code as a string: this file has no DOM types). */
async function inPage<T>(body: string): Promise<T> {
  return (await page.evaluate(`(async () => { const token = ${JSON.stringify(TOKEN)}; ${body} })()`)) as T;
}

test('connection alone: unpaired without a token, paired and connected with one, token in secure storage', async () => {
  const r = await inPage<{ before: string; fix: string; bad: string; after: string; stored: string; backends: string[] }>(`
    const t = parts.fresh(null);
    const connection = new parts.ConnectionPart(t.ctx);
    await connection.start();
    const before = t.ctx.state.connection;
    const fix = t.ctx.state.connectionView.fix;
    await connection.pair('not a token');
    const bad = t.ctx.state.message.text;
    await connection.pair(token.toUpperCase());
    const r = { before, fix, bad, after: t.ctx.state.connection, stored: t.secret(), backends: t.ctx.state.backends.map((b) => b.id) };
    t.ctx.client.close();
    return r;
  `);
  assert.equal(r.before, 'unpaired');
  assert.match(r.fix, /paints-undo serve/);
  assert.match(r.bad, /64 hexadecimal/);
  assert.equal(r.after, 'connected');
  assert.equal(r.stored, TOKEN);
  assert.ok(r.backends.includes('classic'), r.backends.join(', '));
});

test('source alone: the active layer is read once per state, at its bounds; a new source makes frames stale', async () => {
  const r = await inPage<{ region: { source: string; layerName: string; bounds: unknown }; same: boolean; reads: number; stale: number; canvasBounds: unknown }>(`
    const t = parts.fresh(token);
    await t.connect();
    let stale = 0;
    const source = new parts.SourcePart(t.ctx, () => stale++);
    await source.refreshDocument();
    stale = 0;
    source.setSource('layer');
    const first = await source.upload(undefined);
    const second = await source.upload(undefined);
    const reads = t.calls('getPixels');
    source.setSource('document');
    const canvas = await source.upload(undefined);
    t.ctx.client.close();
    return { region: first.region, same: first.image === second.image, reads, stale, canvasBounds: canvas.region.bounds };
  `);
  assert.equal(r.region.source, 'layer');
  assert.equal(r.region.layerName, 'Ink');
  assert.deepEqual(r.region.bounds, { left: 20, top: 30, right: 80, bottom: 100 });
  assert.equal(r.same, true, 'the same source state is uploaded once');
  assert.equal(r.reads, 1, 'and read from Photoshop once');
  assert.equal(r.stale, 2, 'each change of source makes the frames stale');
  assert.deepEqual(r.canvasBounds, { left: 0, top: 0, right: sample.width, bottom: sample.height });
});

test('scrub alone: the last step asked for is the one shown, going back is served from the cache, frames are asked at the display size', async () => {
  const r = await inPage<{ shown: number[]; last: number; cached: boolean; sizes: unknown[] }>(`
    const t = parts.fresh(token);
    await t.connect();
    const source = new parts.SourcePart(t.ctx);
    await source.refreshDocument();
    // A preview area 300 device pixels across: frames are asked for at 384 (the next multiple of 128).
    const scrub = new parts.ScrubPart(t.ctx, source, { debounceMs: 10, displaySize: () => 300 });
    const shown = [];
    t.ctx.store.subscribe((s) => { if (s.preview && shown[shown.length - 1] !== s.preview.step) shown.push(s.preview.step); });
    const until = async (check) => { for (let i = 0; i < 1500 && !check(); i++) await new Promise((r) => setTimeout(r, 20)); };
    for (const step of [900, 850, 800, 700]) scrub.setStep(step);
    await until(() => t.ctx.state.preview?.step === 700 && !t.ctx.state.previewPending);
    scrub.setStep(900);
    await until(() => t.ctx.state.preview?.step === 900 && !t.ctx.state.previewPending);
    scrub.setStep(700);
    await until(() => t.ctx.state.preview?.step === 700);
    const { jobs } = await t.ctx.client.call('jobs.list', { mine: true });
    const r = { shown, last: t.ctx.state.preview.step, cached: t.ctx.state.preview.cached, sizes: [...new Set(jobs.filter((j) => j.kind === 'frame').map((j) => j.params.size))] };
    scrub.dispose();
    t.ctx.client.close();
    return r;
  `);
  assert.deepEqual(r.sizes, [384], 'every slider frame asks for the display size');
  // A drag's earlier steps may show on the way, never after the step the drag ended on.
  assert.ok(r.shown.every((s) => [900, 850, 800, 700].includes(s)), `shown ${r.shown.join(', ')}`);
  assert.deepEqual(r.shown.slice(r.shown.indexOf(700)), [700, 900, 700], `shown ${r.shown.join(', ')}`);
  assert.equal(r.last, 700);
  assert.equal(r.cached, true);
});

test('import alone: keyframes become one group of Step layers in one history state', async () => {
  const r = await inPage<{ message: { tone: string; text: string }; outline: string[]; history: string[] }>(`
    const t = parts.fresh(token);
    await t.connect();
    const source = new parts.SourcePart(t.ctx);
    const imports = new parts.ImportPart(t.ctx, source, new parts.ActionRunner(t.ctx));
    imports.setKeyframeSteps([999, 300, 300, 1200]);
    await imports.importKeyframes();
    t.ctx.client.close();
    return { message: t.ctx.state.message, outline: t.outline(), history: t.history() };
  `);
  assert.equal(r.message.tone, 'ok', r.message.text);
  assert.deepEqual(r.outline, ['girl keyframes', '  Step 300', '  Step 999 (hidden)', 'Ink', 'Background']);
  assert.deepEqual(r.history, ['Open', 'PaintsUndo: import keyframes']);
});

test('actions alone: one action at a time, and a cancel reaches the engine job with nothing imported', async () => {
  const r = await inPage<{ refused: string; message: string; outline: string[]; job: string | undefined }>(`
    const t = parts.fresh(token);
    await t.connect();
    const source = new parts.SourcePart(t.ctx);
    const actions = new parts.ActionRunner(t.ctx);
    const imports = new parts.ImportPart(t.ctx, source, actions);
    t.ctx.store.update({ seed: 31337 });
    imports.setKeyframeSteps(Array.from({ length: 40 }, (_, i) => 7 + i * 24));
    const running = imports.importKeyframes();
    for (let i = 0; i < 1500 && !(t.ctx.state.busy?.detail); i++) await new Promise((r) => setTimeout(r, 20));
    await imports.addStepAsLayer();
    const refused = t.ctx.state.message.text;
    actions.cancel();
    await running;
    const { jobs } = await t.ctx.client.call('jobs.list', { mine: true });
    t.ctx.client.close();
    return { refused, message: t.ctx.state.message.text, outline: t.outline(), job: jobs.find((j) => j.kind === 'keyframes')?.state };
  `);
  assert.match(r.refused, /^Wait for “Importing 40 keyframes” to finish, or cancel it\.$/);
  assert.match(r.message, /Cancelled; nothing was imported/);
  assert.deepEqual(r.outline, ['Ink', 'Background']);
  assert.equal(r.job, 'cancelled');
});

test('export alone: the generated timelapse is saved where the user chose, as a GIF', async () => {
  const r = await inPage<{ message: { tone: string; text: string }; saved: { length: number; head: string } | undefined; dialogs: number }>(`
    const t = parts.fresh(token);
    await t.connect();
    const exports = new parts.ExportPart(t.ctx, new parts.SourcePart(t.ctx), new parts.ActionRunner(t.ctx));
    exports.setTimelapse({ format: 'gif', frames: 6, fps: 6, size: 120 });
    t.ps.nextSaveName = 'girl-process.gif';
    await exports.exportTimelapse();
    t.ctx.client.close();
    return { message: t.ctx.state.message, saved: t.saved('girl-process.gif'), dialogs: t.calls('getFileForSaving') };
  `);
  assert.equal(r.message.tone, 'ok', r.message.text);
  assert.match(r.message.text, /^Saved girl-process\.gif \(\d+ KB\), labelled as a generated reconstruction\.$/);
  assert.equal(r.dialogs, 1);
  assert.ok(r.saved && r.saved.length > 100);
  assert.equal(r.saved.head.slice(0, 6), 'GIF89a');
});

test('history alone: the recorded states are encoded by the engine and saved, history untouched', async () => {
  const r = await inPage<{ message: { tone: string; text: string }; saved: { length: number; head: string } | undefined; historyBefore: number; historyAfter: number }>(`
    const t = parts.fresh(token);
    await t.connect();
    t.paint();
    const historyBefore = t.history().length;
    const history = new parts.HistoryPart(t.ctx, new parts.ActionRunner(t.ctx));
    t.ctx.store.update({ timelapse: { ...t.ctx.state.timelapse, format: 'gif', fps: 5 } });
    history.setHistoryLead(false);
    t.ps.nextSaveName = 'girl-history.gif';
    await history.exportHistoryTimelapse();
    t.ctx.client.close();
    return { message: t.ctx.state.message, saved: t.saved('girl-history.gif'), historyBefore, historyAfter: t.history().length };
  `);
  assert.equal(r.message.tone, 'ok', r.message.text);
  assert.match(r.message.text, /^Saved girl-history\.gif: 4 recorded frames, labelled as recorded\.$/);
  assert.equal(r.saved?.head.slice(0, 6), 'GIF89a');
  assert.equal(r.historyAfter, r.historyBefore);
});
