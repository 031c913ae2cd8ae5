/**
 * `paints-undo serve --port 0` as a real process (after `npm run build`): what it prints about the token,
 * `paints-undo token`, memory under oversized messages from clients without the token, and a shutdown
 * signal during a job over WebSocket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { localClient, packageBin } from '../../engine/src/client/node.js';
import { RawSocket, processHome, removeDir } from './helpers.js';

const BIN = packageBin();
let home: string;
let env: NodeJS.ProcessEnv;
let samplePath: string;

before(async () => {
  ({ dir: home, env, samplePath } = await processHome('serve'));
});

after(async () => {
  await removeDir(home);
});

interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly output: string[];
  readonly exit: Promise<number | null>;
}

/** Starts `serve --port 0` and waits for its start-up lines (`--json` gives one JSON line). */
async function serve(args: string[] = ['--json']): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--workers', '1', ...args], { env, stdio: 'pipe' });
  const output: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => output.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => output.push(l));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; i < 300 && !output.some((l) => /listening/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
  const line = output.find((l) => /listening/.test(l)) ?? '';
  const url = args.includes('--json') ? (JSON.parse(line) as { url: string }).url : /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
  assert.ok(url, output.join('\n'));
  return { child, url, output, exit };
}

/** Peak resident memory of a process in bytes (Linux). */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

test('serve prints where the token is and how to get it, never the token; `paints-undo token` prints it', async () => {
  const served = await serve([]);
  try {
    for (let i = 0; i < 100 && !served.output.some((l) => /Pairing token/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    const token = readFileSync(join(home, 'config', 'token'), 'utf8').trim();
    const text = served.output.join('\n');
    assert.ok(!text.includes(token), 'the token is not printed');
    assert.match(text, /Pairing token: (created|stored) in .*config\/token .*`paints-undo token`/);
    const printed = spawnSync(process.execPath, [BIN, 'token'], { env, encoding: 'utf8' });
    assert.equal(printed.status, 0, printed.stderr);
    assert.equal(printed.stdout, `${token}\n`);
    const path = spawnSync(process.execPath, [BIN, 'token', '--path'], { env, encoding: 'utf8' });
    assert.equal(path.stdout.trim(), join(home, 'config', 'token'));
  } finally {
    served.child.kill('SIGINT');
  }
  assert.equal(await served.exit, 0);
});

test('serve warms its workers up while it waits for work, and says when they are warm', async () => {
  const served = await serve();
  try {
    for (let i = 0; i < 1200 && !served.output.some((l) => /workers warmed up in [0-9.]+ s/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(served.output.some((l) => /workers warmed up in [0-9.]+ s/.test(l)), served.output.join('\n'));
  } finally {
    served.child.kill('SIGINT');
  }
  assert.equal(await served.exit, 0);
});

test('oversized messages from sockets without the token are refused unread: the engine does not grow', async (t) => {
  if (process.platform !== 'linux') return t.skip('reads peak memory from /proc (Linux only)');
  // Without the warm-up, whose planning would grow the engine meanwhile.
  const served = await serve(['--json', '--no-warm-up']);
  try {
    // Warm up (a paired client, a reply) so that start-up allocations are behind the baseline.
    const client = localClient({ baseUrl: served.url, configDir: join(home, 'config'), reconnect: false });
    await client.connect();
    client.close();
    const before = peakRss(served.child.pid!);
    const payload = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'engine.info', params: { pad: 'x'.repeat(40 * 1024 * 1024) } });
    const sockets = await Promise.all([0, 1].map(() => RawSocket.open(served.url)));
    for (const s of sockets) s.sendText(payload);
    const closed = await Promise.all(sockets.map((s) => s.whenClosed(30_000)));
    assert.deepEqual(closed.map((c) => c.code), [1009, 1009]);
    const grown = peakRss(served.child.pid!) - before;
    t.diagnostic(`peak RSS grew by ${(grown / 1024 / 1024).toFixed(1)} MB for two 40 MB messages without the token`);
    // Buffering and parsing two 40 MB messages took over 300 MB; refused from the frame header, under 1 MB.
    assert.ok(grown < 16 * 1024 * 1024, `peak RSS grew by ${(grown / 1024 / 1024).toFixed(1)} MB`);
  } finally {
    served.child.kill('SIGTERM');
  }
  assert.equal(await served.exit, 0);
});

test('SIGTERM during a job: WebSocket clients get job.cancelled before the socket closes, exit code 0', async () => {
  const served = await serve();
  const client = localClient({ baseUrl: served.url, configDir: join(home, 'config'), reconnect: false });
  try {
    await client.connect();
    const { image } = await client.putImage(readFileSync(samplePath));
    const events: string[] = [];
    const progressed = new Promise<void>((resolve) => client.on('job.progress', () => resolve()));
    client.on('job.cancelled', (e) => events.push(`cancelled:${e.job.error?.code ?? '?'}`));
    const job = await client.call('timelapse', { image, frames: 900, format: 'webm', seed: 78 });
    await progressed;
    const disconnected = new Promise<void>((resolve) => client.onStateChange((state) => state === 'disconnected' && resolve()));
    served.child.kill('SIGTERM');
    await disconnected;
    assert.deepEqual(events, ['cancelled:CANCELLED'], `job ${job.id}`);
  } finally {
    client.close();
    if (served.child.signalCode === null && !served.child.killed) served.child.kill('SIGTERM');
  }
  assert.equal(await served.exit, 0);
});
