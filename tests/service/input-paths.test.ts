/**
 * `image.put {path}` over stdio with paths that are not ordinary files (issue 10, item 1): the real
 * engine process, bounded in memory and time, answers each with an INPUT error and keeps serving.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageBin } from '../../engine/src/client/node.js';
import { makeFifo } from '../io/helpers.js';
import { removeDir, smallSample, tempDir } from './helpers.js';

let home: string;

before(async () => {
  home = await tempDir('input-paths');
});

after(async () => {
  await removeDir(home);
});

test('image.put refuses devices, FIFOs and oversized files by path; the engine keeps serving', async () => {
  const sample = join(home, 'sample.png');
  await writeFile(sample, await smallSample(64));
  const fifo = makeFifo(join(home, 'pipe.png'));
  const big = join(home, 'big.png');
  await writeFile(big, Buffer.alloc(2 * 1024 * 1024));
  // 6 GB of address space: a regression that reads /dev/zero fails here instead of exhausting the machine.
  const engine = spawn('bash', ['-c', `ulimit -v 6000000; exec '${process.execPath}' '${packageBin()}' serve --stdio --workers 1 --max-upload-mb 1`], {
    env: { ...process.env, PAINTS_UNDO_CACHE_DIR: join(home, 'cache'), PAINTS_UNDO_CONFIG_DIR: join(home, 'config') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => engine.on('exit', (code, signal) => resolve({ code, signal })));
  const replies = new Map<number, { result?: { image: string }; error?: { message: string; data: { code: string } } }>();
  const waiting = new Map<number, () => void>();
  createInterface({ input: engine.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as { id?: number };
    if (typeof message.id !== 'number') return;
    replies.set(message.id, message as never);
    waiting.get(message.id)?.();
  });
  const call = async (id: number, method: string, params: unknown): Promise<NonNullable<ReturnType<typeof replies.get>>> => {
    const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
    engine.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      answered,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no reply to ${method} ${JSON.stringify(params)} within 20 s`)), 20_000);
      }),
    ]);
    clearTimeout(timer);
    return replies.get(id)!;
  };
  try {
    await call(1, 'hello', { protocol: 1 });
    const refused: [unknown, string, RegExp][] = [
      [{ path: '/dev/zero' }, 'INPUT_NOT_IMAGE', /\/dev\/zero is a character device, not a regular file/],
      [{ path: fifo }, 'INPUT_NOT_IMAGE', /is a FIFO \(named pipe\)/],
      [{ path: '/dev/stdin' }, 'INPUT_NOT_IMAGE', /not a regular file/],
      [{ path: home }, 'INPUT_NOT_FOUND', /is a folder/],
      [{ path: big }, 'INPUT_TOO_LARGE', /big\.png is 2\.0 MiB, more than the 1\.0 MiB limit/],
    ];
    let id = 2;
    for (const [params, code, message] of refused) {
      const reply = await call(id++, 'image.put', params);
      assert.equal(reply.error?.data.code, code, JSON.stringify(params));
      assert.match(reply.error?.message ?? '', message);
    }
    const ok = await call(id++, 'image.put', { path: sample });
    assert.match(ok.result?.image ?? '', /^[0-9a-f]{64}$/, 'the engine still serves');
  } finally {
    engine.stdin.end();
  }
  const end = await exited;
  assert.equal(end.signal, null, 'the engine was not killed (e.g. SIGSEGV or out of memory)');
  assert.equal(end.code, 0);
});
