/**
 * The real PhotoshopHost implementation against the typed fake of the UXP modules, and the fake's own
 * contracts (so that a host bug the fake is meant to catch really fails).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContractViolation, FakePhotoshop, type FakeDocument } from './fake-photoshop.js';
import { loadSample, patchLayer, type Rgba } from './sample-doc.js';
import { UxpPhotoshopHost } from '../../uxp-plugin/src/host/photoshop-host.js';
import { isHostError, type ImportPlan, type Pixels } from '../../uxp-plugin/src/host/types.js';

const sample = await loadSample('3.jpg', 288); // 288x384, opaque

function setup(opts: { mode?: string; bits?: string } = {}): { ps: FakePhotoshop; doc: FakeDocument; host: UxpPhotoshopHost } {
  const ps = new FakePhotoshop();
  const doc = ps.openDocument({
    title: 'girl.psd',
    width: sample.width,
    height: sample.height,
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.bits ? { bitsPerChannel: opts.bits } : {}),
    layers: [
      { name: 'Ink', rgba: patchLayer(sample, sample, { left: 40, top: 60, width: 100, height: 80 }) },
      { name: 'Background', rgba: sample.data.slice() },
    ],
  });
  const host = new UxpPhotoshopHost(ps.modules, ps.uxp, { sleep: async () => undefined });
  return { ps, doc, host };
}

function solid(width: number, height: number, rgba: [number, number, number, number]): Pixels {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set(rgba, i);
  return { width, height, channels: 4, data };
}

function pixelAt(rgba: Uint8Array, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 4;
  return Array.from(rgba.subarray(i, i + 4));
}

function samplePixel(s: Rgba, x: number, y: number): number[] {
  return pixelAt(s.data, s.width, x, y);
}

test('document info reports mode, depth, active layer and history', async () => {
  const { host, doc } = setup({ mode: 'CMYKColorMode', bits: 'bitDepth16' });
  const info = await host.activeDocument();
  assert.ok(info);
  assert.equal(info.id, doc.id);
  assert.equal(info.mode, 'cmyk');
  assert.equal(info.bitsPerChannel, 16);
  assert.equal(info.activeLayer?.name, 'Ink');
  assert.deepEqual(info.activeLayer?.bounds, { left: 40, top: 60, right: 140, bottom: 140 });
  assert.equal(info.history.length, 1);
});

test('reading the composite: 8-bit sRGB, 3 components for an opaque canvas, image data disposed', async () => {
  const { host, ps, doc } = setup();
  const { pixels, bounds } = await host.readPixels({ documentId: doc.id, source: 'document' });
  assert.equal(pixels.channels, 3);
  assert.deepEqual(bounds, { left: 0, top: 0, right: sample.width, bottom: sample.height });
  assert.deepEqual(Array.from(pixels.data.subarray(0, 3)), samplePixel(sample, 0, 0).slice(0, 3));
  const call = ps.calls.find((c) => c.name === 'getPixels')?.options as { colorSpace?: string; componentSize?: number; colorProfile?: string };
  assert.equal(call.colorSpace, 'RGB');
  assert.equal(call.componentSize, 8);
  assert.equal(call.colorProfile, 'sRGB IEC61966-2.1');
  assert.equal(ps.liveImageData, 0);
  assert.equal(ps.inModal, false);
});

test('reading a layer uses the bounds Photoshop returns (trimmed to content) and keeps alpha', async () => {
  const { host, doc } = setup();
  const layerId = doc.layers[0]?.id ?? -1;
  const { pixels, bounds } = await host.readPixels({ documentId: doc.id, source: 'layer', layerId });
  assert.deepEqual(bounds, { left: 40, top: 60, right: 140, bottom: 140 });
  assert.equal(pixels.channels, 3, 'an opaque patch comes back as RGB');
  assert.equal(pixels.width, 100);
  assert.equal(pixels.height, 80);
});

test('a downscaled read comes from a pyramid level; bounds are scaled back to full resolution', async () => {
  const { host, doc, ps } = setup();
  const { pixels, bounds } = await host.readPixels({ documentId: doc.id, source: 'document', maxSize: 96 });
  assert.equal(Math.max(pixels.width, pixels.height), 96);
  const call = ps.calls.find((c) => c.name === 'getPixels')?.options as { targetSize?: { height?: number } };
  assert.deepEqual(call.targetSize, { height: 96 }, 'portrait: the long side is the height');
  assert.deepEqual(bounds, { left: 0, top: 0, right: sample.width, bottom: sample.height });
});

test('CMYK and 16-bit documents are read as 8-bit RGB', async () => {
  const { host, doc } = setup({ mode: 'CMYKColorMode', bits: 'bitDepth16' });
  const { pixels } = await host.readPixels({ documentId: doc.id, source: 'document' });
  assert.ok(pixels.data instanceof Uint8Array);
  assert.equal(pixels.channels, 3);
});

test('selection source reads the selection bounds; no selection is a clear error', async () => {
  const { host, doc } = setup();
  await assert.rejects(host.readPixels({ documentId: doc.id, source: 'selection' }), (e) => isHostError(e, 'NO_SELECTION') && /make a selection/.test(e.message));
  doc.setSelection({ left: 10, top: 20, right: 110, bottom: 70 });
  const { bounds, pixels } = await host.readPixels({ documentId: doc.id, source: 'selection' });
  assert.deepEqual(bounds, { left: 10, top: 20, right: 110, bottom: 70 });
  assert.equal(pixels.width, 100);
});

function keyframePlan(docId: number, bounds = { left: 0, top: 0, right: sample.width, bottom: sample.height }): ImportPlan {
  const w = bounds.right - bounds.left;
  const h = bounds.bottom - bounds.top;
  return {
    documentId: docId,
    historyName: 'PaintsUndo: import keyframes',
    groupName: 'girl keyframes',
    placement: { kind: 'top' },
    layers: [
      { name: 'Step 400', pixels: () => solid(w, h, [200, 10, 10, 255]), bounds, visible: true },
      { name: 'Step 600', pixels: () => solid(w, h, [10, 200, 10, 255]), bounds, visible: false },
      { name: 'Step 999', pixels: () => solid(w, h, [10, 10, 200, 128]), bounds, visible: false },
    ],
  };
}

test('import: one group, layers in order with names, visibility and pixels, in ONE history state', async () => {
  const { host, doc, ps } = setup();
  const before = doc.historyStates.length;
  const result = await host.importLayers(keyframePlan(doc.id));
  const rows = doc.outline();
  assert.deepEqual(
    rows.map((r) => [r.name, r.depth, r.visible]),
    [
      ['girl keyframes', 0, true],
      ['Step 400', 1, true],
      ['Step 600', 1, false],
      ['Step 999', 1, false],
      ['Ink', 0, true],
      ['Background', 0, true],
    ],
  );
  assert.equal(result.layerIds.length, 3);
  assert.equal(doc.historyStates.length, before + 1);
  assert.equal(doc.historyStates[doc.historyStates.length - 1]?.name, 'PaintsUndo: import keyframes');
  const step999 = rows[3]?.pixels;
  assert.ok(step999);
  assert.deepEqual(pixelAt(step999, doc.width, 5, 5), [10, 10, 200, 128]);
  assert.equal(ps.liveImageData, 0);
  assert.equal(ps.calls.filter((c) => c.name === 'executeAsModal').length, 1);
});

test('import lands exactly on the target bounds (no placeEvent, no rescale)', async () => {
  const { host, doc, ps } = setup();
  const bounds = { left: 40, top: 60, right: 140, bottom: 140 };
  const ink = doc.layers[0];
  assert.ok(ink);
  await host.importLayers({
    documentId: doc.id,
    historyName: 'PaintsUndo: add step 500',
    placement: { kind: 'above', layerId: ink.id },
    layers: [{ name: 'Step 500', pixels: () => solid(100, 80, [1, 2, 3, 255]), bounds, visible: true }],
  });
  const row = doc.outline()[0];
  assert.equal(row?.name, 'Step 500');
  assert.ok(row?.pixels);
  assert.deepEqual(pixelAt(row.pixels, doc.width, 40, 60), [1, 2, 3, 255]);
  assert.deepEqual(pixelAt(row.pixels, doc.width, 139, 139), [1, 2, 3, 255]);
  assert.deepEqual(pixelAt(row.pixels, doc.width, 39, 60), [0, 0, 0, 0]);
  assert.deepEqual(pixelAt(row.pixels, doc.width, 140, 140), [0, 0, 0, 0]);
  assert.ok(!ps.calls.some((c) => /place/i.test(c.name)));
});

test('a frame smaller than its target bounds is scaled up smoothly, transparent pixels lending no colour', async () => {
  // The panel renders at its output size (2048 px by default) and imports into the document's bounds.
  const { host, doc } = setup();
  const ink = doc.layers[0];
  assert.ok(ink);
  // 2x1 source: opaque black then opaque white; and transparent (black) then opaque white.
  const ramp: Pixels = { width: 2, height: 1, channels: 4, data: Uint8Array.of(0, 0, 0, 255, 255, 255, 255, 255) };
  const edge: Pixels = { width: 2, height: 1, channels: 4, data: Uint8Array.of(0, 0, 0, 0, 255, 255, 255, 255) };
  await host.importLayers({
    documentId: doc.id,
    historyName: 'PaintsUndo: add steps',
    placement: { kind: 'above', layerId: ink.id },
    layers: [
      { name: 'Ramp', pixels: () => ramp, bounds: { left: 10, top: 10, right: 14, bottom: 11 }, visible: true },
      { name: 'Edge', pixels: () => edge, bounds: { left: 10, top: 20, right: 14, bottom: 21 }, visible: true },
    ],
  });
  const rows = doc.outline();
  const ramped = rows.find((r) => r.name === 'Ramp')?.pixels;
  const edged = rows.find((r) => r.name === 'Edge')?.pixels;
  assert.ok(ramped && edged);
  // Pixel centres 0.5/4 .. 3.5/4 of the way: black, a quarter, three quarters, white (not two blocks).
  assert.deepEqual([10, 11, 12, 13].map((x) => pixelAt(ramped, doc.width, x, 10)[0]), [0, 64, 191, 255]);
  // Fading out, the white stays white: only its alpha falls.
  assert.deepEqual([10, 11, 12, 13].map((x) => pixelAt(edged, doc.width, x, 20)), [
    [0, 0, 0, 0],
    [255, 255, 255, 64],
    [255, 255, 255, 191],
    [255, 255, 255, 255],
  ]);
});

test('per-layer import goes directly above its source layer', async () => {
  const { host, doc } = setup();
  const bg = doc.layers[1];
  assert.ok(bg);
  doc.selectLayer(doc.layers[0]?.id ?? -1);
  const plan = { ...keyframePlan(doc.id), placement: { kind: 'above' as const, layerId: bg.id } };
  await host.importLayers(plan);
  assert.deepEqual(
    doc.outline().filter((r) => r.depth === 0).map((r) => r.name),
    ['Ink', 'girl keyframes', 'Background'],
  );
});

test('each layer\'s pixels are made just before it is written, so one full-size buffer is alive at a time', async () => {
  const { host, doc, ps } = setup();
  const events: string[] = [];
  ps.onPutPixels = (n) => events.push(`write ${n}`);
  const plan = keyframePlan(doc.id);
  const lazy: ImportPlan = {
    ...plan,
    layers: plan.layers.map((l) => ({
      ...l,
      pixels: () => {
        events.push(`make ${l.name}`);
        return l.pixels();
      },
    })),
  };
  await host.importLayers(lazy);
  // Bottom-up: Step 999 is created first.
  assert.deepEqual(events, ['make Step 999', 'write 1', 'make Step 600', 'write 2', 'make Step 400', 'write 3']);
  assert.equal(ps.liveImageData, 0);
});

test('frames of a layer take its opacity and blend mode, read when they are written; other layers stay normal at 100 %', async () => {
  const { host, doc, ps } = setup();
  const ink = doc.layers[0]!;
  await ps.modules.core.executeAsModal(
    async () => {
      ink.opacity = 40;
      ink.blendMode = 'multiply';
    },
    { commandName: 'Style the ink' },
  );
  const plan = keyframePlan(doc.id, { left: 40, top: 60, right: 140, bottom: 140 });
  await host.importLayers({ ...plan, placement: { kind: 'above', layerId: ink.id }, layers: plan.layers.map((l) => ({ ...l, styleOf: ink.id })) });
  const steps = doc.outline().filter((r) => r.name.startsWith('Step '));
  assert.deepEqual(
    steps.map((r) => [r.name, r.opacity, r.blendMode]),
    [
      ['Step 400', 40, 'multiply'],
      ['Step 600', 40, 'multiply'],
      ['Step 999', 40, 'multiply'],
    ],
  );
  assert.equal(doc.outline().find((r) => r.name === 'girl keyframes')?.blendMode, 'passThrough');
  // Without styleOf (a canvas source), new layers are normal at 100 %.
  await host.importLayers({ ...keyframePlan(doc.id), groupName: 'canvas keyframes' });
  const inCanvasGroup = doc.outline().filter((r) => r.name.startsWith('Step ') && !steps.some((s) => s.id === r.id));
  assert.ok(inCanvasGroup.length === 3 && inCanvasGroup.every((r) => r.opacity === 100 && r.blendMode === 'normal'));
});

test('the fake enforces Layer.opacity and Layer.blendMode: a percentage, a BlendMode value, in a modal scope', async () => {
  const { doc, ps } = setup();
  const ink = doc.layers[0]!;
  assert.throws(() => (ink.opacity = 50), ContractViolation);
  await ps.modules.core.executeAsModal(
    async () => {
      assert.throws(() => (ink.opacity = 140), ContractViolation);
      assert.throws(() => (ink.blendMode = 'MULTIPLY'), ContractViolation);
      assert.throws(() => (ink.blendMode = 'passThrough'), ContractViolation);
      ink.blendMode = 'screen';
    },
    { commandName: 'Style the ink' },
  );
  assert.equal(ink.blendMode, 'screen');
});

test('16-bit documents get 16-bit data scaled to 0..32768', async () => {
  const { host, doc } = setup({ bits: 'bitDepth16' });
  await host.importLayers(keyframePlan(doc.id));
  const row = doc.outline()[1];
  assert.ok(row?.pixels);
  assert.deepEqual(pixelAt(row.pixels, doc.width, 0, 0), [200, 10, 10, 255]);
});

test('CMYK and 32-bit documents are refused for import with what to do', async () => {
  for (const opts of [{ mode: 'CMYKColorMode' }, { bits: 'bitDepth32' }]) {
    const { host, doc } = setup(opts);
    await assert.rejects(host.importLayers(keyframePlan(doc.id)), (e) => isHostError(e, 'UNSUPPORTED_MODE') && /Image > Mode > RGB Color/.test(e.message));
    assert.equal(doc.outline().length, 2);
  }
});

test('cancel in the middle of an import rolls everything back', async () => {
  const { host, doc, ps } = setup();
  const controller = new AbortController();
  ps.onPutPixels = (n) => {
    if (n === 2) controller.abort();
  };
  const historyBefore = doc.historyStates.length;
  await assert.rejects(host.importLayers(keyframePlan(doc.id), controller.signal), (e) => isHostError(e, 'CANCELLED'));
  assert.deepEqual(
    doc.outline().map((r) => r.name),
    ['Ink', 'Background'],
  );
  assert.equal(doc.historyStates.length, historyBefore);
  assert.equal(ps.liveImageData, 0);
});

test('a failing write rolls back too (wrong pixel buffer size)', async () => {
  const { host, doc } = setup();
  const plan = keyframePlan(doc.id);
  const bad: ImportPlan = { ...plan, layers: [...plan.layers, { name: 'bad', pixels: () => ({ width: 2, height: 2, channels: 4, data: new Uint8Array(3) }), bounds: plan.layers[0]!.bounds, visible: true }] };
  await assert.rejects(host.importLayers(bad), (e) => isHostError(e, 'HOST_FAILED'));
  assert.equal(doc.outline().length, 2);
});

test('waits politely while another plugin holds the modal state, then reports it', async () => {
  const { host, doc, ps } = setup();
  const waits: number[] = [];
  const polite = new UxpPhotoshopHost(ps.modules, ps.uxp, { sleep: async () => undefined, onModalWait: (ms) => waits.push(ms) });
  ps.holdModal(3);
  const { pixels } = await polite.readPixels({ documentId: doc.id, source: 'document', maxSize: 32 });
  assert.ok(pixels.width > 0);
  assert.equal(waits.length, 3);
  ps.holdModal(1000);
  await assert.rejects(host.readPixels({ documentId: doc.id, source: 'document' }), (e) => isHostError(e, 'MODAL_BUSY') && /another plugin/.test(e.message));
});

test('history: reads each state downscaled and puts the active state back', async () => {
  const { host, doc } = setup();
  doc.userEdit('Brush Tool', (layers) => {
    const ink = layers[0];
    if (ink?.pixels) ink.visible = false;
  });
  doc.userEdit('Fill', (layers) => {
    const ink = layers[0];
    if (ink) ink.visible = true;
  });
  const info = await host.activeDocument();
  assert.ok(info);
  const ids = info.history.map((h) => h.id);
  const frames = await host.readHistory(doc.id, ids, 64);
  assert.deepEqual(
    frames.map((f) => f.name),
    ['Open', 'Brush Tool', 'Fill'],
  );
  assert.ok(frames.every((f) => Math.max(f.pixels.width, f.pixels.height) === 64));
  assert.equal(doc.activeHistoryState.id, info.activeHistoryId);
});

test('save dialog: bytes written as binary; a cancelled dialog is undefined', async () => {
  const { host, ps } = setup();
  ps.nextSaveName = 'girl.mp4';
  const target = await host.chooseSaveFile('girl.mp4', ['mp4']);
  assert.ok(target);
  await target.write(new Uint8Array([1, 2, 3]));
  assert.deepEqual(Array.from(ps.files.get('girl.mp4') ?? []), [1, 2, 3]);
  ps.nextSaveName = null;
  assert.equal(await host.chooseSaveFile('x.gif', ['gif']), undefined);
});

test('secure storage round trip', async () => {
  const { host } = setup();
  assert.equal(await host.readSecret('token'), undefined);
  await host.writeSecret('token', 'ab'.repeat(32));
  assert.equal(await host.readSecret('token'), 'ab'.repeat(32));
  await host.removeSecret('token');
  await host.removeSecret('token');
  assert.equal(await host.readSecret('token'), undefined);
});

test('fake contracts: edits outside executeAsModal, undisposed data, bad buffers, unbalanced history', async () => {
  const { ps, doc } = setup();
  await assert.rejects(doc.createPixelLayer({ name: 'x' }), ContractViolation);
  const layer = doc.layers[0];
  assert.ok(layer);
  assert.throws(() => {
    layer.visible = false;
  }, ContractViolation);
  await assert.rejects(ps.modules.imaging.createImageDataFromBuffer(new Uint8Array(5), { width: 2, height: 2, components: 4, colorSpace: 'RGB' }), ContractViolation);
  const data = await ps.modules.imaging.createImageDataFromBuffer(new Uint8Array(16), { width: 2, height: 2, components: 4, colorSpace: 'RGB' });
  assert.equal(ps.liveImageData, 1);
  await data.dispose();
  await assert.rejects(data.getData({}), ContractViolation);
  await assert.rejects(
    ps.modules.core.executeAsModal(async (ctx) => {
      await ctx.hostControl.suspendHistory({ documentID: doc.id, name: 'a' });
      await doc.createPixelLayer({ name: 'left over' });
    }, { commandName: 'leak' }),
    ContractViolation,
  );
  assert.deepEqual(
    doc.outline().map((r) => r.name),
    ['Ink', 'Background'],
  );
  await assert.rejects(
    ps.modules.core.executeAsModal(async (ctx) => {
      const a = await ctx.hostControl.suspendHistory({ documentID: doc.id, name: 'a' });
      const b = await ctx.hostControl.suspendHistory({ documentID: doc.id, name: 'b' });
      await ctx.hostControl.resumeHistory(a, true);
      await ctx.hostControl.resumeHistory(b, true);
    }, { commandName: 'order' }),
    /reverse order/,
  );
  await assert.rejects(
    ps.modules.core.executeAsModal(async () => ps.modules.imaging.getPixels({ documentID: doc.id, layerID: 99999 }), { commandName: 'bad id' }),
    /does not exist/,
  );
});
