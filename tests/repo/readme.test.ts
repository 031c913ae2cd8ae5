import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * README's first screen is a promise to a new user and to CI: `npm ci` then one command that makes a
 * timelapse, and the test commands that `.ci/run` runs, exactly.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The commands of a shell block, without comments and blank lines. */
function commands(block: string): string[] {
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

test("README's first block sets up with npm ci and makes a timelapse with one npm script that builds what it runs", () => {
  const [setup] = shellBlocks(readme);
  assert.ok(setup !== undefined, 'README.md has no ```sh block');
  const lines = commands(setup);
  assert.equal(lines.length, 2, `the first block should hold two commands, has: ${lines.join(' | ')}`);
  assert.equal(lines[0], 'npm ci');
  const script = /^npm run (\S+)$/.exec(lines[1] ?? '')?.[1];
  assert.ok(script !== undefined && scripts[script] !== undefined, `${lines[1]} is not an npm script of package.json`);
  // .npmrc runs no install scripts, so nothing is built by `npm ci`: the script must build the engine itself.
  assert.match(scripts[script] ?? '', /tsc -p tsconfig\.build\.json|npm run build/);
  assert.ok(readme.indexOf('npm ci') < 2500, 'the setup commands must be on the first screen');
});

test("README's test commands are exactly the ones .ci/run runs after installing", () => {
  const [, testBlock] = shellBlocks(readme);
  assert.ok(testBlock !== undefined, 'README.md has no second ```sh block with the test commands');
  const ci = readFileSync(`${root}.ci/run`, 'utf8');
  const afterInstall = commands(ci.slice(ci.indexOf('npm ci')).split('\n').slice(1).join('\n'));
  assert.deepEqual(commands(testBlock), afterInstall);
  for (const line of afterInstall) {
    const name = /^npm (?:run )?(\S+)$/.exec(line)?.[1];
    assert.ok(name !== undefined && scripts[name] !== undefined, `${line} is not an npm script`);
  }
});
