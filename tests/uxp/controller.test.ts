/**
 * The panel controller (the logic behind every button) with the real host implementation over the fake
 * Photoshop, against a REAL engine on 127.0.0.1: pairing, imports, exports, history, cancel. Scrubbing and
 * engine restarts are exercised through the UI in panel-ui.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import sharp from 'sharp';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGifComments } from '../../engine/src/io/video.js';
import { FakePhotoshop, type FakeDocument } from './fake-photoshop.js';
import { loadSample, patchLayer, type Rgba } from './sample-doc.js';
import { softPainting } from '../synthetic-art.js';
import { TOKEN, TestEngine, WRONG_TOKEN, until } from './engine.js';
import { UxpPhotoshopHost } from '../../uxp-plugin/src/host/photoshop-host.js';
import { PanelController, TOKEN_KEY } from '../../uxp-plugin/src/panel/controller.js';
import type { WebSocketConstructor, WebSocketLike } from '../../engine/src/client/index.js';

const engine = new TestEngine();
const sample = await loadSample('3.jpg', 240); // 240x320

before(async () => {
  await engine.start();
});
after(async () => {
  await engine.dispose();
});

/** A panel on a fake Photoshop with one document of `art` (default the 240x320 sample), paired with `token`. */
function setup(token: string | null = TOKEN, art: Rgba = sample, title = 'girl.psd', baseUrl = engine.url): { ps: FakePhotoshop; doc: FakeDocument; panel: PanelController } {
  const ps = new FakePhotoshop();
  const doc = ps.openDocument({ title, width: art.width, height: art.height, layers: [{ name: 'Background', rgba: art.data.slice() }] });
  if (token) ps.secrets.set(TOKEN_KEY, new TextEncoder().encode(token));
  const host = new UxpPhotoshopHost(ps.modules, ps.uxp);
  const panel = new PanelController({ host, baseUrl, WebSocket: WebSocket as unknown as WebSocketConstructor, debounceMs: 15 });
  return { ps, doc, panel };
}

test('unpaired, then paired: stores the token in secure storage and connects', async () => {
  const { ps, panel } = setup(null);
  try {
    await panel.start();
    assert.equal(panel.state.connection, 'unpaired');
    assert.match(panel.state.connectionView.fix, /paints-undo serve/);
    await panel.pair('not a token');
    assert.match(panel.state.message?.text ?? '', /64 hexadecimal/);
    await panel.pair(TOKEN.toUpperCase());
    assert.equal(panel.state.connection, 'connected');
    assert.equal(new TextDecoder().decode(ps.secrets.get(TOKEN_KEY)), TOKEN);
    assert.ok(panel.state.backends.some((b) => b.id === 'classic'));
  } finally {
    panel.dispose();
  }
});

test('wrong token: a clear state with the fix, and no reconnect storm', async () => {
  const { panel } = setup(WRONG_TOKEN);
  try {
    await panel.start();
    assert.equal(panel.state.connection, 'unauthorized');
    assert.equal(panel.state.connectionView.label, 'Wrong token');
    assert.match(panel.state.connectionView.fix, /Paste the token/);
  } finally {
    panel.dispose();
  }
});

test('import keyframes: one group named after the document, Step layers, top visible, one history state', async () => {
  const { panel, doc } = setup();
  try {
    await panel.start();
    const historyBefore = doc.historyStates.length;
    await panel.importKeyframes();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    const rows = doc.outline();
    assert.deepEqual(
      rows.map((r) => [r.name, r.depth, r.visible]),
      [
        ['girl keyframes', 0, true],
        ['Step 400', 1, true],
        ['Step 600', 1, false],
        ['Step 800', 1, false],
        ['Step 900', 1, false],
        ['Step 950', 1, false],
        ['Step 999', 1, false],
        ['Background', 0, true],
      ],
    );
    assert.equal(doc.historyStates.length, historyBefore + 1);
    const whiteFraction = (p: Uint8Array): number => {
      let white = 0;
      for (let i = 0; i < p.length; i += 4) if ((p[i] ?? 0) > 245 && (p[i + 1] ?? 0) > 245 && (p[i + 2] ?? 0) > 245) white++;
      return white / (p.length / 4);
    };
    const step999 = rows[6]?.pixels;
    const step400 = rows[1]?.pixels;
    assert.ok(step999 && step400);
    assert.ok(whiteFraction(step999) > 0.97, 'step 999 is an (almost) blank canvas');
    assert.ok(whiteFraction(step400) < whiteFraction(step999), 'step 400 has more painted than step 999');
  } finally {
    panel.dispose();
  }
});

