/**
 * The engine with its cache on a full disk (issue 10, item 12): the real engine over stdio, its cache on
 * a 2 MiB tmpfs filled to the last byte. image.put and a slider frame answer OUTPUT_NOT_WRITABLE naming
 * the cache folder and what to do (never INTERNAL); an upload whose write failed is never reported as
 * stored afterwards; once there is room again, the same upload is stored. Skipped, with the reason,
 * where a tmpfs cannot be mounted (not root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EngineClient, EngineError } from '../../engine/src/client/index.js';
import { stdioTransport } from '../../engine/src/client/node.js';
import { fillDisk, smallTmpfs } from '../io/helpers.js';
import { smallSample } from './helpers.js';

const disk = smallTmpfs(2 * 1024 * 1024);

function cacheFull(error: unknown): boolean {
  return (
    error instanceof EngineError &&
    error.code === 'OUTPUT_NOT_WRITABLE' &&
    /The engine cannot store results in its cache folder .*: the disk is full\./.test(error.message) &&
    /Free space on that disk, or clear the cache/.test(error.hint ?? '')
  );
}

test('a full cache disk: image.put and slider frames say so; a failed upload is never "reused"; room again stores it', { skip: 'skip' in disk ? disk.skip : false }, async () => {
  const root = (disk as { path: string }).path;
  const env = { ...process.env, PAINTS_UNDO_CACHE_DIR: join(root, 'cache'), PAINTS_UNDO_CONFIG_DIR: join(root, 'config') };
  const transport = stdioTransport({ env, extraArgs: ['--workers', '1'] });
  const client = new EngineClient({ transport, reconnect: false });
  try {
    await client.connect();
    const stored = await client.putImage(await smallSample(96));
    assert.equal(stored.reused, false);
    const other = await smallSample(80);
    const filler = fillDisk(root);

    await assert.rejects(client.putImage(other), cacheFull, 'image.put on a full disk');
    await assert.rejects(client.putImage(other), cacheFull, 'the same upload again: still not stored, not "reused"');
    await assert.rejects(client.run('frame', { image: stored.image, step: 300, slider: 'main' }), cacheFull, 'a slider frame on a full disk');

    rmSync(filler);
    const retried = await client.putImage(other);
    assert.equal(retried.reused, false, 'stored now, for the first time');
    assert.equal((await client.putImage(other)).reused, true);
    const frame = await client.run('frame', { image: stored.image, step: 300, slider: 'main' });
    assert.equal(frame.state, 'done');
  } finally {
    const child = transport.child;
    const exited = child && child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined;
    client.close();
    await exited;
  }
});
