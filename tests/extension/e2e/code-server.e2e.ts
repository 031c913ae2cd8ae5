// End to end in a real editor host: code-server (VS Code 1.100 in the browser) driven by headless Debian
// Chromium through playwright-core. Installs the packaged .vsix, opens a sample image with the custom
// editor, scrubs the slider (the webview shows the new frame), exports a timelapse (file exists, ffprobe
// agrees), cancels an export from the progress notification, closes the editor and checks that the
// engine child process is gone, then stops code-server and checks that nothing of it is left.
//
// Run with `npm run test:e2e:extension` (after `npm run build`). code-server is installed at test time
// in a scratch cache folder outside the product's dependencies (about 1-2 min the first time, reused
// afterwards: $PAINTS_UNDO_E2E_CACHE, default $TMPDIR/paints-undo-e2e-code-server). Every wait is bounded.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import sharp from 'sharp';
import { samplePath } from '../../shared-samples.js';

const CODE_SERVER_VERSION = '4.100.3';
const RIPGREP_CACHE = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_TARBALL = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cacheRoot = process.env.PAINTS_UNDO_E2E_CACHE ?? join(tmpdir(), 'paints-undo-e2e-code-server');
const run = mkdtempSync(join(tmpdir(), 'pu-e2e-run-'));
const shots = join(tmpdir(), 'paints-undo-extension-screens', 'e2e');
const ws = join(run, 'workspace');
const engineCache = join(run, 'engine-cache');

let codeServer: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let port = 0;

function log(message: string): void {
  process.stderr.write(`[e2e] ${message}\n`);
}

