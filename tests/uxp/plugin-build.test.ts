/**
 * The built plugin folder is complete and loadable, its manifest is a valid v5 manifest that asks for
 * exactly the permissions the panel needs, and the .ccx holds the same files.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { z } from 'zod';
import { DEFAULT_PORT } from '../../engine/src/client/protocol.js';

const root = fileURLToPath(new URL('../../uxp-plugin/', import.meta.url));
const target = mkdtempSync(join(tmpdir(), 'pu-uxp-build-'));
const out = join(target, 'build');

const run = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--out', target], { encoding: 'utf8' });
after(() => rmSync(target, { recursive: true, force: true }));

const Icon = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  path: z.string().regex(/^icons\/[a-z0-9-]+\.png$/),
  scale: z.array(z.union([z.literal(1), z.literal(2)])).min(1),
  theme: z.array(z.enum(['all', 'lightest', 'light', 'medium', 'dark', 'darkest'])).min(1),
  species: z.array(z.string()).min(1),
});

/** The subset of the UXP v5 manifest the plugin uses, strict so that stray keys (typos) fail. */
const ManifestSchema = z
  .object({
    manifestVersion: z.literal(5),
    id: z.string().regex(/^[a-z0-9.]+$/),
    name: z.string().min(1).max(45),
    version: z.string().regex(/^\d+\.\d+\.\d+$/),
    main: z.literal('index.html'),
    host: z.object({ app: z.literal('PS'), minVersion: z.string().regex(/^\d+\.\d+\.\d+$/), data: z.object({ apiVersion: z.literal(2) }).strict() }).strict(),
    entrypoints: z
      .array(
        z
          .object({
            type: z.literal('panel'),
            id: z.string().min(1),
            label: z.object({ default: z.string().min(1) }).strict(),
            minimumSize: z.object({ width: z.number(), height: z.number() }).strict(),
            maximumSize: z.object({ width: z.number(), height: z.number() }).strict(),
            preferredDockedSize: z.object({ width: z.number(), height: z.number() }).strict(),
            preferredFloatingSize: z.object({ width: z.number(), height: z.number() }).strict(),
            icons: z.array(Icon).min(1),
          })
          .strict(),
      )
      .length(1),
    icons: z.array(Icon).min(1),
    requiredPermissions: z
      .object({
        network: z.object({ domains: z.array(z.string()) }).strict(),
        localFileSystem: z.literal('request'),
      })
      .strict(),
  })
  .strict();

function version(v: string): number[] {
  return v.split('.').map(Number);
}

function atLeast(v: string, min: string): boolean {
  const a = version(v);
  const b = version(min);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

test('the build script succeeds', () => {
  assert.equal(run.status, 0, run.stderr);
});

test('manifest v5: only the loopback engine origins on the default port and localFileSystem; Photoshop 24.4+', () => {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
  assert.deepEqual([...manifest.requiredPermissions.network.domains].sort(), [`http://127.0.0.1:${DEFAULT_PORT}`, `ws://127.0.0.1:${DEFAULT_PORT}`]);
  // The imaging API (getPixels/putPixels/createImageDataFromBuffer/getSelection) needs 24.4; everything
  // else used is older (see uxp-plugin/src/host/ps-api.ts).
  assert.ok(atLeast(manifest.host.minVersion, '24.4.0'), `minVersion ${manifest.host.minVersion}`);
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')), manifest, 'the build copies the source manifest unchanged');
});

test('every file the manifest and index.html reference is in the folder (icons at each scale)', () => {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
  const icons = [...manifest.icons, ...manifest.entrypoints.flatMap((e) => e.icons)];
  for (const icon of icons) {
    assert.ok(existsSync(join(out, icon.path)), icon.path);
    for (const scale of icon.scale) {
      const path = join(out, icon.path.replace(/\.png$/, `@${scale}x.png`));
      assert.ok(existsSync(path), path);
      const png = readFileSync(path);
      assert.equal(png.readUInt32BE(16), icon.width * scale, `${path} width`);
      assert.equal(png.readUInt32BE(20), icon.height * scale, `${path} height`);
    }
  }
  const html = readFileSync(join(out, manifest.main), 'utf8');
  for (const ref of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(existsSync(join(out, ref[1] ?? '')), `index.html references ${ref[1]}`);
  assert.match(html, /<div id="app">/);
});

test('the bundle is self-contained for UXP: photoshop/uxp external, no Node built-ins, default port matches the manifest', () => {
  const js = readFileSync(join(out, 'index.js'), 'utf8');
  // Asserted with ok(), not match(): a failing match would print the whole 500 KiB bundle.
  assert.ok(/\("photoshop"\)/.test(js), 'photoshop is required at run time, not bundled');
  assert.ok(/\("uxp"\)/.test(js), 'uxp is required at run time, not bundled');
  for (const builtin of ['node:', '"fs"', '"path"', '"child_process"', '"worker_threads"']) {
    assert.ok(!js.includes(`require(${builtin}`) && !js.includes(`from ${builtin}`), `bundle must not load ${builtin}`);
  }
  assert.ok(js.includes(String(DEFAULT_PORT)), 'the panel connects to the port the manifest allows');
  assert.ok(!/test-harness|fake-photoshop/.test(js), 'test code is not shipped');
});

test('the .ccx is a zip of exactly the plugin folder, manifest at its root', () => {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { id: string };
  const ccx = join(target, 'dist', `${manifest.id}_PS.ccx`);
  const entries = unzipSync(new Uint8Array(readFileSync(ccx)));
  const files = listFiles(out).sort();
  assert.deepEqual(Object.keys(entries).sort(), files);
  for (const f of files) assert.deepEqual(entries[f], new Uint8Array(readFileSync(join(out, f))), f);
});
