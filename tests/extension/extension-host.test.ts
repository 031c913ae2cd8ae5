// The extension's host side against a contract-enforcing fake of the VS Code API (fake-vscode.ts) and
// the real engine, spawned over stdio from this repository's bin/paints-undo exactly as in an editor:
// activation, the custom editor lifecycle, slider frames, exports through save dialogs with cancellable
// progress, error replies, restart, cache clearing, and no engine process left after deactivation.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writePsdBuffer } from 'ag-psd';
import sharp, { type Stats } from 'sharp';
import type { HostMessage, InitMessage } from '../../extension/src/core/messages.js';
import { COMMANDS, register, type ExtensionRuntime } from '../../extension/src/vscode/register.js';
import { FakeUri, FakeVsCode, type FakeWebviewPanel } from './fake-vscode.js';
import { samplePath } from '../shared-samples.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const extensionPath = join(root, 'extension');
const scratch = mkdtempSync(join(tmpdir(), 'pu-ext-host-'));
// A shared sample at 384 px on the long side (288x384): plans in about a second on this machine.
const SAMPLE = join(scratch, 'sample.png');

let fake: FakeVsCode;
let runtime: ExtensionRuntime;
let panel: FakeWebviewPanel;
let nextId = 1;

type Reply = Extract<HostMessage, { type: 'reply' }>;

function isInit(m: unknown): m is InitMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'init';
}

