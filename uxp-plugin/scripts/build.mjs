// Builds the Photoshop plugin: uxp-plugin/build/ is the folder to load with the UXP Developer Tool
// (bundled index.js, index.html, styles.css, manifest.json, icons/), and uxp-plugin/dist/*.ccx is the
// same folder zipped for double-click install. `npm run build:uxp` runs it; `npm run build` calls that.
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--out DIR` builds elsewhere (the build test uses a temp folder, so it never races a concurrent build).
const outArg = process.argv.indexOf('--out');
const base = outArg > 0 && process.argv[outArg + 1] ? process.argv[outArg + 1] : root;
const out = join(base, 'build');
const dist = join(base, 'dist');

const manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8'));

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'icons'), { recursive: true });

// The UXP glue lives here, not in a .ts file, because it joins the two halves that are type-checked
// separately: the host adapter (UXP typings, no DOM) and the panel UI (DOM).
const entry = `
import { createUxpHost, onDocumentChange } from './src/host/uxp-entry.ts';
import { startPanel } from './src/panel/main.ts';
let panel;
const host = createUxpHost({ onModalWait: () => panel && panel.controller.notify('Waiting for another plugin or dialog to finish…') });
panel = startPanel(document.getElementById('app'), { host, spectrum: true });
onDocumentChange(() => void panel.controller.refreshDocument());
`;

const result = await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'uxp-boot.js', loader: 'js' },
  bundle: true,
  format: 'iife',
  platform: 'browser',
  // UXP's V8 runs ES2020 comfortably; newer syntax is lowered.
  target: 'es2020',
  // Provided by Photoshop at run time through UXP's require().
  external: ['photoshop', 'uxp'],
  outfile: join(out, 'index.js'),
  legalComments: 'eof',
  // zod's full build is most of the bundle; minified it loads faster in the panel.
  minify: true,
  metafile: true,
  logLevel: 'warning',
});

await cp(join(root, 'src', 'index.html'), join(out, 'index.html'));
await cp(join(root, 'src', 'styles.css'), join(out, 'styles.css'));
await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
for (const name of await readdir(join(root, 'icons'))) {
  if (name.endsWith('.png')) await cp(join(root, 'icons', name), join(out, 'icons', name));
}

// A .ccx is a zip of the plugin folder with manifest.json at its root.
async function collect(dir) {
  const files = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(files, await collect(path));
    else files[relative(out, path).split('\\').join('/')] = new Uint8Array(await readFile(path));
  }
  return files;
}
await mkdir(dist, { recursive: true });
const ccx = join(dist, `${manifest.id}_PS.ccx`);
await writeFile(ccx, zipSync(await collect(out), { level: 9, mtime: new Date('2024-01-01T00:00:00Z') }));

const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`uxp-plugin: ${relative(process.cwd(), out)}/ (index.js ${Math.round(bytes / 1024)} KiB) and ${relative(process.cwd(), ccx)}`);
