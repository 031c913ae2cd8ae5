// The extension connected to an engine the user started (`paints-undo serve`), by URL + token from the
// settings: the image is uploaded over HTTP (the engine may not share the file system), frames come back
// through signed download URLs, and a wrong token is reported with the fix instead of retried forever.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { HostMessage, InitMessage } from '../../extension/src/core/messages.js';
import { COMMANDS, register, type ExtensionRuntime } from '../../extension/src/vscode/register.js';
import { startEngine, TOKEN, type Running } from '../service/helpers.js';
import { FakeUri, FakeVsCode, type FakeWebviewPanel } from './fake-vscode.js';
import { samplePath } from '../shared-samples.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const extensionPath = join(root, 'extension');
const scratch = mkdtempSync(join(tmpdir(), 'pu-ext-remote-'));
const SAMPLE = join(scratch, 'sample.png');

let engine: Running;
let fake: FakeVsCode;
let runtime: ExtensionRuntime;

type Reply = Extract<HostMessage, { type: 'reply' }>;
const isInit = (m: unknown): m is InitMessage => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'init';

before(async () => {
  await sharp(samplePath('2.jpg')).resize(320, 320, { fit: 'inside' }).png().toFile(SAMPLE);
  engine = await startEngine({ cacheDir: join(scratch, 'cache') });
  fake = new FakeVsCode(join(extensionPath, 'package.json'));
  fake.setSetting('engine.url', engine.url);
  fake.setSetting('engine.token', TOKEN);
  runtime = register(fake.api, fake.context(extensionPath), { idleStopMs: 100 });
});

after(async () => {
  await runtime.dispose();
  await engine.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('by URL + token: no child process, image uploaded over HTTP, frames downloaded', async () => {
  const panel = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  panel.webview.send({ type: 'ready' });
  const init = await panel.webview.waitFor(isInit, 60_000);
  assert.equal(init.error, undefined, JSON.stringify(init.error));
  assert.deepEqual(init.image, { width: 249, height: 320, notices: [] });
  assert.equal(runtime.engine.transportKind, 'websocket');
  assert.deepEqual(runtime.engine.childPids, [], 'nothing was spawned');
  panel.webview.send({ type: 'frame', requestId: 1, step: 700, seed: 3, backend: 'classic' });
  const reply = await panel.webview.waitFor((m): m is Reply => (m as Reply).type === 'reply' && (m as Reply).requestId === 1, 90_000);
  assert.ok(reply.ok, JSON.stringify(!reply.ok && reply.error));
  const meta = await sharp((reply.result as { png: Uint8Array }).png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 249, 320]);
  panel.dispose();
});

test('a wrong token: the editor gets UNAUTHORIZED with the setting to fix, the status bar says unauthorized', async () => {
  fake.setSetting('engine.token', 'f'.repeat(64));
  const panel = await fake.executeCommand<FakeWebviewPanel>(COMMANDS.openTimeline, FakeUri.file(SAMPLE));
  panel.webview.send({ type: 'ready' });
  const init = await panel.webview.waitFor(isInit, 60_000);
  assert.equal(init.error?.code, 'UNAUTHORIZED', JSON.stringify(init.error));
  assert.match(init.error?.message ?? '', /paintsUndo\.engine\.token/);
  assert.match(fake.statusBar[0]?.text ?? '', /unauthorized/);
  panel.dispose();
});