function sh(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): string {
  const r = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stdout ?? '').slice(-3000)}\n${(r.stderr ?? '').slice(-3000)}`);
  return r.stdout;
}

/** Installs code-server once into the cache folder (native modules build against the system's headers). */
function installCodeServer(): string {
  const dir = join(cacheRoot, CODE_SERVER_VERSION);
  const bin = join(dir, 'node_modules', '.bin', 'code-server');
  if (existsSync(join(dir, '.installed')) && existsSync(bin)) return bin;
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A native module (kerberos) needs gssapi.h; @vscode/ripgrep downloads rg unless a tarball is cached.
  const missing = [!existsSync('/usr/include/gssapi/gssapi.h') && 'libkrb5-dev', !existsSync('/usr/bin/rg') && 'ripgrep'].filter((p): p is string => Boolean(p));
  if (missing.length > 0) {
    log(`installing Debian packages ${missing.join(' ')}`);
    sh('apt-get', ['install', '-y', ...missing], { timeoutMs: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  const tmp = join(dir, 'tmp');
  const stage = join(dir, 'rg-stage');
  mkdirSync(join(tmp, RIPGREP_CACHE), { recursive: true });
  mkdirSync(stage);
  copyFileSync('/usr/bin/rg', join(stage, 'rg'));
  chmodSync(join(stage, 'rg'), 0o755);
  sh('tar', ['czf', join(tmp, RIPGREP_CACHE, RIPGREP_TARBALL), '-C', stage, 'rg'], { timeoutMs: 30_000 });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'paints-undo-e2e-code-server', private: true }));
  log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (takes a minute or two the first time)`);
  sh('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: dir,
    timeoutMs: 8 * 60_000,
    // code-server needs its own install scripts and those of its nested installs (argon2, kerberos,
    // ripgrep...): this repository's `ignore-scripts` reaches here through npm's environment, and npm 11
    // blocks dependency scripts unless allowed. This scratch install of one pinned version allows them all.
    env: { ...process.env, TMPDIR: tmp, npm_config_unsafe_perm: 'true', npm_config_yes: 'true', npm_config_ignore_scripts: 'false', npm_config_dangerously_allow_all_scripts: 'true' },
  });
  writeFileSync(join(dir, '.installed'), new Date().toISOString());
  log(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < end) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (page) await page.screenshot({ path: join(shots, `timeout-${what.replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** Engine processes started by this code-server: `paints-undo serve --stdio` with our cache folder in their environment. */
function enginePids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!cmdline.some((a) => a.endsWith('paints-undo')) || !cmdline.includes('serve') || !cmdline.includes('--stdio')) continue;
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`PAINTS_UNDO_CACHE_DIR=${engineCache}`)) pids.push(Number(name));
    } catch {
      // The process went away while we looked.
    }
  }
  return pids;
}

/** Runs a command from the command palette; retried because a cold workbench may not list it yet. */
async function runCommand(title: string): Promise<void> {
  await until(`command "${title}"`, 60_000, async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 5_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ state: 'visible', timeout: 5_000 });
    await row.click();
    return true;
  });
}

/** The frame of the timeline webview (VS Code nests it in two iframes). */
async function timelineFrame(): Promise<Frame> {
  return until('the timeline webview', 60_000, async () => {
    for (const frame of page.frames()) {
      if (await frame.$('#step').catch(() => null)) return frame;
    }
    return undefined;
  });
}

async function frameStep(frame: Frame, step: number, timeoutMs = 90_000): Promise<void> {
  await until(`the webview to show step ${step}`, timeoutMs, async () => {
    const shown = await frame.evaluate<string | undefined>(`(() => { const i = document.getElementById('preview'); return i && i.complete && i.src.startsWith('blob:') ? i.dataset.step : undefined; })()`);
    return shown === String(step);
  });
}

/**
 * Accepts the editor's own save dialog (a quick input that fills in the default path shortly after it
 * opens) once it shows a file name ending in `suffix`, and returns that path.
 */
async function acceptSaveDialog(suffix: string): Promise<string> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  const path = await until(`a save dialog for *${suffix}`, 30_000, async () => {
    const value = await input.inputValue();
    return value.endsWith(suffix) ? value : undefined;
  });
  await page.screenshot({ path: join(shots, `save-dialog-${Date.now()}.png`) });
  await input.press('Enter');
  return path;
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  const bin = installCodeServer();
  const vsix = join(run, 'paints-undo-vscode.vsix');
  assert.ok(existsSync(join(root, 'extension', 'out', 'extension.js')) && existsSync(join(root, 'dist', 'engine', 'src', 'cli', 'main.js')), 'run `npm run build` first');
  sh(join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', vsix], { cwd: join(root, 'extension'), timeoutMs: 120_000 });

  const home = join(run, 'home');
  const userData = join(run, 'user-data');
  const extensions = join(run, 'extensions');
  for (const d of [home, userData, extensions, ws, engineCache, join(run, 'config'), join(run, 'data'), join(run, 'tmp'), join(userData, 'User')]) mkdirSync(d, { recursive: true });
  await sharp(samplePath('3.jpg')).resize(384, 384, { fit: 'inside' }).png().toFile(join(ws, 'sample.png'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(run, 'config'),
    XDG_DATA_HOME: join(run, 'data'),
    TMPDIR: join(run, 'tmp'),
    PAINTS_UNDO_CACHE_DIR: engineCache,
    PAINTS_UNDO_CONFIG_DIR: join(run, 'engine-config'),
    // The engine on PATH too, as `npm install -g paints-undo` puts it: code-server has once started the
    // extension host without the user settings below (the editor then looked only at its other places).
    PATH: `${join(root, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
  };
  // The .vsix does not carry the engine: point it at this repository's (the README's install step).
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'paintsUndo.engine.path': join(root, 'bin', 'paints-undo'),
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'security.workspace.trust.enabled': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
    }),
  );
  sh(bin, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], { env, timeoutMs: 120_000 });
  assert.ok(readdirSync(extensions).some((d) => d.startsWith('paints-undo.paints-undo-vscode-')), 'the .vsix is installed');

  port = await freePort();
  const logFd = openSync(join(run, 'code-server.log'), 'a');
  codeServer = spawn(
    bin,
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userData, '--extensions-dir', extensions, ws],
    { env, detached: true, stdio: ['ignore', logFd, logFd] },
  );
  await until('code-server to answer', 60_000, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  if (codeServer?.pid) {
    // code-server runs in its own process group; the group takes its extension host and the engine along.
    try {
      process.kill(-codeServer.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const end = Date.now() + 10_000;
    while (Date.now() < end && codeServer.exitCode === null && codeServer.signalCode === null) await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(-codeServer.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const leftover = enginePids();
  log(`screenshots: ${shots}; code-server log: ${join(run, 'code-server.log')}`);
  if (leftover.length === 0 && !process.env.PAINTS_UNDO_E2E_KEEP) rmSync(run, { recursive: true, force: true });
  assert.deepEqual(leftover, [], 'no engine process outlives code-server');
});

test('code-server: open an image in the timeline editor, scrub, export, cancel, close', async () => {
  // Open the image (built-in preview), then the command turns the active tab into the timeline editor.
  await until('quick open of sample.png', 60_000, async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 5_000 });
    await input.fill('sample.png');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'sample.png' }).first();
    await row.waitFor({ state: 'visible', timeout: 5_000 });
    await row.click();
    return true;
  });
  await page.locator('.tab', { hasText: 'sample.png' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await runCommand('PaintsUndo: Open in PaintsUndo Timeline');
  let frame = await timelineFrame();
  await frameStep(frame, 0);
  assert.equal(enginePids().length, 1, 'the extension started one engine');
  await page.screenshot({ path: join(shots, '1-opened.png') });

  // Scrub: the webview shows the frame of the new step.
  await frame.locator('#step').fill('600');
  await frameStep(frame, 600);
  await frame.locator('#step').fill('850');
  await frameStep(frame, 850);
  await page.screenshot({ path: join(shots, '2-scrubbed.png') });

  // Hide the tab (show the built-in preview) and show it again: the webview is re-created and restores its state.
  const tabs = page.locator('.tabs-container .tab');
  await tabs.nth(0).click();
  await until('the timeline webview to be hidden', 30_000, async () => {
    for (const f of page.frames()) if (await f.locator('#step').isVisible().catch(() => false)) return false;
    return true;
  });
  await tabs.nth(1).click();
  frame = await timelineFrame();
  await frameStep(frame, 850);
  assert.equal(await frame.locator('#step').inputValue(), '850', 'the slider position survives hiding the tab');

  // Export a short MP4 through the editor's save dialog (defaults next to the source).
  await frame.locator('#frames').fill('12');
  await frame.locator('#frames').press('Tab');
  await frame.locator('#size').fill('128');
  await frame.locator('#size').press('Tab');
  await frame.locator('#export-timelapse').click();
  const target = await acceptSaveDialog('.mp4');
  assert.equal(target, join(ws, 'sample-timelapse.mp4'));
  await until('the exported timelapse', 180_000, async () => existsSync(target) && statSync(target).size > 0 && /^Saved /.test((await frame.locator('#status').textContent()) ?? ''));
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', target], { encoding: 'utf8' })) as { streams: { codec_name: string; width: number; height: number }[] };
  assert.deepEqual(probe.streams[0], { codec_name: 'h264', width: 96, height: 128 });
  await page.screenshot({ path: join(shots, '3-exported.png') });

  // Cancel: a long WebM export, cancelled from the progress notification.
  await frame.locator('#format').selectOption('webm');
  await frame.locator('#frames').fill('3000');
  await frame.locator('#frames').press('Tab');
  await frame.locator('#size').fill('0');
  await frame.locator('#size').press('Tab');
  await frame.locator('#export-timelapse').click();
  const cancelled = await acceptSaveDialog('.webm');
  assert.equal(cancelled, join(ws, 'sample-timelapse.webm'));
  const cancel = page.locator('.notification-toast', { hasText: 'Export WEBM timelapse' }).locator('a.monaco-button, .monaco-button', { hasText: 'Cancel' }).first();
  await cancel.waitFor({ state: 'visible', timeout: 60_000 });
  await page.screenshot({ path: join(shots, '4-progress.png') });
  await cancel.click();
  await until('the webview to report the cancel', 60_000, async () => (await frame.locator('#status').textContent()) === 'Export cancelled.');
  assert.equal(existsSync(cancelled), false, 'nothing is written after a cancel');
  await page.screenshot({ path: join(shots, '5-cancelled.png') });

  // Close the editor: the engine child goes away (the extension stops it once no timeline is open).
  const pids = enginePids();
  assert.equal(pids.length, 1);
  await runCommand('View: Close All Editors');
  await until('the engine process to exit', 30_000, async () => enginePids().length === 0);
  await page.screenshot({ path: join(shots, '6-closed.png') });
});