test('what the engine says of an upload (a canvas too small to look good) shows under the document line', async () => {
  const { panel, doc } = setup();
  const { doc: small, panel: smallPanel } = setup(TOKEN, await loadSample('3.jpg', 120), 'thumb.psd');
  try {
    await panel.start();
    await panel.addStepAsLayer();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    assert.equal(panel.state.sourceNotice, undefined, `${doc.width}x${doc.height} needs no word`);
    await smallPanel.start();
    await smallPanel.addStepAsLayer();
    assert.equal(smallPanel.state.message?.tone, 'ok', smallPanel.state.message?.text);
    assert.match(smallPanel.state.sourceNotice ?? '', new RegExp(`only ${small.width}x${small.height}; results look best from`));
  } finally {
    panel.dispose();
    smallPanel.dispose();
  }
});

test('a canvas bigger than the engine keeps is read from Photoshop at the engine\'s working size, not downscaled by the engine', async () => {
  const small = new TestEngine([], { workingLongSide: 256 });
  await small.start();
  const { panel, doc } = setup(TOKEN, sample, 'big.psd', small.url);
  try {
    await panel.start();
    await panel.addStepAsLayer();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    assert.ok(Math.max(doc.width, doc.height) > 256);
    // Sent at 256 px: the engine had nothing to reduce (it says "Downscaled from ..." when it does).
    assert.equal(panel.state.sourceNotice, undefined);
  } finally {
    panel.dispose();
    await small.dispose();
  }
});

test('process layers: one layer per engine layer, named, in paint order, inside one group', async () => {
  const { panel, doc } = setup();
  try {
    await panel.start();
    await panel.importProcessLayers();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    const rows = doc.outline();
    assert.equal(rows[0]?.name, 'girl process layers');
    const layers = rows.filter((r) => r.depth === 1).map((r) => r.name);
    assert.ok(layers.length >= 3, `got ${layers.join(', ')}`);
    assert.ok(!layers.some((n) => /composite/i.test(n)));
    assert.equal(doc.historyStates[doc.historyStates.length - 1]?.name, 'PaintsUndo: import process layers');
  } finally {
    panel.dispose();
  }
});

test('process layers stack as in the process: a painting\'s sketch comes in multiplied and hidden, and the layers alone give the artwork', async () => {
  const art = softPainting(240, 320);
  const { panel, doc } = setup(TOKEN, art, 'study.psd');
  try {
    await panel.start();
    await panel.importProcessLayers();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    const rows = doc.outline();
    const imported = rows.filter((r) => r.depth === 1);
    const sketch = imported.find((r) => r.name === 'Sketch');
    assert.ok(sketch, `layers: ${imported.map((r) => r.name).join(', ')}`);
    assert.deepEqual([sketch.blendMode, sketch.visible], ['multiply', false]);
    assert.ok(imported.filter((r) => r !== sketch).every((r) => r.visible && r.blendMode === 'normal'));
    // The process layers without the original under them: the finished artwork, up to rounding.
    const background = rows.find((r) => r.name === 'Background');
    doc.findState(background!.id)!.visible = false;
    const composite = doc.composite();
    let worst = 0;
    for (let i = 0; i < art.data.length; i += 4) {
      assert.equal(composite[i + 3], 255, 'the layers cover the canvas');
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(composite[i + c]! - art.data[i + c]!));
    }
    assert.ok(worst <= 2, `the imported layers differ from the artwork by up to ${worst} levels`);
  } finally {
    panel.dispose();
  }
});