/** Sends a request from the "webview" and waits for its reply. */
async function request(p: FakeWebviewPanel, body: Record<string, unknown>, timeoutMs = 90_000): Promise<Reply> {
  const requestId = nextId++;
  p.webview.send({ ...body, requestId });
  return p.webview.waitFor((m): m is Reply => typeof m === 'object' && m !== null && (m as Reply).type === 'reply' && (m as Reply).requestId === requestId, timeoutMs);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

let sourceHash = '';

before(async () => {
  await sharp(samplePath('3.jpg')).resize(384, 384, { fit: 'inside' }).png().toFile(SAMPLE);
  sourceHash = sha256(SAMPLE);
  // The engine's cache and token live in this test's scratch folder, not in the user's home.
  process.env.PAINTS_UNDO_CACHE_DIR = join(scratch, 'cache');
  process.env.PAINTS_UNDO_CONFIG_DIR = join(scratch, 'config');
  fake = new FakeVsCode(join(extensionPath, 'package.json'));
  runtime = register(fake.api, fake.context(extensionPath), { idleStopMs: 200 });
});

after(async () => {
  await runtime.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

test('activate only registers: commands, the custom editor and an idle status bar item, no engine yet', () => {
  for (const id of Object.values(COMMANDS)) assert.ok(fake.commandHandlers.has(id), id);
  assert.ok(fake.providers.has('paintsUndo.timeline'));
  assert.equal(fake.statusBar.length, 1);
  assert.match(fake.statusBar[0]?.text ?? '', /PaintsUndo: idle/);
  assert.equal(fake.statusBar[0]?.shown, true);
  assert.deepEqual(runtime.engine.childPids, []);
});

test('opening an image starts the engine over stdio and the webview gets init with the image and backends', async () => {
  panel = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  assert.equal(panel.viewType, 'paintsUndo.timeline');
  // The fake already checked CSP, nonce and localResourceRoots when html was set; check the roots here.
  assert.deepEqual(panel.webview.options.localResourceRoots?.map((u) => u.path.slice(extensionPath.length)), ['/media', '/out/webview']);
  panel.webview.send({ type: 'ready' });
  const init = await panel.webview.waitFor(isInit, 90_000);
  assert.equal(init.error, undefined, JSON.stringify(init.error));
  assert.deepEqual(init.image, { width: 288, height: 384, notices: [] });
  assert.equal(init.fileName, 'sample.png');
  assert.ok(init.backends.some((b) => b.id === 'classic' && b.timelapse && b.layers));
  assert.equal(init.engine.state, 'connected');
  assert.equal(init.defaults.seed, 12345);
  assert.equal(runtime.engine.childPids.length, 1);
  assert.match(fake.statusBar[0]?.text ?? '', /PaintsUndo: connected/);
  assert.ok(fake.output.some((l) => l.includes('serving JSON-RPC on stdio')), 'the engine log reaches the output channel');
});

test('slider frames: PNG bytes of the requested step; step 999 is a (nearly) blank canvas', async () => {
  const mid = await request(panel, { type: 'frame', step: 500, seed: 7, backend: 'classic' });
  assert.ok(mid.ok, JSON.stringify(!mid.ok && mid.error));
  const midResult = mid.result as { step: number; png: Uint8Array; cached: boolean };
  assert.equal(midResult.step, 500);
  const midStats = await sharp(midResult.png).stats();
  const meta = await sharp(midResult.png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 288, 384]);
  const blank = await request(panel, { type: 'frame', step: 999, seed: 7, backend: 'classic' });
  assert.ok(blank.ok);
  const blankStats = await sharp((blank.result as { png: Uint8Array }).png).stats();
  const mean = (s: Stats): number => s.channels.slice(0, 3).reduce((a, c) => a + c.mean, 0) / 3;
  assert.ok(mean(blankStats) > 250, `step 999 mean ${mean(blankStats)}`);
  assert.ok(mean(midStats) < mean(blankStats) - 5, 'step 500 has paint on it');
  // Asking again is served from the engine's cache.
  const again = await request(panel, { type: 'frame', step: 500, seed: 7, backend: 'classic' });
  assert.ok(again.ok && (again.result as { cached: boolean }).cached);
  // At the preview's display size: the engine renders the frame that size.
  const small = await request(panel, { type: 'frame', step: 500, seed: 7, backend: 'classic', size: 192 });
  assert.ok(small.ok, JSON.stringify(!small.ok && small.error));
  const smallMeta = await sharp((small.result as { png: Uint8Array }).png).metadata();
  assert.deepEqual([smallMeta.width, smallMeta.height], [144, 192]);
});

test('a burst of slider requests: every request gets exactly one reply, the newest one a frame', async () => {
  const ids = [610, 620, 630, 640].map((step) => {
    const requestId = nextId++;
    panel.webview.send({ type: 'frame', requestId, step, seed: 7, backend: 'classic' });
    return requestId;
  });
  const last = ids.at(-1) ?? 0;
  const replies = await Promise.all(ids.map((id) => panel.webview.waitFor((m): m is Reply => (m as Reply).type === 'reply' && (m as Reply).requestId === id, 90_000)));
  const lastReply = replies.at(-1);
  assert.ok(lastReply?.ok, 'the newest slider request gets its frame');
  for (const r of replies.slice(0, -1)) assert.ok(r.ok || r.error.code === 'CANCELLED', JSON.stringify(r));
  assert.equal(panel.webview.posted.filter((m) => (m as Reply).type === 'reply' && ids.includes((m as Reply).requestId)).length, ids.length);
  assert.ok(last > 0);
});

test('invalid requests get an error reply with a stable code, and the session keeps working', async () => {
  const bad = await request(panel, { type: 'frame', step: 1200, seed: 7, backend: 'classic' });
  assert.ok(!bad.ok && bad.error.code === 'BAD_MESSAGE' && /step/.test(bad.error.message), JSON.stringify(bad));
  const unknown = await request(panel, { type: 'frame', step: 5, seed: 7, backend: 'no-such-backend' });
  assert.ok(!unknown.ok && unknown.error.code === 'UNKNOWN_BACKEND', JSON.stringify(unknown));
  const ok = await request(panel, { type: 'frame', step: 0, seed: 7, backend: 'classic' });
  assert.ok(ok.ok);
});

test('export timelapse: save dialog defaults next to the source, progress notification, ffprobe agrees', async () => {
  const out = join(scratch, 'exports', 'three.mp4');
  let asked: { defaultUri?: { fsPath: string }; filters?: Record<string, string[]> } | undefined;
  fake.saveAnswers.push((options) => {
    asked = options as typeof asked;
    return FakeUri.file(out);
  });
  const progressBefore = fake.progress.length;
  const reply = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'timelapse', format: 'mp4', frames: 12, fps: 12, size: 256, label: true } }, 180_000);
  assert.ok(reply.ok, JSON.stringify(!reply.ok && reply.error));
  assert.deepEqual(reply.result, { saved: [out] });
  assert.equal(asked?.defaultUri?.fsPath, join(scratch, 'sample-timelapse.mp4'));
  assert.deepEqual(Object.values(asked?.filters ?? {}), [['mp4']]);
  const progress = fake.progress[progressBefore];
  assert.ok(progress?.cancellable && progress.done && progress.title?.includes('sample.png'));
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,pix_fmt', '-of', 'json', out], { encoding: 'utf8' })) as {
    streams: { codec_name: string; width: number; height: number; pix_fmt: string }[];
  };
  assert.deepEqual(probe.streams[0], { codec_name: 'h264', width: 192, height: 256, pix_fmt: 'yuv420p' });
  assert.ok(fake.infos.some((m) => m.includes(out)));
  assert.equal(sha256(SAMPLE), sourceHash, 'the source image is never modified');
});

