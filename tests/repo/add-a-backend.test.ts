import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
// Registering is importing the backend's module: nothing else in the engine changes.
import './fixtures/fade-backend.js';
import { runCliJob } from '../../engine/src/cli/job-runner.js';
import { Reporter } from '../../engine/src/cli/reporter.js';
import { EngineError } from '../../engine/src/client/index.js';
import { PROVENANCE_KEYWORD, readPngText } from '../../engine/src/io/png.js';
import { tempFolder, testCard } from '../io/helpers.js';
import { startEngine, type Running } from '../service/helpers.js';

/**
 * ARCHITECTURE.md "Where to add what: a backend", done for real: a backend registered from a module of its
 * own (tests/repo/fixtures/fade-backend.ts) runs through the CLI's job code and through the engine
 * service, whose worker threads import the module by itself.
 */
const dir = tempFolder('paints-undo-add-backend-');
const card = testCard(40, 30, 3);
const input = join(dir, 'card.png');
let png: Buffer;
let running: Running | undefined;

after(async () => {
  await running?.stop();
});

async function pixels(bytes: Uint8Array | Buffer): Promise<Uint8Array> {
  const { data } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

test('the CLI job code runs a registered backend: frames, provenance, and its capabilities', async () => {
  png = await sharp(Buffer.from(card.data), { raw: { width: 40, height: 30, channels: 3 } }).png().toBuffer();
  writeFileSync(input, png);
  const run = (step: number, output: string) =>
    runCliJob({ job: { kind: 'frame', step, backend: 'test-fade' }, input, output, reporter: new Reporter({ json: true }), label: 'frame' });

  const blank = await run(999, join(dir, 'blank.png'));
  assert.equal(blank.backend, 'test-fade');
  assert.ok((await pixels(readFileSync(join(dir, 'blank.png')))).every((v) => v === 255), 'step 999 is white');
  await run(0, join(dir, 'finished.png'));
  assert.deepEqual(await pixels(readFileSync(join(dir, 'finished.png'))), card.data, 'step 0 is the artwork');
  const meta = JSON.parse(readPngText(readFileSync(join(dir, 'blank.png'))).get(PROVENANCE_KEYWORD) ?? '{}') as Record<string, unknown>;
  assert.equal(meta['backend'], 'test-fade');
  assert.equal(meta['step'], 999);

  await assert.rejects(
    runCliJob({ job: { kind: 'keyframes', steps: [1, 2], backend: 'test-fade' }, input, output: join(dir, 'kf'), reporter: new Reporter({ json: true }), label: 'keyframes' }),
    (error: Error & { code?: string }) => error.code === 'UNSUPPORTED',
  );
});

test('the engine service lists the backend and runs it in its worker threads', async () => {
  running = await startEngine({ workers: 1 });
  const client = running.client();
  const info = await client.connect();
  const listed = info.backends.find((b) => b.id === 'test-fade');
  assert.ok(listed, 'engine.info lists the registered backend');
  assert.equal(listed.capabilities.frame, true);

  const { image } = await client.putImage(png);
  const job = await client.run('frame', { image, step: 999, backend: 'test-fade' });
  const file = job.result?.files[0];
  assert.ok(file);
  assert.ok((await pixels(await client.download(file))).every((v) => v === 255), 'the worker faded the artwork to white');

  const refused = await client.run('keyframes', { image, steps: [1, 2], backend: 'test-fade' }).then(
    () => undefined,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof EngineError);
  assert.equal(refused.code, 'UNSUPPORTED');
});
