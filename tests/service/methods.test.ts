/** The method table (engine/src/service/methods/) is the one list of methods: the protocol and its document agree with it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METHODS, METHOD_NAMES } from '../../engine/src/client/protocol.js';
import { METHOD_TABLE } from '../../engine/src/service/methods/index.js';

/** The method names in the first column of PROTOCOL.md's "### Methods" table. */
function documentedMethods(): string[] {
  const doc = readFileSync(new URL('../../engine/PROTOCOL.md', import.meta.url), 'utf8');
  const section = /^### Methods\n([\s\S]*?)(?=^#{2,3} )/m.exec(doc);
  assert.ok(section, 'PROTOCOL.md has a "### Methods" section');
  const names = [...section[1]!.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
  assert.ok(names.length > 0, 'the Methods section has a table of `method` rows');
  return names;
}

test('PROTOCOL.md documents exactly the methods of the engine table, each once', () => {
  const documented = documentedMethods();
  const table = Object.keys(METHOD_TABLE);
  assert.deepEqual([...documented].sort(), [...new Set(documented)].sort(), 'no method is documented twice');
  assert.deepEqual(
    table.filter((m) => !documented.includes(m)),
    [],
    'every method the engine answers has a row in PROTOCOL.md',
  );
  assert.deepEqual(
    documented.filter((m) => !table.includes(m)),
    [],
    'every method row in PROTOCOL.md is answered by the engine',
  );
});

test('the engine table uses the protocol schema of each method, and covers every protocol method', () => {
  assert.deepEqual(Object.keys(METHOD_TABLE).sort(), [...METHOD_NAMES].sort());
  for (const name of METHOD_NAMES) assert.equal(METHOD_TABLE[name].params, METHODS[name].params, name);
});