test('a document that is not on disk: its image is uploaded (refused unread over the upload limit), export dialogs open in the workspace folder, else home', async () => {
  const other = new FakeVsCode(join(extensionPath, 'package.json'));
  const lone = register(other.api, other.context(extensionPath), { idleStopMs: 200 });
  try {
    // A virtual file system (the fake reads its bytes from `path`).
    const remote = new FakeUri('vscode-vfs', 'github', SAMPLE);
    const p = await other.executeCommand<FakeWebviewPanel>('vscode.openWith', remote, 'paintsUndo.timeline');
    p.webview.send({ type: 'ready' });
    const init = await p.webview.waitFor(isInit, 60_000);
    assert.equal(init.error, undefined, JSON.stringify(init.error));
    const asked: string[] = [];
    const dismiss = (options: unknown): undefined => {
      asked.push((options as { defaultUri?: { fsPath: string } } | undefined)?.defaultUri?.fsPath ?? '(none)');
      return undefined;
    };
    other.saveAnswers.push(dismiss);
    const home = await request(p, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'layers' } });
    assert.deepEqual(home.ok && home.result, { saved: null });
    other.workspaceFolders.push({ uri: FakeUri.file(scratch) });
    other.saveAnswers.push(dismiss);
    await request(p, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'layers' } });
    assert.deepEqual(asked, [join(homedir(), 'sample-layers.psd'), join(scratch, 'sample-layers.psd')]);
    p.dispose();
    // Over the engine's upload limit (64 MB by default): refused before a byte is read.
    const big = join(scratch, 'huge.png');
    writeFileSync(big, '');
    truncateSync(big, 100 * 1024 * 1024);
    const huge = new FakeUri('vscode-vfs', 'github', big);
    const q = await other.executeCommand<FakeWebviewPanel>('vscode.openWith', huge, 'paintsUndo.timeline');
    q.webview.send({ type: 'ready' });
    const refused = await q.webview.waitFor(isInit, 60_000);
    assert.equal(refused.error?.code, 'INPUT_TOO_LARGE');
    assert.match(refused.error?.message ?? '', /huge\.png is 100\.0 MB; the engine takes uploads of up to 64\.0 MB/);
    assert.ok(!other.reads.includes(huge.toString()), other.reads.join('\n'));
    q.dispose();
  } finally {
    await lone.dispose();
  }
});

/** The next init the editor gets after those it has had (the image loaded again). */
function nextInit(p: FakeWebviewPanel, timeoutMs = 30_000): Promise<InitMessage> {
  const seen = new Set(p.webview.posted.filter(isInit));
  return p.webview.waitFor((m): m is InitMessage => isInit(m) && !seen.has(m), timeoutMs);
}

