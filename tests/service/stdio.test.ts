/**
 * The real CLI over stdio: `bin/paints-undo serve --stdio` as a child process (after `npm run build`),
 * driven by the typed client's stdio transport and by raw lines; graceful shutdown; a bounded fuzz.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EngineClient, EngineError } from '../../engine/src/client/index.js';
import { localClient, packageBin, stdioTransport } from '../../engine/src/client/node.js';
import { processHome, removeDir } from './helpers.js';

const BIN = packageBin();
let home: string;
let env: NodeJS.ProcessEnv;
let samplePath: string;

before(async () => {
  ({ dir: home, env, samplePath } = await processHome('stdio'));
});

after(async () => {
  await removeDir(home);
});

test('every method works over stdio through the typed client; results come with disk paths', async () => {
  const stderr: string[] = [];
  const transport = stdioTransport({ env, extraArgs: ['--workers', '1'], onStderr: (l) => stderr.push(l) });
  const client = new EngineClient({ transport, reconnect: false });
  try {
    const info = await client.connect();
    assert.equal(info.transport, 'stdio');
    assert.equal(info.httpBase, undefined);
    const put = await client.call('image.put', { path: samplePath });
    const again = await client.putImage(readFileSync(samplePath));
    assert.equal(again.image, put.image);
    assert.equal(again.reused, true);
    await assert.rejects(client.call('image.put', { path: join(home, 'missing.png') }), (e: unknown) => e instanceof EngineError && e.code === 'INPUT_NOT_FOUND');
    // Messages about a file read by path name the file; bytes sent are "the upload".
    writeFileSync(join(home, 'empty.png'), '');
    writeFileSync(join(home, 'notes.png'), 'not an image');
    await assert.rejects(client.call('image.put', { path: join(home, 'empty.png') }), /^EngineError: The input empty\.png is empty \(0 bytes\)\.$/);
    await assert.rejects(client.call('image.put', { path: join(home, 'notes.png') }), /^EngineError: The input notes\.png is not an image this tool can read\.$/);
    await assert.rejects(client.putImage(new TextEncoder().encode('not an image')), /^EngineError: The upload is not an image this tool can read\.$/);
    await assert.rejects(client.putPixels({ width: 150, height: 10, channels: 3, data: new Uint8Array(150 * 10 * 3) }), /^EngineError: The uploaded image is 150x10; the minimum is 16 px on each side\.$/);
    const frame = await client.run('frame', { image: put.image, step: 300 });
    const file = frame.result!.files[0]!;
    assert.equal(file.url, undefined);
    assert.ok(file.path && existsSync(file.path));
    assert.equal(readFileSync(file.path).length, file.bytes);
    const keyframes = await client.run('keyframes', { image: put.image, steps: [600, 950] });
    assert.equal(keyframes.result!.files.length, 2);
    const layers = await client.run('layers', { image: put.image, format: 'psd' });
    assert.ok(layers.result!.files[0]!.path!.endsWith('layers.psd'));
    const interp = await client.run('interpolate', { from: put.image, to: put.image, frames: 2 });
    assert.equal(interp.result!.files.length, 2);
    const video = await client.run('timelapse', { image: put.image, frames: 6, fps: 6, hold: 0, format: 'gif', size: 64 });
    assert.equal(readFileSync(video.result!.files[0]!.path!).subarray(0, 3).toString('latin1'), 'GIF');
    const listed = await client.call('jobs.list', { mine: true });
    assert.ok(listed.jobs.length >= 5);
    assert.equal((await client.call('jobs.get', { job: frame.id })).state, 'done');
    const stats = await client.call('cache.stats');
    assert.equal(stats.dir, join(home, 'cache', 'v1'));
    assert.ok(stats.entries >= 5);
    // Closing the client closes stdin: the engine shuts down gracefully with exit code 0.
    const child = transport.child!;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    client.close();
    assert.equal(await exited, 0);
    assert.ok(stderr.some((l) => /shutting down \(stdin closed\)/.test(l)), stderr.join('\n'));
    // The cache index was flushed on the way out.
    assert.ok(existsSync(join(home, 'cache', 'v1', 'index.json')));
  } finally {
    client.close();
  }
});

/** Starts `serve --stdio` and returns line-level access to it. */
function startChild(args: string[] = []) {
  const child = spawn(process.execPath, [BIN, 'serve', '--stdio', '--workers', '1', '--quiet', ...args], { env, stdio: 'pipe' });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    lines,
    exit,
    write: (text: string) => child.stdin.write(text),
    async until(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out; ${lines.length} lines so far`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
  };
}

test('SIGTERM shuts the engine down gracefully: running jobs are cancelled, replies flushed, exit code 0', async () => {
  const engine = startChild();
  engine.write(`{"jsonrpc":"2.0","id":1,"method":"image.put","params":{"path":${JSON.stringify(samplePath)}}}\n`);
  await engine.until(() => engine.lines.some((l) => l.includes('"id":1')));
  const image = (JSON.parse(engine.lines.find((l) => l.includes('"id":1'))!) as { result: { image: string } }).result.image;
  engine.write(`{"jsonrpc":"2.0","id":2,"method":"timelapse","params":{"image":"${image}","frames":900,"format":"webm","seed":77}}\n`);
  await engine.until(() => engine.lines.some((l) => l.includes('"job.progress"')));
  engine.child.kill('SIGTERM');
  const { code } = await engine.exit;
  assert.equal(code, 0);
  assert.ok(engine.lines.some((l) => l.includes('"job.cancelled"')), 'the running job was cancelled and the event flushed');
});

test('closing stdin cancels running jobs as SIGTERM does: their job.cancelled is written before the engine exits 0', async () => {
  const engine = startChild();
  engine.write(`{"jsonrpc":"2.0","id":1,"method":"image.put","params":{"path":${JSON.stringify(samplePath)}}}\n`);
  await engine.until(() => engine.lines.some((l) => l.includes('"id":1')));
  const image = (JSON.parse(engine.lines.find((l) => l.includes('"id":1'))!) as { result: { image: string } }).result.image;
  engine.write(`{"jsonrpc":"2.0","id":2,"method":"timelapse","params":{"image":"${image}","frames":900,"format":"webm","seed":78}}\n`);
  await engine.until(() => engine.lines.some((l) => l.includes('"job.progress"')));
  engine.child.stdin.end();
  const { code } = await engine.exit;
  assert.equal(code, 0);
  assert.ok(engine.lines.some((l) => l.includes('"job.cancelled"')), 'the running job was cancelled and the event written');
});

test('bounded fuzz: thousands of random and mutated messages never crash the engine, which still answers', async () => {
  const engine = startChild();
  // A deterministic PRNG so a failure can be replayed.
  let state = 0x9e3779b9;
  const rand = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const methods = ['hello', 'engine.info', 'image.put', 'frame', 'keyframes', 'interpolate', 'timelapse', 'layers', 'jobs.list', 'jobs.get', 'jobs.cancel', 'cache.stats', 'cache.clear', 'nope', '', '__proto__', 'constructor'];
  const values: unknown[] = [null, true, false, 0, -1, 1e308, -0, 0.5, 999, 1000, 'x', '', '\u0000', 'é😀', [], [1, 2], {}, { a: 1 }, '0'.repeat(64), 'jzzz', { __proto__: { polluted: 1 } }, 'A'.repeat(500)];
  const keys = ['image', 'step', 'steps', 'seed', 'backend', 'job', 'data', 'path', 'frames', 'format', 'fps', 'size', 'from', 'to', 'slider', 'protocol', 'token', 'state', 'limit', '__proto__', 'constructor'];
  const valid = [
    '{"jsonrpc":"2.0","id":1,"method":"engine.info"}',
    '{"jsonrpc":"2.0","id":2,"method":"frame","params":{"image":"' + 'a'.repeat(64) + '","step":5}}',
    '{"jsonrpc":"2.0","id":3,"method":"jobs.list","params":{"limit":5}}',
  ];
  const messages: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const kind = rand();
    if (kind < 0.4) {
      const params: Record<string, unknown> = {};
      for (let k = Math.floor(rand() * 4); k > 0; k--) params[pick(keys)] = pick(values);
      // Never a real cache.clear, path read or successful job: the fuzz is about parsing and validation.
      const method = pick(methods.filter((m) => m !== 'cache.clear' && m !== 'image.put'));
      messages.push(JSON.stringify({ jsonrpc: pick(['2.0', '2.0', '1.0', 2]), id: pick([i, `s${i}`, null, {}, [], 1.5]), method, params: rand() < 0.8 ? params : pick(values) }));
    } else if (kind < 0.8) {
      // Byte-level mutations of valid messages.
      const chars = [...pick(valid)];
      for (let m = 1 + Math.floor(rand() * 4); m > 0; m--) {
        const at = Math.floor(rand() * chars.length);
        const op = rand();
        if (op < 0.33) chars.splice(at, 1);
        else if (op < 0.66) chars.splice(at, 0, pick(['{', '}', '"', ',', ':', '\\', '[', ']', '0', 'e', '\u2028']));
        else chars[at] = String.fromCharCode(Math.floor(rand() * 128));
      }
      messages.push(chars.join('').replace(/\n/g, ' '));
    } else {
      messages.push(pick(['', ' ', 'null', '[]', '[[]]', '"str"', '{}', '[{}]', '1e999', '{"__proto__":{"x":1}}', 'x'.repeat(Math.floor(rand() * 5000))]));
    }
  }
  for (const m of messages) engine.write(m + '\n');
  engine.write('{"jsonrpc":"2.0","id":"final","method":"engine.info"}\n');
  await engine.until(() => engine.lines.some((l) => l.includes('"id":"final"')), 60_000);
  const parsed = engine.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(parsed.length > 1000, `${parsed.length} replies`);
  for (const reply of parsed) {
    const list = Array.isArray(reply) ? (reply as Record<string, unknown>[]) : [reply];
    for (const r of list) {
      if (typeof r.method === 'string') continue; // an event
      assert.equal(r.jsonrpc, '2.0');
      if (r.error) {
        const e = r.error as { code: unknown; message: unknown; data?: { code?: unknown } };
        assert.equal(typeof e.code, 'number');
        assert.equal(typeof e.message, 'string');
        assert.equal(typeof e.data?.code, 'string');
        assert.notEqual(e.data?.code, 'INTERNAL', `internal error for some input: ${JSON.stringify(r)}`);
      }
    }
  }
  engine.child.stdin.end();
  assert.equal((await engine.exit).code, 0);
});

test('serve on a port prints where the token is (not the token); a Node client pairs through the token file; SIGINT exits 0', async () => {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--workers', '1'], { env, stdio: 'pipe' });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 300 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(lines[0] ?? '')?.[1];
    assert.ok(url, lines.join('\n'));
    const tokenFile = join(home, 'config', 'token');
    assert.match(lines[1]!, new RegExp(`Pairing token: (created|stored) in ${tokenFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*paints-undo token`));
    assert.doesNotMatch(lines.join('\n'), /[0-9a-f]{64}/, 'the token itself is not printed');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const client = localClient({ baseUrl: url, configDir: join(home, 'config'), reconnect: false });
    const info = await client.connect();
    assert.equal(info.httpBase, url);
    client.close();
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exit, 0);
});

test('over stdio too, notifications (no id) are never answered, whatever is wrong with them', async () => {
  const engine = startChild();
  const notifications = [
    '{"jsonrpc":"2.0","method":"nope"}',
    '{"jsonrpc":"2.0","method":"frame","params":{"step":"ten"}}',
    '{"jsonrpc":"2.0","method":"frame","params":[1,2]}',
    '{"jsonrpc":"2.0","method":"jobs.cancel","params":{"job":"jmissing"}}',
    JSON.stringify({ jsonrpc: '2.0', method: 'engine.info', params: { pad: 'x'.repeat(1_100_000) } }),
    '[{"jsonrpc":"2.0","method":"nope"},{"jsonrpc":"2.0","method":"cache.stats"}]',
  ];
  for (const line of notifications) engine.write(`${line}\n`);
  engine.write('{"jsonrpc":"2.0","id":"last","method":"cache.stats"}\n');
  await engine.until(() => engine.lines.some((l) => l.includes('"last"')));
  engine.write('{"jsonrpc":"2.0","id":"last2","method":"cache.stats"}\n');
  await engine.until(() => engine.lines.some((l) => l.includes('"last2"')));
  assert.equal(engine.lines.length, 2, engine.lines.map((l) => l.slice(0, 120)).join('\n'));
  engine.child.stdin.end();
  assert.equal((await engine.exit).code, 0);
});

test('when the parent goes away (both pipes closed, replies pending) the engine still exits 0', async () => {
  const engine = startChild();
  engine.write('{"jsonrpc":"2.0","id":1,"method":"engine.info"}\n');
  await engine.until(() => engine.lines.length > 0);
  engine.child.stdout.destroy();
  for (let i = 0; i < 20; i++) engine.write(`{"jsonrpc":"2.0","id":${i + 2},"method":"cache.stats"}\n`);
  engine.child.stdin.end();
  assert.equal((await engine.exit).code, 0);
});

test('two engine processes on one cache folder compute the same frame at once; both answer, one entry remains', async () => {
  const transports = [0, 1].map(() => stdioTransport({ env, extraArgs: ['--workers', '1'] }));
  const clients = transports.map((transport) => new EngineClient({ transport, reconnect: false }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const puts = await Promise.all(clients.map((c) => c.call('image.put', { path: samplePath })));
    assert.equal(puts[0]!.image, puts[1]!.image);
    const jobs = await Promise.all(clients.map((c) => c.run('frame', { image: puts[0]!.image, step: 812, seed: 9 })));
    assert.equal(jobs[0]!.result?.id, jobs[1]!.result?.id);
    const paths = jobs.map((j) => j.result!.files[0]!.path!);
    assert.equal(paths[0], paths[1]);
    assert.deepEqual(readFileSync(paths[0]!), readFileSync(paths[1]!));
    const key = jobs[0]!.result!.id;
    const { readdirSync } = await import('node:fs');
    assert.deepEqual(readdirSync(join(home, 'cache', 'v1', 'entries', key.slice(0, 2))).filter((n) => n === key), [key]);
    assert.deepEqual(readdirSync(join(home, 'cache', 'v1', 'staging')), []);
  } finally {
    const exits = transports.map((t) => new Promise((resolve) => (t.child && t.child.exitCode === null ? t.child.once('exit', resolve) : resolve(null))));
    for (const c of clients) c.close();
    await Promise.all(exits);
  }
});