test('export timelapse: asks where to save first, then saves the engine\'s video there', async () => {
  const { panel, ps } = setup();
  try {
    await panel.start();
    panel.setTimelapse({ format: 'mp4', frames: 12, fps: 12 });
    ps.nextSaveName = null;
    await panel.exportTimelapse();
    assert.equal(panel.state.busy, undefined, 'a cancelled dialog starts nothing');
    ps.nextSaveName = 'girl-process.mp4';
    await panel.exportTimelapse();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    const saved = ps.calls.filter((c) => c.name === 'getFileForSaving').at(-1)?.options as { suggestedName: string; types: string[] };
    assert.equal(saved.suggestedName, 'girl-process.mp4');
    assert.deepEqual(saved.types, ['mp4']);
    const bytes = ps.files.get('girl-process.mp4');
    assert.ok(bytes && bytes.length > 1000);
    assert.equal(new TextDecoder().decode(bytes.subarray(4, 8)), 'ftyp', 'an MP4 container');
  } finally {
    panel.dispose();
  }
});

/** Three visible edits and one that changes nothing visible (the panel must skip it). */
function paintHistory(doc: FakeDocument): void {
  for (const [name, rows] of [['Brush Tool', 80], ['Brush Tool', 160], ['Select', 0], ['Fill', 320]] as const) {
    doc.userEdit(name, (layers) => {
      const bg = layers[0];
      if (!bg?.pixels) return;
      const next = bg.pixels.slice();
      for (let i = 0; i < doc.width * Math.min(rows, doc.height) * 4; i += 4) next[i] = 255 - (next[i] ?? 0);
      bg.pixels = next;
    });
  }
}

interface Probe {
  streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[];
  format: { tags?: Record<string, string> };
}

async function probeBytes(bytes: Uint8Array, name: string): Promise<Probe> {
  const dir = await mkdtemp(join(tmpdir(), 'pu-uxp-probe-'));
  try {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format_tags', '-of', 'json', path], { encoding: 'utf8' }),
    ) as Probe;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('timelapse from history: the engine encodes the recorded states (plus a generated lead-in) as an MP4 labelled recorded; history untouched', async () => {
  const { panel, ps, doc } = setup();
  try {
    await panel.start();
    paintHistory(doc);
    const activeBefore = doc.activeHistoryState.id;
    const statesBefore = doc.historyStates.length;
    ps.nextSaveName = 'girl-history.mp4';
    panel.setTimelapse({ format: 'mp4', fps: 10 });
    await panel.exportHistoryTimelapse();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    assert.match(panel.state.message?.text ?? '', /4 recorded frames after 10 generated ones \(1 history state without visible change skipped\), labelled as recorded/);
    const saved = ps.calls.filter((c) => c.name === 'getFileForSaving').at(-1)?.options as { suggestedName: string; types: string[] };
    assert.deepEqual([saved.suggestedName, saved.types], ['girl-history.mp4', ['mp4']]);
    const mp4 = ps.files.get('girl-history.mp4');
    assert.ok(mp4);
    const probe = await probeBytes(mp4, 'history.mp4');
    const stream = probe.streams[0]!;
    assert.equal(stream.codec_name, 'h264');
    // 10 generated + 4 recorded + 1.5 s hold at 10 fps.
    assert.equal(Number(stream.nb_read_frames), 10 + 4 + 15);
    assert.equal(stream.width / stream.height, sample.width / sample.height);
    const tags = probe.format.tags ?? {};
    assert.equal(tags.title, 'Recorded from Photoshop history states (first 10 frames generated, not recorded)');
    assert.match(tags.comment ?? '', /^Recorded from Photoshop history states: 4 recorded frames.* The first 10 frames are generated, not recorded/);
    assert.equal(doc.activeHistoryState.id, activeBefore, 'the active history state is put back');
    assert.equal(doc.historyStates.length, statesBefore, 'reading history adds no state');
    assert.equal(ps.liveImageData, 0);
  } finally {
    panel.dispose();
  }
});

test('timelapse from history without lead-in as a GIF: only recorded frames, and the GIF says so', async () => {
  const { panel, ps, doc } = setup();
  try {
    await panel.start();
    paintHistory(doc);
    ps.nextSaveName = 'girl-history.gif';
    panel.setTimelapse({ format: 'gif', fps: 10 });
    panel.setHistoryLead(false);
    await panel.exportHistoryTimelapse();
    assert.equal(panel.state.message?.tone, 'ok', panel.state.message?.text);
    const gif = ps.files.get('girl-history.gif');
    assert.ok(gif);
    const meta = await sharp(gif, { animated: true }).metadata();
    assert.equal(meta.format, 'gif');
    // 4 recorded states + 1.5 s hold at 10 fps, 100 ms each.
    assert.equal(meta.pages, 4 + 15);
    assert.equal(meta.delay?.[0], 100);
    const comments = readGifComments(gif);
    assert.ok(comments.some((c) => c.startsWith('Recorded from Photoshop history states: 4 recorded frames')), comments.join(' | '));
    assert.ok(!comments.some((c) => /generated/i.test(c)), comments.join(' | '));
  } finally {
    panel.dispose();
  }
});

type SocketEvent = { data?: unknown; reason?: string; code?: number; message?: string };

/** A real ws WebSocket, except that engine.info/hello answers lose `methods`, as from an engine before video.encode. */
class OlderEngineWebSocket implements WebSocketLike {
  private readonly ws: WebSocket;
  constructor(url: string, protocols?: string | string[]) {
    this.ws = new WebSocket(url, protocols);
  }
  get readyState(): number {
    return this.ws.readyState;
  }
  send(data: string): void {
    this.ws.send(data);
  }
  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: SocketEvent) => void): void {
    if (type !== 'message') {
      (this.ws as unknown as { addEventListener(t: string, l: (e: SocketEvent) => void): void }).addEventListener(type, listener);
      return;
    }
    this.ws.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { result?: { name?: string; methods?: unknown } };
      if (message.result?.name === 'paints-undo') delete message.result.methods;
      listener({ data: JSON.stringify(message) });
    });
  }
}