test('an image edited on disk shows in its open timeline: saved in place, and saved as a new file renamed over it', async () => {
  const other = new FakeVsCode(join(extensionPath, 'package.json'));
  const lone = register(other.api, other.context(extensionPath), { idleStopMs: 200 });
  const folder = join(scratch, 'edited');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'edited.png');
  const original = await sharp(SAMPLE).png().toBuffer();
  writeFileSync(file, original);
  try {
    const p = await other.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(file));
    p.webview.send({ type: 'ready' });
    await p.webview.waitFor(isInit, 60_000);
    const frameBytes = async (): Promise<Buffer> => {
      const reply = await request(p, { type: 'frame', step: 0, seed: 7, backend: 'classic', size: 128 });
      assert.ok(reply.ok, JSON.stringify(!reply.ok && reply.error));
      return sharp(Buffer.from((reply.result as { png: Uint8Array }).png)).raw().toBuffer();
    };
    const first = await frameBytes();
    // Saved in place (the picture mirrored): the editor loads it again and step 0 is the new picture.
    let reloaded = nextInit(p);
    writeFileSync(file, await sharp(SAMPLE).flop().png().toBuffer());
    assert.equal((await reloaded).error, undefined);
    const mirrored = await frameBytes();
    assert.ok(!mirrored.equals(first), 'step 0 shows the saved picture, not the frame cached before');
    // Saved as a temporary file renamed over the image, as paint programs do.
    reloaded = nextInit(p);
    writeFileSync(join(folder, 'edited.png.tmp'), original);
    renameSync(join(folder, 'edited.png.tmp'), file);
    assert.equal((await reloaded).error, undefined);
    assert.ok((await frameBytes()).equals(first), 'back to the first picture');
    assert.ok(other.output.some((l) => /edited\.png changed on disk: loading it again/.test(l)));
    p.dispose();
  } finally {
    await lone.dispose();
  }
});

test('an export whose write fails leaves the file it was replacing whole, and no partial file behind', async () => {
  const folder = join(scratch, 'exports-atomic');
  const out = join(folder, 'kept.psd');
  mkdirSync(folder, { recursive: true });
  writeFileSync(out, 'the earlier export, still wanted');
  fake.saveAnswers.push(() => FakeUri.file(out));
  fake.failNextWrite = new Error('ENOSPC: no space left on device, write');
  const reply = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'layers' } }, 180_000);
  assert.ok(!reply.ok && /no space left on device/.test(reply.error.message), JSON.stringify(reply));
  assert.equal(readFileSync(out, 'utf8'), 'the earlier export, still wanted');
  assert.deepEqual(readdirSync(folder), ['kept.psd']);
  // The same export with room to write replaces it.
  fake.saveAnswers.push(() => FakeUri.file(out));
  const again = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'layers' } }, 180_000);
  assert.ok(again.ok, JSON.stringify(!again.ok && again.error));
  assert.equal(readFileSync(out).subarray(0, 4).toString('latin1'), '8BPS');
  assert.deepEqual(readdirSync(folder), ['kept.psd']);
});

test('export keyframes into a chosen folder and layers as PSD; a dismissed dialog exports nothing', async () => {
  const folder = join(scratch, 'keys');
  fake.openAnswers.push(() => [FakeUri.file(folder)]);
  const reply = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'keyframes', steps: [400, 999] } }, 120_000);
  assert.ok(reply.ok, JSON.stringify(!reply.ok && reply.error));
  assert.deepEqual(readdirSync(folder).sort(), ['sample-step-0400.png', 'sample-step-0999.png']);
  fake.saveAnswers.push(() => undefined);
  const none = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'layers' } });
  assert.deepEqual(none.ok && none.result, { saved: null });
  const psd = join(scratch, 'exports', 'layers.psd');
  fake.saveAnswers.push(() => FakeUri.file(psd));
  const layers = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'layers' } }, 120_000);
  assert.ok(layers.ok, JSON.stringify(!layers.ok && layers.error));
  assert.equal(readFileSync(psd).subarray(0, 4).toString('latin1'), '8BPS', 'a Photoshop document');
});

