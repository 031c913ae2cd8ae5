// Bundles the extension with esbuild: the host side (CommonJS for VS Code, with the engine client) and
// the webview (an IIFE for the browser). `node extension/build.mjs` from anywhere; `--watch` rebuilds.
// Type-checking is separate (npm run build:extension runs tsc on both tsconfigs first).
import { build, context } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');
mkdirSync(join(here, 'out'), { recursive: true });

const common = { bundle: true, sourcemap: true, minify: !watch, logLevel: 'warning', legalComments: 'none' };

const host = {
  ...common,
  entryPoints: [join(here, 'src/vscode/extension.ts')],
  outfile: join(here, 'out/extension.js'),
  platform: 'node',
  // VS Code 1.90's extension host is Node 18 and loads extensions with require().
  target: 'node18',
  format: 'cjs',
  // `vscode` is provided by the host; ws's optional native speed-ups are not needed.
  external: ['vscode', 'bufferutil', 'utf-8-validate'],
  // The engine client's node.ts finds its package from import.meta.url, which CommonJS lacks.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const webview = {
  ...common,
  entryPoints: [join(here, 'src/webview/main.ts')],
  outfile: join(here, 'out/webview/main.js'),
  platform: 'browser',
  target: 'chrome114',
  format: 'iife',
};

if (watch) {
  for (const options of [host, webview]) await (await context(options)).watch();
  console.log('watching extension sources…');
} else {
  await Promise.all([build(host), build(webview)]);
}
