// The webview <-> host message contract and the webview's request helper (timeouts, error replies,
// progress, stale replies), plus settings validation and engine resolution. No engine needed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { HostMessageSchema, WebviewMessageSchema, type WebviewMessage } from '../../extension/src/core/messages.js';
import { RequestError, WebviewRpc } from '../../extension/src/core/rpc.js';
import { readSettings } from '../../extension/src/core/settings.js';
import { EngineLaunchError, EngineNotFoundError, STDIO_JOBS_PER_CLIENT, planLaunch } from '../../extension/src/core/engine-launch.js';

test('webview messages: valid requests parse, out-of-range or unknown ones are refused', () => {
  assert.ok(WebviewMessageSchema.safeParse({ type: 'frame', requestId: 1, step: 999, seed: 0, backend: 'classic' }).success);
  assert.ok(WebviewMessageSchema.safeParse({ type: 'export', requestId: 2, seed: 1, backend: 'classic', spec: { what: 'keyframes', steps: [400, 999] } }).success);
  for (const bad of [
    { type: 'frame', requestId: 1, step: 1000, seed: 0, backend: 'classic' },
    { type: 'frame', requestId: 1, step: 5, seed: -1, backend: 'classic' },
    { type: 'frame', requestId: 1, step: 5, seed: 1, backend: 'Classic!' },
    { type: 'frame', requestId: 1, step: 5, seed: 1, backend: 'classic', extra: true },
    { type: 'export', requestId: 2, seed: 1, backend: 'classic', spec: { what: 'timelapse', format: 'avi', frames: 10, fps: 10, label: false } },
    { type: 'delete', requestId: 3 },
    'frame',
    null,
  ]) {
    assert.equal(WebviewMessageSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

test('WebviewRpc: a reply resolves its request with the typed result; progress reaches the caller', async () => {
  const sent: WebviewMessage[] = [];
  const rpc = new WebviewRpc((m) => sent.push(m));
  const fractions: number[] = [];
  const req = rpc.request({ type: 'export', seed: 1, backend: 'classic', spec: { what: 'layers' } }, (f) => fractions.push(f));
  assert.deepEqual(sent[0], { type: 'export', seed: 1, backend: 'classic', spec: { what: 'layers' }, requestId: req.requestId });
  assert.equal(rpc.receive({ type: 'progress', requestId: req.requestId, fraction: 0.5, stage: 'render' }), undefined);
  rpc.receive({ type: 'reply', requestId: req.requestId, ok: true, result: { saved: ['/tmp/a.psd'] } });
  assert.deepEqual(await req.result, { saved: ['/tmp/a.psd'] });
  assert.deepEqual(fractions, [0.5]);
  assert.equal(rpc.waiting, 0);
});

test('WebviewRpc: error replies reject with the code; malformed results reject with BAD_MESSAGE', async () => {
  const rpc = new WebviewRpc(() => undefined);
  const a = rpc.request({ type: 'frame', step: 3, seed: 1, backend: 'classic' });
  rpc.receive({ type: 'reply', requestId: a.requestId, ok: false, error: { code: 'INPUT_CORRUPT', message: 'broken', hint: 'fix it' } });
  await assert.rejects(a.result, (e: unknown) => e instanceof RequestError && e.code === 'INPUT_CORRUPT' && e.hint === 'fix it');
  const b = rpc.request({ type: 'frame', step: 3, seed: 1, backend: 'classic' });
  rpc.receive({ type: 'reply', requestId: b.requestId, ok: true, result: { step: 3, png: 'not bytes', cached: false } });
  await assert.rejects(b.result, (e: unknown) => e instanceof RequestError && e.code === 'BAD_MESSAGE');
});

test('WebviewRpc: a request with no reply times out with TIMEOUT; late and unknown replies are ignored', async () => {
  const rpc = new WebviewRpc(() => undefined, { frame: 20 });
  const req = rpc.request({ type: 'frame', step: 1, seed: 1, backend: 'classic' });
  await assert.rejects(req.result, (e: unknown) => e instanceof RequestError && e.code === 'TIMEOUT');
  assert.equal(rpc.waiting, 0);
  assert.equal(rpc.receive({ type: 'reply', requestId: req.requestId, ok: true, result: { step: 1, png: new Uint8Array(1), cached: true } }), undefined);
  assert.equal(rpc.receive({ type: 'reply', requestId: 9999, ok: true, result: {} }), undefined);
  assert.equal(rpc.receive({ nonsense: true }), undefined);
});

test('WebviewRpc: the timeout measures silence, so a request that keeps reporting progress outlives it', async () => {
  const rpc = new WebviewRpc(() => undefined, { export: 60 });
  const req = rpc.request({ type: 'export', seed: 1, backend: 'classic', spec: { what: 'layers' } });
  // Progress every 20 ms for 200 ms: more than three timeouts' worth of time, never 60 ms of silence.
  for (let i = 1; i <= 10; i++) {
    await new Promise((r) => setTimeout(r, 20));
    rpc.receive({ type: 'progress', requestId: req.requestId, fraction: i / 10, stage: 'render' });
  }
  assert.equal(rpc.waiting, 1);
  rpc.receive({ type: 'reply', requestId: req.requestId, ok: true, result: { saved: ['/tmp/a.psd'] } });
  assert.deepEqual(await req.result, { saved: ['/tmp/a.psd'] });
  // Then silence: it times out.
  const quiet = rpc.request({ type: 'export', seed: 1, backend: 'classic', spec: { what: 'layers' } });
  rpc.receive({ type: 'progress', requestId: quiet.requestId, fraction: 0.1, stage: 'render' });
  await assert.rejects(quiet.result, (e: unknown) => e instanceof RequestError && e.code === 'TIMEOUT' && /No word on "export"/.test(e.message));
});

test('WebviewRpc: non-reply host messages are handed back validated', () => {
  const rpc = new WebviewRpc(() => undefined);
  const m = rpc.receive({ type: 'engine', state: 'connected', message: 'ok' });
  assert.deepEqual(m, { type: 'engine', state: 'connected', message: 'ok' });
  assert.equal(HostMessageSchema.safeParse({ type: 'engine', state: 'exploded' }).success, false);
});

test('engine resolution: a Windows npm shim (.cmd) runs the engine script npm installed beside it, with node', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'pu-ext-shim-'));
  const shim = join(prefix, 'paints-undo.cmd');
  writeFileSync(shim, '@ECHO off\r\nnode "%~dp0\\node_modules\\paints-undo\\bin\\paints-undo" %*\r\n');
  const settings = { ...readSettings(() => undefined), 'engine.path': shim };
  // No script beside the shim: refused with the path to set, never spawned without a shell.
  assert.throws(
    () => planLaunch(settings, '/nowhere/extension', { PATH: '' }),
    (e: unknown) => e instanceof EngineLaunchError && e.message.includes('cannot start without a shell') && e.message.includes(join(prefix, 'node_modules', 'paints-undo', 'bin', 'paints-undo')),
  );
  const script = join(prefix, 'node_modules', 'paints-undo', 'bin', 'paints-undo');
  mkdirSync(dirname(script), { recursive: true });
  writeFileSync(script, '#!/usr/bin/env node\n');
  const launch = planLaunch(settings, '/nowhere/extension', { PATH: '' });
  assert.ok(launch.kind === 'stdio');
  assert.equal(launch.command, 'node');
  assert.equal(launch.args[0], script);
  assert.equal(launch.commandSetting, 'engine.nodePath');
  rmSync(prefix, { recursive: true, force: true });
});

test('settings: invalid user values fall back to defaults and are reported', () => {
  const reported: string[] = [];
  const values: Record<string, unknown> = { backend: 'BAD NAME', seed: -5, 'timelapse.fps': 30, 'timelapse.size': 10, 'engine.url': 'ftp://x' };
  const s = readSettings((k) => values[k], (k) => reported.push(k));
  assert.equal(s.backend, 'classic');
  assert.equal(s.seed, 12345);
  assert.equal(s['timelapse.fps'], 30);
  assert.equal(s['timelapse.size'], 0);
  assert.deepEqual(reported.sort(), ['backend', 'seed', 'timelapse.size']);
  // An engine address is checked where the engine is reached: a wrong one is an error to show, never
  // replaced by the default (which would quietly start a local engine instead).
  assert.equal(s['engine.url'], 'ftp://x');
  for (const url of ['ftp://x', 'localhost:7439', '127.0.0.1']) {
    assert.throws(
      () => planLaunch({ ...s, 'engine.url': url }, '/nowhere/extension', { PATH: '' }),
      (e: unknown) => e instanceof EngineLaunchError && e.code === 'ENGINE_NOT_FOUND' && e.message.includes(`"paintsUndo.engine.url" = "${url}" is not an engine address`),
    );
  }
  const remote = planLaunch({ ...s, 'engine.url': 'ws://127.0.0.1:7439/ws' }, '/nowhere/extension', { PATH: '' });
  assert.deepEqual(remote.kind === 'url' && remote.url, 'http://127.0.0.1:7439');
});

test('engine resolution: setting path, then the repository bin, else an error that lists where it looked', () => {
  const root = mkdtempSync(join(tmpdir(), 'pu-ext-launch-'));
  const defaults = readSettings(() => undefined);
  // No repo bin and an empty PATH: not found, with the places named.
  const lonely = join(root, 'lonely', 'extension');
  mkdirSync(lonely, { recursive: true });
  assert.throws(
    () => planLaunch(defaults, lonely, { PATH: '' }),
    (e: unknown) => e instanceof EngineNotFoundError && e.message.includes(join(root, 'lonely', 'bin', 'paints-undo')) && e.message.includes('paintsUndo.engine.path'),
  );
  // The development layout: extension/ next to bin/paints-undo.
  mkdirSync(join(root, 'repo', 'bin'), { recursive: true });
  mkdirSync(join(root, 'repo', 'extension'));
  const bin = join(root, 'repo', 'bin', 'paints-undo');
  writeFileSync(bin, '#!/usr/bin/env node\n');
  chmodSync(bin, 0o755);
  const plan = planLaunch({ ...defaults, modelsPath: '/models' }, join(root, 'repo', 'extension'), { PATH: '', ELECTRON_RUN_AS_NODE: '1' });
  assert.equal(plan.kind, 'stdio');
  if (plan.kind !== 'stdio') return;
  assert.deepEqual(plan.args, [bin, 'serve', '--stdio', '--max-jobs-per-client', String(STDIO_JOBS_PER_CLIENT)]);
  assert.equal(plan.command, 'node');
  assert.equal(plan.env.PAINTS_UNDO_MODELS, '/models');
  assert.equal(plan.env.ELECTRON_RUN_AS_NODE, undefined);
  // A configured path wins; a wrong one is an error, not a silent fallback.
  assert.throws(() => planLaunch({ ...defaults, 'engine.path': '/nope/paints-undo' }, join(root, 'repo', 'extension'), { PATH: '' }), /engine\.path" = \/nope\/paints-undo \(not a file\)/);
  // A URL means: connect, start nothing.
  const url = planLaunch({ ...defaults, 'engine.url': 'ws://127.0.0.1:7439/ws', 'engine.token': 'abc' }, lonely, { PATH: '' });
  assert.deepEqual(url.kind === 'url' && [url.url, url.token], ['http://127.0.0.1:7439', 'abc']);
});