test('timelapse from history on an engine without video.encode: a message to update the engine, nothing read or saved', async () => {
  const ps = new FakePhotoshop();
  const doc = ps.openDocument({ title: 'girl.psd', width: sample.width, height: sample.height, layers: [{ name: 'Background', rgba: sample.data.slice() }] });
  ps.secrets.set(TOKEN_KEY, new TextEncoder().encode(TOKEN));
  const panel = new PanelController({ host: new UxpPhotoshopHost(ps.modules, ps.uxp), baseUrl: engine.url, WebSocket: OlderEngineWebSocket, debounceMs: 15 });
  try {
    await panel.start();
    await until(() => panel.state.connection === 'connected', 'the panel to connect');
    paintHistory(doc);
    ps.nextSaveName = 'girl-history.mp4';
    await panel.exportHistoryTimelapse();
    assert.equal(panel.state.message?.tone, 'error');
    assert.match(panel.state.message?.text ?? '', /cannot encode history timelapses\. Update the engine/);
    assert.equal(ps.calls.filter((c) => c.name === 'getFileForSaving').length, 0, 'no save dialog');
    assert.equal(ps.files.size, 0);
  } finally {
    panel.dispose();
  }
});

test('cancel during the engine job: nothing imported, no history state, the panel says so', async () => {
  const { panel, doc } = setup();
  try {
    await panel.start();
    panel.setSeed(4242);
    panel.setKeyframeSteps(Array.from({ length: 40 }, (_, i) => 10 + i * 24));
    const historyBefore = doc.historyStates.length;
    const running = panel.importKeyframes();
    await until(() => (panel.state.busy?.detail ?? '') !== '', 'progress from the engine job');
    panel.cancel();
    await running;
    const { jobs } = await panel.engine.call('jobs.list', { mine: true });
    const job = jobs.find((j) => j.kind === 'keyframes');
    assert.equal(job?.state, 'cancelled', 'the cancel reached the engine job');
    assert.match(panel.state.message?.text ?? '', /Cancelled; nothing was imported/);
    assert.deepEqual(
      doc.outline().map((r) => r.name),
      ['Background'],
    );
    assert.equal(doc.historyStates.length, historyBefore);
  } finally {
    panel.dispose();
  }
});