test('keyframes over files of their names ask once (dismissed: nothing is written; Replace: written); an export onto the source is refused', async () => {
  const folder = join(scratch, 'keys');
  const mine = join(folder, 'sample-step-0400.png');
  writeFileSync(mine, 'USER DATA');
  fake.openAnswers.push(() => [FakeUri.file(folder)]);
  fake.warningAnswers.push(() => undefined);
  const kept = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'keyframes', steps: [400, 999] } }, 120_000);
  assert.deepEqual(kept.ok && kept.result, { saved: null });
  assert.match(fake.warnings.at(-1) ?? '', /^2 of the 2 keyframe files already exist in .*keys\. Replace them\?$/);
  assert.equal(readFileSync(mine, 'utf8'), 'USER DATA', 'dismissed: the file is as it was');
  fake.openAnswers.push(() => [FakeUri.file(folder)]);
  fake.warningAnswers.push(() => 'Replace');
  const replaced = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'keyframes', steps: [400, 999] } }, 120_000);
  assert.ok(replaced.ok, JSON.stringify(!replaced.ok && replaced.error));
  assert.equal(readFileSync(mine).subarray(1, 4).toString('latin1'), 'PNG', 'replaced by the keyframe');
  // The image being shown is never a destination.
  fake.saveAnswers.push(() => FakeUri.file(SAMPLE));
  const onto = await request(panel, { type: 'export', seed: 7, backend: 'classic', spec: { what: 'layers' } });
  assert.ok(!onto.ok && onto.error.code === 'OUTPUT_NOT_WRITABLE', JSON.stringify(onto));
  assert.match(onto.error.message, /is the image this editor shows; an export never replaces it/);
  assert.equal(sha256(SAMPLE), sourceHash, 'the source image is never modified');
});

test('closing an editor while its export is being submitted cancels the job, and nothing is written', async () => {
  const second = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  second.webview.send({ type: 'ready' });
  assert.equal((await second.webview.waitFor(isInit, 90_000)).error, undefined);
  const out = join(scratch, 'exports', 'closed.mp4');
  fake.saveAnswers.push(() => FakeUri.file(out));
  second.webview.send({ type: 'export', requestId: nextId++, seed: 98, backend: 'classic', spec: { what: 'timelapse', format: 'mp4', frames: 12, fps: 12, label: false } });
  // Closed before the job has reached the engine.
  second.dispose();
  const client = await runtime.engine.client();
  const started = Date.now();
  for (;;) {
    const { jobs } = await client.call('jobs.list', {});
    const job = jobs.find((j) => j.kind === 'timelapse' && j.params.seed === 98);
    if (job && job.state !== 'queued' && job.state !== 'running') {
      assert.equal(job.state, 'cancelled', "the closed editor's job was cancelled");
      break;
    }
    assert.ok(Date.now() - started < 60_000, 'the job ended');
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(existsSync(out), false, 'nothing was written for the closed editor');
  assert.ok(!fake.infos.some((m) => m.includes(out)));
});

test("the editor window's one connection to its engine takes more unfinished jobs than a shared engine's client (every editor shares it)", async () => {
  const client = await runtime.engine.client();
  const image = (await client.putImage(readFileSync(SAMPLE))).image;
  // 24 frames of different variations at once: a shared engine refuses a client's 17th (TOO_MANY_JOBS).
  const handles = await Promise.all(Array.from({ length: 24 }, (_, i) => client.submit('frame', { image, step: 500, seed: 1000 + i })));
  assert.equal(handles.length, 24);
  await Promise.all(handles.map((h) => h.cancel().catch(() => undefined)));
  await Promise.all(handles.map((h) => h.done.catch(() => undefined)));
});

test('cancelling the progress notification cancels the engine job and writes nothing', async () => {
  const out = join(scratch, 'exports', 'cancelled.mp4');
  fake.saveAnswers.push(() => FakeUri.file(out));
  const progressBefore = fake.progress.length;
  const requestId = nextId++;
  // A fresh seed and a long video, so the job is still running when Cancel is pressed.
  panel.webview.send({ type: 'export', requestId, seed: 99, backend: 'classic', spec: { what: 'timelapse', format: 'mp4', frames: 3000, fps: 60, label: false } });
  const started = Date.now();
  while (fake.progress.length === progressBefore || (fake.progress[progressBefore]?.reports.length ?? 0) === 0) {
    if (Date.now() - started > 90_000) throw new Error('no progress report arrived');
    await new Promise((r) => setTimeout(r, 50));
  }
  fake.progress[progressBefore]?.cancel();
  const reply = await panel.webview.waitFor((m): m is Reply => (m as Reply).type === 'reply' && (m as Reply).requestId === requestId, 60_000);
  assert.ok(!reply.ok && reply.error.code === 'CANCELLED', JSON.stringify(reply));
  assert.equal(existsSync(out), false);
  const jobs = await (await runtime.engine.client()).call('jobs.list', { state: 'cancelled' });
  assert.ok(jobs.jobs.some((j) => j.kind === 'timelapse' && j.params.seed === 99), 'the engine job itself was cancelled');
});

test('an unreadable image: init carries the engine error for the webview to show', async () => {
  const broken = join(scratch, 'broken.png');
  writeFileSync(broken, readFileSync(SAMPLE).subarray(0, 300));
  const p = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(broken));
  p.webview.send({ type: 'ready' });
  const init = await p.webview.waitFor(isInit, 60_000);
  assert.equal(init.image, null);
  assert.ok(init.error && ['INPUT_CORRUPT', 'INPUT_NOT_IMAGE'].includes(init.error.code), JSON.stringify(init.error));
  // Restarting the engine does not bring such an image back: the restart's reply says why, as init did
  // (an ok reply made the webview hide the error and leave a dead editor).
  const restarted = await request(p, { type: 'restartEngine' }, 90_000);
  assert.ok(!restarted.ok && restarted.error.code === init.error.code, JSON.stringify(restarted));
  p.dispose();
  assert.equal(p.listenerCount, 0, 'closing the editor releases its listeners');
});

