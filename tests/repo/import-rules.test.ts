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

test('a circle of imports fails, type-only ones included; core importing the rest fails, builtins and zod pass', async () => {
  const root = tree({
    'models/src/a.ts': "import type { B } from './b.js';\nexport interface A { b?: B }\n",
    'models/src/b.ts': "import type { A } from './a.js';\nexport interface B { a?: A }\n",
    'engine/src/core/model.ts': "import { join } from 'node:path';\nimport { z } from 'zod';\nimport { write } from '../io/write.js';\nexport const f = (): unknown => [join, z, write];\n",
    'engine/src/io/write.ts': "import type { Model } from '../core/types.js';\nexport const write = (m: Model): Model => m;\n",
    'engine/src/core/types.ts': 'export interface Model { readonly id: string }\n',
    'node_modules/zod/package.json': JSON.stringify({ name: 'zod', type: 'module', exports: { '.': './index.js' } }),
    'node_modules/zod/index.js': 'export const z = {};\n',
  });
  assert.deepEqual(await violations(root), [
    'core-stands-alone: engine/src/core/model.ts -> engine/src/io/write.ts',
    'no-circular: models/src/a.ts -> models/src/b.ts',
  ]);
});