/** A panel whose preview URLs count the frames it was given (each fetched frame gets a new one). */
function countingPanel(ps: FakePhotoshop): PanelController {
  let frames = 0;
  return new PanelController({ host: new UxpPhotoshopHost(ps.modules, ps.uxp), baseUrl: engine.url, WebSocket: WebSocket as unknown as WebSocketConstructor, debounceMs: 5, imageUrl: () => `frame-${++frames}` });
}

/** Whether the slider shows `step`'s frame, with no newer frame pending. */
function shows(panel: PanelController, step: number): boolean {
  return panel.state.preview?.step === step && !panel.state.previewPending;
}

/** Moves the slider to `step` and waits until its frame shows. */
async function scrubTo(panel: PanelController, step: number, what: string): Promise<void> {
  panel.setStep(step);
  await until(() => shows(panel, step), what);
}

/** A paired panel on a document of one layer, `name`, over the sample as its Background. */
function overBackground(name: string, rgba: Uint8Array): { doc: FakeDocument; panel: PanelController } {
  const ps = new FakePhotoshop();
  const doc = ps.openDocument({ title: 'girl.psd', width: sample.width, height: sample.height, layers: [{ name, rgba }, { name: 'Background', rgba: sample.data.slice() }] });
  ps.secrets.set(TOKEN_KEY, new TextEncoder().encode(TOKEN));
  return { doc, panel: countingPanel(ps) };
}

test('the slider never shows a cached frame of an earlier source: another active layer, or pixels painted since', async () => {
  // Active layer: selecting another layer (Photoshop sends "select": refreshDocument) starts the frames afresh.
  const ink = patchLayer(sample, await loadSample('2.jpg', 60), { left: 20, top: 30, width: 60, height: 70 });
  const { doc, panel } = overBackground('Ink', ink);
  try {
    await panel.start();
    panel.setSource('layer');
    await scrubTo(panel, 400, 'frame 400 of Ink');
    const inkFrame = panel.state.preview?.url;
    doc.selectLayer(doc.layers[1]!.id);
    await panel.refreshDocument();
    await scrubTo(panel, 600, 'frame 600 of Background');
    await scrubTo(panel, 400, 'frame 400 again');
    assert.notEqual(panel.state.preview?.url, inkFrame, 'step 400 is made from Background, not shown from the Ink frames');
    assert.equal(panel.state.preview?.cached, false);

    // Canvas: a brush stroke sends no event; the next frame the slider fetches finds the new history state,
    // and the frames cached before it are dropped.
    panel.setSource('document');
    await scrubTo(panel, 300, 'frame 300 of the canvas');
    const before = panel.state.preview?.url;
    doc.userEdit('Brush Tool', (layers) => {
      const pixels = layers[1]!.pixels!;
      for (let i = 0; i < pixels.length; i += 4) pixels[i + 2] = 255;
    });
    await scrubTo(panel, 700, 'frame 700 after the stroke');
    await scrubTo(panel, 300, 'frame 300 again');
    assert.notEqual(panel.state.preview?.url, before, 'step 300 is made from the painted canvas');
    assert.equal(panel.state.preview?.cached, false);
  } finally {
    panel.dispose();
  }
});

test('a CMYK document is refused for an import before anything is read from Photoshop or rendered by the engine', async () => {
  const ps = new FakePhotoshop();
  ps.openDocument({ title: 'print.psd', width: sample.width, height: sample.height, mode: 'CMYKColorMode', layers: [{ name: 'Background', rgba: sample.data.slice() }] });
  ps.secrets.set(TOKEN_KEY, new TextEncoder().encode(TOKEN));
  const panel = countingPanel(ps);
  try {
    await panel.start();
    const client = panel.context.client;
    const jobsBefore = (await client.call('jobs.list', {})).jobs.length;
    const readsBefore = ps.calls.filter((c) => c.name === 'getPixels').length;
    await panel.importKeyframes();
    assert.match(panel.state.message?.text ?? '', /only into 8- or 16-bit RGB documents; this one is 8-bit cmyk\. Use Image > Mode > RGB Color/);
    assert.equal(ps.calls.filter((c) => c.name === 'getPixels').length, readsBefore, 'nothing was read');
    assert.equal((await client.call('jobs.list', {})).jobs.length, jobsBefore, 'nothing was rendered');
  } finally {
    panel.dispose();
  }
});