test('a PSD opens in the timeline editor (the engine reads its composite)', async () => {
  const { data, info } = await sharp(SAMPLE).resize(200, 200, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const imageData = { width: info.width, height: info.height, data: new Uint8ClampedArray(data) };
  const psdPath = join(scratch, 'painting.psd');
  writeFileSync(psdPath, writePsdBuffer({ width: info.width, height: info.height, imageData, children: [{ name: 'paint', top: 0, left: 0, imageData }] }));
  const p = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(psdPath));
  p.webview.send({ type: 'ready' });
  const init = await p.webview.waitFor(isInit, 60_000);
  assert.equal(init.error, undefined, JSON.stringify(init.error));
  assert.deepEqual([init.image?.width, init.image?.height], [150, 200]);
  // What the engine did with it reaches the editor: the composite was read, and it is small.
  assert.ok(init.image?.notices.some((n) => /composite image of the PSD/.test(n)), init.image?.notices.join(' | '));
  p.dispose();
});

test('clear cache and restart commands; the old engine process is gone after a restart', async () => {
  await fake.executeCommand(COMMANDS.clearCache);
  assert.ok(fake.infos.some((m) => /cleared the engine cache \(\d+ results/.test(m)), fake.infos.join('\n'));
  const [before] = runtime.engine.childPids;
  assert.ok(before);
  await fake.executeCommand(COMMANDS.restartEngine);
  assert.ok(fake.infos.some((m) => /engine .* restarted \(stdio\)/.test(m)), fake.infos.join('\n') + fake.errors.join('\n'));
  assert.equal(alive(before), false, 'the old engine exited');
  const [now] = runtime.engine.childPids;
  assert.ok(now && now !== before);
  // The open editor keeps working with the new engine (its image is uploaded again).
  const frame = await request(panel, { type: 'frame', step: 300, seed: 7, backend: 'classic' });
  assert.ok(frame.ok, JSON.stringify(!frame.ok && frame.error));
});

test('a restart asks first while an export runs in any editor: dismissed, the export goes on; Restart stops it', async () => {
  const second = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  second.webview.send({ type: 'ready' });
  await second.webview.waitFor(isInit, 60_000);
  const out = join(scratch, 'exports', 'stopped-by-restart.mp4');
  try {
    // A long export in the first editor, running once the engine reports its frames.
    fake.saveAnswers.push(() => FakeUri.file(out));
    const requestId = nextId++;
    panel.webview.send({ type: 'export', seed: 11, backend: 'classic', spec: { what: 'timelapse', format: 'mp4', frames: 3000, fps: 25, label: false }, requestId });
    let replied = false;
    const exported = panel.webview
      .waitFor((m): m is Reply => typeof m === 'object' && m !== null && (m as Reply).type === 'reply' && (m as Reply).requestId === requestId, 180_000)
      .finally(() => (replied = true));
    const isFrameProgress = (m: unknown): m is { type: 'progress' } =>
      typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'progress' && (m as { requestId?: unknown }).requestId === requestId && (m as { stage?: unknown }).stage === 'rendering';
    await panel.webview.waitFor(isFrameProgress, 60_000);

    fake.warningAnswers.push(() => undefined);
    const refused = await request(second, { type: 'restartEngine' });
    assert.equal(!refused.ok && refused.error.code, 'CANCELLED');
    assert.match(fake.warnings.at(-1) ?? '', /Restarting the PaintsUndo engine stops an export that is still running\. Restart anyway\?/);
    assert.equal(replied, false, 'the export goes on');

    fake.warningAnswers.push((_message, items) => items[0]);
    const restarted = await request(second, { type: 'restartEngine' });
    assert.ok(restarted.ok, JSON.stringify(!restarted.ok && restarted.error));
    assert.equal((await exported).ok, false);
    assert.ok(!existsSync(out));
    // Nothing running: no question.
    const warnings = fake.warnings.length;
    const quiet = await request(second, { type: 'restartEngine' });
    assert.ok(quiet.ok, JSON.stringify(!quiet.ok && quiet.error));
    assert.equal(fake.warnings.length, warnings);
  } finally {
    second.dispose();
  }
});

test('engine commands run with no timeline editor open start an engine that stops again after the idle delay', async () => {
  // A window of its own, with no editor open.
  const other = new FakeVsCode(join(extensionPath, 'package.json'));
  const lone = register(other.api, other.context(extensionPath), { idleStopMs: 200 });
  try {
    await other.executeCommand(COMMANDS.clearCache);
    assert.ok(other.infos.some((m) => /cleared the engine cache/.test(m)), other.infos.join('\n') + other.errors.join('\n'));
    const [pid] = lone.engine.childPids;
    assert.ok(pid, 'the command started an engine');
    const started = Date.now();
    while (lone.engine.childPids.length > 0 || alive(pid)) {
      assert.ok(Date.now() - started < 30_000, 'the engine stops once the idle delay has passed');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await lone.dispose();
  }
});

test('a wrong engine path fails with a message naming the setting, and the status bar says so', async () => {
  fake.setSetting('engine.path', '/nonexistent/paints-undo');
  const p = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  p.webview.send({ type: 'ready' });
  const init = await p.webview.waitFor(isInit, 30_000);
  assert.equal(init.error?.code, 'ENGINE_NOT_FOUND');
  assert.match(init.error?.message ?? '', /paintsUndo\.engine\.path" = \/nonexistent\/paints-undo/);
  assert.match(fake.statusBar[0]?.text ?? '', /failed/);
  p.dispose();
  fake.setSetting('engine.path', '');
});

/** A window of its own with `settings` set before activation, and an editor opened on the sample. */
async function lonelyWindow(settings: Record<string, unknown>): Promise<{ other: FakeVsCode; lone: ExtensionRuntime; p: FakeWebviewPanel; init: InitMessage }> {
  const other = new FakeVsCode(join(extensionPath, 'package.json'));
  for (const [key, value] of Object.entries(settings)) other.setSetting(key, value);
  const lone = register(other.api, other.context(extensionPath), { idleStopMs: 200 });
  const p = await other.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  p.webview.send({ type: 'ready' });
  const init = await p.webview.waitFor(isInit, 30_000);
  return { other, lone, p, init };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    assert.ok(Date.now() - started < timeoutMs, what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('an engine.url that is not an address fails naming the setting, and no local engine starts instead; invalid settings are logged once', async () => {
  const { other, lone, p, init } = await lonelyWindow({ 'engine.url': 'localhost:7439', seed: -5 });
  try {
    assert.equal(init.error?.code, 'ENGINE_NOT_FOUND');
    assert.match(init.error?.message ?? '', /"paintsUndo\.engine\.url" = "localhost:7439" is not an engine address.*http:\/\/127\.0\.0\.1:7439/);
    assert.deepEqual(lone.engine.childPids, []);
    assert.ok(!other.output.some((l) => /\[extension\] starting:/.test(l)), other.output.join('\n'));
    assert.match(other.statusBar[0]?.text ?? '', /failed/);
    // The settings were read several times (engine, editor defaults): the invalid seed is logged once.
    assert.equal(other.output.filter((l) => /paintsUndo\.seed = -5 is invalid/.test(l)).length, 1, other.output.join('\n'));
    p.dispose();
  } finally {
    await lone.dispose();
  }
});

test('Node.js missing: the message names engine.nodePath, and the extension does not retry spawning it', async () => {
  const { other, lone, p, init } = await lonelyWindow({ 'engine.nodePath': join(scratch, 'no-such-node') });
  try {
    assert.equal(init.error?.code, 'ENGINE_START_FAILED');
    assert.match(init.error?.message ?? '', /Node\.js \(".*no-such-node"\) was not found\..*"paintsUndo\.engine\.nodePath"/);
    assert.match(other.statusBar[0]?.text ?? '', /failed/);
    // The client would retry after 0.5, 1, 2 s: it has stopped.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(other.output.filter((l) => /cannot start the engine/.test(l)).length, 1, other.output.join('\n'));
    const frame = await request(p, { type: 'frame', step: 300, seed: 7, backend: 'classic' });
    assert.equal(!frame.ok && frame.error.code, 'ENGINE_START_FAILED');
    p.dispose();
  } finally {
    await lone.dispose();
  }
});

test('an engine that exits as it starts is tried three times, then the editor says why; fixing the setting recovers', async () => {
  const crashing = join(scratch, 'crashing-engine.mjs');
  writeFileSync(crashing, "process.stderr.write('boom: this engine cannot load sharp\\n');\nprocess.exit(3);\n");
  const { other, lone, p } = await lonelyWindow({ 'engine.path': crashing });
  try {
    await until(() => lone.engine.state.state === 'failed', `the manager gives up (state ${lone.engine.state.state})`);
    assert.match(lone.engine.state.message ?? '', /exited while starting, 3 times in a row \(last: code 3\).*boom: this engine cannot load sharp.*Restart Engine/);
    await p.webview.waitFor((m): m is { type: 'engine'; state: string } => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'engine' && (m as { state?: unknown }).state === 'failed', 5_000);
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(other.output.filter((l) => /\[extension\] engine pid \d+ started/.test(l)).length, 3, other.output.join('\n'));
    assert.deepEqual(lone.engine.childPids, []);
    const frame = await request(p, { type: 'frame', step: 300, seed: 7, backend: 'classic' });
    assert.equal(!frame.ok && frame.error.code, 'ENGINE_START_FAILED');
    // The user fixes the setting: the engine restarts and the editor works.
    other.setSetting('engine.path', '');
    await until(() => lone.engine.state.state === 'connected', `a working engine connects (state ${lone.engine.state.state})`, 60_000);
    const again = await request(p, { type: 'frame', step: 300, seed: 7, backend: 'classic' });
    assert.ok(again.ok, JSON.stringify(!again.ok && again.error));
    p.dispose();
  } finally {
    await lone.dispose();
  }
});

test('closing the last timeline editor stops the engine; deactivating stops a running one and leaves nothing', async () => {
  const reply = await request(panel, { type: 'frame', step: 10, seed: 7, backend: 'classic' });
  assert.ok(reply.ok, JSON.stringify(!reply.ok && reply.error));
  const first = runtime.engine.childPids;
  assert.equal(first.length, 1);
  panel.dispose();
  assert.equal(panel.listenerCount, 0);
  assert.throws(() => (panel.webview.html = 'x'), /Webview is disposed/);
  const closedAt = Date.now();
  while (runtime.engine.childPids.length > 0 || first.some(alive)) {
    assert.ok(Date.now() - closedAt < 30_000, 'the engine stops once no timeline editor is open');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(fake.statusBar[0]?.text ?? '', /idle/);

  // Open again (the engine starts again), then deactivate with the editor still open.
  const again = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  again.webview.send({ type: 'ready' });
  const init = await again.webview.waitFor(isInit, 90_000);
  assert.equal(init.error, undefined, JSON.stringify(init.error));
  const second = runtime.engine.childPids;
  assert.equal(second.length, 1);
  await runtime.dispose();
  for (const pid of [...first, ...second]) assert.equal(alive(pid), false, `engine pid ${pid} is gone`);
  assert.deepEqual(runtime.engine.childPids, []);
  assert.deepEqual(fake.undisposed(), []);
});
