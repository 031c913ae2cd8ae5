// The .vsix: built offline by vsce from the bundles, it contains everything the manifest and the code
// reference (main, icon, webview script and stylesheet, README) and nothing else: no sources, source
// maps, node_modules, secrets, paths of the build machine, or anything big.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readZip } from './zip.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const extensionDir = join(root, 'extension');
const scratch = mkdtempSync(join(tmpdir(), 'pu-ext-vsix-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Manifest {
  main: string;
  icon: string;
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    commands: { command: string }[];
    menus: Record<string, { command: string }[]>;
    customEditors: { viewType: string; selector: { filenamePattern: string }[] }[];
    configuration: { properties: Record<string, { description?: string; markdownDescription?: string }> };
  };
}

test('the manifest is consistent: menus name declared commands, every setting is described', () => {
  const manifest = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')) as Manifest;
  const commands = new Set(manifest.contributes.commands.map((c) => c.command));
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) for (const item of items) assert.ok(commands.has(item.command), `${menu}: ${item.command}`);
  for (const [key, p] of Object.entries(manifest.contributes.configuration.properties)) assert.ok((p.description ?? p.markdownDescription ?? '').length > 30, `${key} has a clear description`);
  assert.deepEqual(manifest.contributes.customEditors[0]?.selector.map((s) => s.filenamePattern), ['*.png', '*.jpg', '*.jpeg', '*.webp', '*.psd']);
  // activate only registers, and VS Code activates on the contributions themselves.
  assert.deepEqual(manifest.activationEvents, []);
  assert.match(manifest.engines.vscode, /^\^1\.\d+\.0$/);
});

test('vsce packages the .vsix offline with exactly what the extension needs', () => {
  assert.ok(existsSync(join(extensionDir, 'out', 'extension.js')), 'run `npm run build:extension` first');
  const vsix = join(scratch, 'test.vsix');
  execFileSync(join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', vsix], {
    cwd: extensionDir,
    stdio: 'pipe',
    // No network: vsce must not need it.
    env: { ...process.env, npm_config_offline: 'true', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' },
  });
  const zip = readZip(readFileSync(vsix));
  const entries = zip.map((e) => e.name).sort();
  const manifest = JSON.parse(readFileSync(join(extensionDir, 'package.json'), 'utf8')) as Manifest;
  const expected = [
    '[Content_Types].xml',
    'extension.vsixmanifest',
    'extension/package.json',
    'extension/readme.md',
    `extension/${manifest.main.replace(/^\.\//, '')}`,
    `extension/${manifest.icon}`,
    // Loaded by the webview (timeline-editor.ts): the bundle and the stylesheet.
    'extension/out/webview/main.js',
    'extension/media/webview.css',
  ].sort();
  assert.deepEqual(entries, expected);

  let total = 0;
  for (const entry of zip) {
    total += entry.size;
    assert.ok(entry.size < 2_000_000, `${entry.name} is ${entry.size} bytes`);
    assert.equal(entry.read().length, entry.size, `${entry.name} reads back whole`);
  }
  assert.ok(total > 100_000 && total < 3_000_000, `vsix content ${total} bytes`);

  // Nothing of this machine or of the user's secrets inside the bundles.
  for (const name of ['extension/out/extension.js', 'extension/out/webview/main.js']) {
    const text = zip.find((e) => e.name === name)?.read().toString('utf8') ?? '';
    assert.ok(text.length > 10_000, name);
    assert.ok(!text.includes(root.replace(/\/$/, '')), `${name} contains the build machine's checkout path`);
    assert.doesNotMatch(text, /sourceMappingURL=data/, name);
    assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, name);
  }
});