test('saving that fails says so with what to do: a save dialog that cannot open, a folder that cannot be written, secure storage that refuses the token', async () => {
  const { ps, doc, panel } = setup(null, sample, 'v1/2: final');
  void doc;
  try {
    // Pairing works for this session even when the token cannot be stored.
    ps.failures.secrets = new Error('secure storage unavailable');
    await panel.start();
    await panel.pair(TOKEN);
    assert.equal(panel.state.connection, 'connected');
    assert.match(panel.state.message?.text ?? '', /Paired for this session: Photoshop could not store the token/);
    // The dialog is offered a name with no folder separators or reserved characters.
    ps.failures.dialog = new Error('permission denied');
    await panel.exportTimelapse();
    const asked = ps.calls.filter((c) => c.name === 'getFileForSaving').at(-1)?.options as { suggestedName: string };
    assert.equal(asked.suggestedName, 'v1-2- final-process.mp4');
    assert.match(panel.state.message?.text ?? '', /The save dialog could not open \(permission denied\); try again\./);
    assert.equal(panel.state.busy, undefined);
    // A folder that cannot be written: the panel says to choose another, not to restart the engine.
    delete ps.failures.dialog;
    ps.failures.write = new Error('EACCES: permission denied');
    ps.nextSaveName = 'final-process.mp4';
    panel.setTimelapse({ frames: 6, fps: 6 });
    await panel.exportTimelapse();
    assert.match(panel.state.message?.text ?? '', /Could not save final-process\.mp4 \(EACCES: permission denied\)\. Choose another folder/);
    assert.doesNotMatch(panel.state.message?.text ?? '', /restart the engine/);
    assert.equal(ps.files.has('final-process.mp4'), false);
  } finally {
    panel.dispose();
  }
});

test('a layer too thin to undo alone: the message names the layer and its size, and says to choose Canvas or another layer', async () => {
  const line = patchLayer(sample, sample, { left: 10, top: 100, width: 200, height: 6 });
  const { doc, panel } = overBackground('Horizon line', line);
  doc.selectLayer(doc.layers[0]!.id);
  try {
    await panel.start();
    panel.setSource('layer');
    panel.setStep(400);
    await until(() => panel.state.message?.tone === 'error', 'the frame fails and says why');
    assert.match(panel.state.message?.text ?? '', /The layer “Horizon line” has pixels in only 200x6 px of the canvas, too small or too thin to undo alone \(the engine needs at least \d+ px on each side\)\. Choose Canvas as the source, or select a layer with more content\./);
    assert.doesNotMatch(panel.state.message?.text ?? '', /full-size artwork/);
  } finally {
    panel.dispose();
  }
});

test('a slider frame that failed leaves its message only until the next frame arrives; a step field emptied or garbled keeps the step', async () => {
  const { panel } = setup();
  try {
    await panel.start();
    await scrubTo(panel, 450, 'frame 450');
    // Selection as the source with nothing selected: the slider's frame fails, and says why.
    panel.setSource('selection');
    await until(() => panel.state.message?.tone === 'error', 'the failed frame says why');
    assert.match(panel.state.message?.text ?? '', /select/i);
    panel.setSource('document');
    await until(() => shows(panel, 450), 'frame 450 again');
    assert.equal(panel.state.message, undefined, 'the frame cleared the failed frame message');
    for (const garbled of [Number.NaN, Number.POSITIVE_INFINITY]) {
      panel.setStep(garbled);
      assert.equal(panel.state.step, 450);
    }
  } finally {
    panel.dispose();
  }
});
