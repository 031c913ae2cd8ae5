import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cruise, type IViolation } from 'dependency-cruiser';
import config from '../../.dependency-cruiser.mjs';
import { tempFolder } from '../io/helpers.js';

/**
 * `npm run lint` checks the whole repository with .dependency-cruiser.mjs; this proves its rules bite on
 * the import forms the repository uses (ESM `.js` specifiers of `.ts` files, type-only imports).
 */
function tree(files: Record<string, string>): string {
  const root = tempFolder('paints-undo-imports-');
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

async function violations(root: string): Promise<string[]> {
  const result = await cruise(['engine', 'models'], { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden }, baseDir: root });
  assert.ok(typeof result.output !== "string");
  return result.output.summary.violations.map((v: IViolation) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

test('circles, core importing the rest, host APIs and onnxruntime-node outside their adapters fail; builtins and zod in core pass', async () => {
  const root = tree({
    'models/src/a.ts': "import type { B } from './b.js';\nexport interface A { b?: B }\n",
    'models/src/b.ts': "import type { A } from './a.js';\nexport interface B { a?: A }\n",
    'engine/src/core/model.ts': "import { join } from 'node:path';\nimport { z } from 'zod';\nimport { write } from '../io/write.js';\nexport const f = (): unknown => [join, z, write];\n",
    'engine/src/io/write.ts': "import type { Model } from '../core/types.js';\nexport const write = (m: Model): Model => m;\n",
    'engine/src/core/types.ts': 'export interface Model { readonly id: string }\n',
    'node_modules/zod/package.json': JSON.stringify({ name: 'zod', type: 'module', exports: { '.': './index.js' } }),
    'node_modules/zod/index.js': 'export const z = {};\n',
    // A package whose entry lives in its own dist/ folder must stay visible to the rules.
    'engine/src/core/pixels.ts': "import heavy from 'heavy';\nexport const h = heavy;\n",
    'node_modules/heavy/package.json': JSON.stringify({ name: 'heavy', type: 'module', exports: { '.': './dist/index.js' } }),
    'node_modules/heavy/dist/index.js': 'export default 1;\n',
    'engine/src/jobs/editor.ts': "import type * as vscode from 'vscode';\nexport type Api = typeof vscode;\n",
    'node_modules/@types/vscode/package.json': JSON.stringify({ name: '@types/vscode', types: 'index.d.ts' }),
    'node_modules/@types/vscode/index.d.ts': 'export declare const version: string;\n',
    'models/src/session.ts': "import 'onnxruntime-node';\n",
    'node_modules/onnxruntime-node/package.json': JSON.stringify({ name: 'onnxruntime-node', main: 'dist/index.js' }),
    'node_modules/onnxruntime-node/dist/index.js': 'module.exports = {};\n',
  });
  assert.deepEqual(await violations(root), [
    'core-stands-alone: engine/src/core/model.ts -> engine/src/io/write.ts',
    'core-stands-alone: engine/src/core/pixels.ts -> node_modules/heavy/dist/index.js',
    'host-apis-in-host-adapters: engine/src/jobs/editor.ts -> node_modules/@types/vscode/index.d.ts',
    'no-circular: models/src/a.ts -> models/src/b.ts',
    'onnxruntime-in-one-adapter: models/src/session.ts -> node_modules/onnxruntime-node/dist/index.js',
  ]);
});
