import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheKey, canonicalJson, type CacheFile } from '../../engine/src/service/cache-format.js';
import { ResultCache } from '../../engine/src/service/cache.js';
import { defaultCacheDir, defaultConfigDir, ensureToken, readToken } from '../../engine/src/service/paths.js';
import { chownSync, statSync } from 'node:fs';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { Engine } from '../../engine/src/service/engine.js';
import { removeDir, tempDir } from './helpers.js';

async function put(cache: ResultCache, key: string, content: string | Buffer): Promise<CacheFile> {
  const bytes = Buffer.from(content);
  const file = { name: 'out.bin', mime: 'application/octet-stream', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  await cache.store(key, async (staging) => {
    await writeFile(join(staging, 'out.bin'), bytes);
    return [file];
  });
  return file;
}

test('cache keys are canonical: key order does not matter, values do', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] }), '{"a":[1,{"c":3,"d":2}],"b":1}');
  assert.equal(cacheKey({ image: 'x', step: 1 }), cacheKey({ step: 1, image: 'x' }));
  assert.notEqual(cacheKey({ image: 'x', step: 1 }), cacheKey({ image: 'x', step: 2 }));
  assert.match(cacheKey({}), /^[0-9a-f]{64}$/);
});

test('commit then get returns the entry, counts hits and misses, and survives a new instance', async () => {
  const dir = await tempDir('c1');
  try {
    const cache = await ResultCache.open({ dir });
    const key = cacheKey({ t: 1 });
    assert.equal(await cache.get(key), undefined);
    await put(cache, key, 'hello');
    const entry = await cache.get(key);
    assert.equal(entry?.files[0]?.bytes, 5);
    assert.equal(await readFile(cache.filePath(key, 'out.bin'), 'utf8'), 'hello');
    assert.deepEqual({ hits: cache.stats().hits, misses: cache.stats().misses, entries: cache.stats().entries }, { hits: 1, misses: 1, entries: 1 });
    await cache.flush();
    const again = await ResultCache.open({ dir });
    assert.equal(again.stats().entries, 1);
    assert.equal(again.stats().bytes, 5);
    assert.ok(await again.get(key));
  } finally {
    await removeDir(dir);
  }
});

test('a corrupted entry is detected by checksum, removed and reported as a miss', async () => {
  const dir = await tempDir('c2');
  try {
    const key = cacheKey({ t: 2 });
    const first = await ResultCache.open({ dir });
    await put(first, key, 'abcdef');
    // Same size, different bytes: only the checksum can tell.
    await writeFile(first.filePath(key, 'out.bin'), 'abcdeX');
    const cache = await ResultCache.open({ dir });
    assert.equal(await cache.get(key), undefined);
    assert.equal(cache.stats().corruptRemoved, 1);
    assert.equal(cache.stats().entries, 0);
    await assert.rejects(readFile(cache.filePath(key, 'out.bin')));
    // Truncation is caught by the size check even in a process that verified the entry before.
    await put(cache, key, 'abcdef');
    assert.ok(await cache.get(key));
    await writeFile(cache.filePath(key, 'out.bin'), 'abc');
    assert.equal(await cache.get(key), undefined);
  } finally {
    await removeDir(dir);
  }
});

test('an entry with an unreadable meta.json is removed when the index is rebuilt', async () => {
  const dir = await tempDir('c3');
  try {
    const key = cacheKey({ t: 3 });
    const cache = await ResultCache.open({ dir });
    await put(cache, key, 'x');
    await writeFile(join(cache.entryDir(key), 'meta.json'), '{not json');
    await rm(join(cache.root, 'index.json'), { force: true });
    const rebuilt = await ResultCache.open({ dir });
    assert.equal(rebuilt.stats().entries, 0);
    assert.equal(rebuilt.stats().corruptRemoved, 1);
  } finally {
    await removeDir(dir);
  }
});

test('least recently used entries are evicted above the size cap', async () => {
  const dir = await tempDir('c4');
  try {
    const cache = await ResultCache.open({ dir, capBytes: 250 });
    const keys = [1, 2, 3].map((i) => cacheKey({ lru: i }));
    await put(cache, keys[0]!, Buffer.alloc(100, 1));
    await new Promise((r) => setTimeout(r, 5));
    await put(cache, keys[1]!, Buffer.alloc(100, 2));
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(await cache.get(keys[0]!)); // keys[0] is now the most recently used
    await new Promise((r) => setTimeout(r, 5));
    await put(cache, keys[2]!, Buffer.alloc(100, 3));
    assert.equal(cache.stats().evictions, 1);
    assert.ok(cache.stats().bytes <= 250);
    assert.ok(await cache.get(keys[0]!));
    assert.equal(await cache.get(keys[1]!), undefined);
    assert.ok(await cache.get(keys[2]!));
  } finally {
    await removeDir(dir);
  }
});

test('two cache instances on one folder: concurrent commits of one key both succeed, one entry remains', async () => {
  const dir = await tempDir('c5');
  try {
    const [a, b] = await Promise.all([ResultCache.open({ dir }), ResultCache.open({ dir })]);
    const key = cacheKey({ shared: true });
    const [ea, eb] = await Promise.all([put(a, key, 'same'), put(b, key, 'same')]);
    assert.equal(ea.sha256, eb.sha256);
    assert.ok(await a.get(key));
    assert.ok(await b.get(key));
    const shard = await readdir(join(a.root, 'entries', key.slice(0, 2)));
    assert.deepEqual(shard, [key]);
    assert.deepEqual(await readdir(join(a.root, 'staging')), []);
    // An entry committed by one process is visible to the other without a restart.
    const other = cacheKey({ shared: 'later' });
    await put(a, other, 'from a');
    assert.equal((await b.get(other))?.files[0]?.bytes, 6);
    const cleared = await b.clear();
    assert.equal(cleared.removedEntries, 2);
    assert.equal(await a.get(key), undefined);
  } finally {
    await removeDir(dir);
  }
});

test('two cache instances on one folder: what one clears or adds counts for the other\'s size cap', async () => {
  const dir = await tempDir('c5b');
  try {
    const [a, b] = await Promise.all([ResultCache.open({ dir, capBytes: 250 }), ResultCache.open({ dir, capBytes: 250 })]);
    const keys = [1, 2, 3, 4, 5].map((i) => cacheKey({ cap: i }));
    await put(a, keys[0]!, Buffer.alloc(100, 1));
    await put(a, keys[1]!, Buffer.alloc(100, 2));
    await b.clear();
    // 200 bytes are on disk, under the cap: nothing of a's is evicted for the entries b already removed.
    await put(a, keys[2]!, Buffer.alloc(100, 3));
    await put(a, keys[3]!, Buffer.alloc(100, 4));
    assert.equal(a.stats().evictions, 0);
    assert.ok(await a.get(keys[2]!), 'not evicted for bytes that were already gone');
    // b adds 100 bytes a never saw: one cap for the folder, so a's next commit evicts the least recently used.
    await put(b, keys[4]!, Buffer.alloc(100, 5));
    await put(a, cacheKey({ cap: 6 }), Buffer.alloc(100, 6));
    let onDisk = 0;
    for (const shard of await readdir(join(a.root, 'entries'))) onDisk += (await readdir(join(a.root, 'entries', shard))).length;
    assert.equal(onDisk, 2, 'the folder holds what the cap allows, whoever wrote it');
    assert.equal(a.stats().bytes, 200);
  } finally {
    await removeDir(dir);
  }
});

test('two engines on one cache folder: cache.stats follows what the other one cleared or added', async () => {
  const dir = await tempDir('c5c');
  const engines = await Promise.all([0, 1].map(() => Engine.start({ cacheDir: dir, workers: 1, token: '5e'.repeat(32) })));
  try {
    const call = async (engine: Engine, method: string): Promise<Record<string, number>> => {
      const session = engine.openSession('stdio', () => undefined, true);
      const reply = JSON.parse((await engine.handleText(session, JSON.stringify({ jsonrpc: '2.0', id: 1, method })))!) as { result: Record<string, number> };
      engine.closeSession(session);
      return reply.result;
    };
    const [a, b] = engines as [Engine, Engine];
    await put(a.cache, cacheKey({ stats: 1 }), 'one');
    await put(a.cache, cacheKey({ stats: 2 }), 'two');
    assert.equal((await call(b, 'cache.stats')).entries, 2, 'b counts what a added');
    assert.equal((await call(b, 'cache.clear')).removedEntries, 2);
    const stats = await call(a, 'cache.stats');
    assert.deepEqual([stats.entries, stats.bytes], [0, 0], 'a no longer counts what b cleared');
  } finally {
    await Promise.all(engines.map((e) => e.shutdown()));
    await removeDir(dir);
  }
});

test('a failed write never becomes an entry: its staging folder is removed and the error passes through', async () => {
  const dir = await tempDir('c6');
  try {
    const cache = await ResultCache.open({ dir });
    const failure = new Error('the job failed half way');
    await assert.rejects(
      cache.store(cacheKey({ half: true }), async (staging) => {
        await writeFile(join(staging, 'partial.bin'), 'half');
        throw failure;
      }),
      (error) => error === failure,
    );
    assert.deepEqual(await readdir(join(cache.root, 'staging')), []);
    assert.equal(cache.stats().entries, 0);
    assert.equal(await cache.get(cacheKey({ half: true })), undefined);
  } finally {
    await removeDir(dir);
  }
});

test('platform folders follow XDG, macOS and Windows conventions and the overrides', () => {
  assert.equal(defaultCacheDir({ HOME: '/h' }, 'linux'), '/h/.cache/paints-undo');
  assert.equal(defaultCacheDir({ HOME: '/h', XDG_CACHE_HOME: '/x' }, 'linux'), '/x/paints-undo');
  assert.equal(defaultCacheDir({ HOME: '/h' }, 'darwin'), '/h/Library/Caches/paints-undo');
  assert.equal(defaultCacheDir({ HOME: '/h', LOCALAPPDATA: 'C:/L' }, 'win32'), join('C:/L', 'paints-undo', 'Cache'));
  assert.equal(defaultCacheDir({ HOME: '/h', PAINTS_UNDO_CACHE_DIR: '/o' }, 'linux'), '/o');
  assert.equal(defaultConfigDir({ HOME: '/h' }, 'linux'), '/h/.config/paints-undo');
  assert.equal(defaultConfigDir({ HOME: '/h' }, 'darwin'), '/h/Library/Application Support/paints-undo');
});

test('the token is created once, 64 hex digits, readable by the user only', async () => {
  const dir = await tempDir('tok');
  try {
    const first = ensureToken(dir);
    assert.equal(first.created, true);
    assert.match(first.token, /^[0-9a-f]{64}$/);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    const second = ensureToken(dir);
    assert.equal(second.created, false);
    assert.equal(second.token, first.token);
    assert.equal(readToken(dir), first.token);
    await writeFile(first.path, 'garbage');
    assert.throws(() => readToken(dir), /does not hold a token/);
  } finally {
    await removeDir(dir);
  }
});

test('a token file that is a symbolic link, not a regular file or not owned by the user is refused, never chmodded', async (t) => {
  const dir = await tempDir('tok-link');
  try {
    const target = join(dir, 'elsewhere');
    await writeFile(target, `${'ab'.repeat(32)}\n`, { mode: 0o644 });
    await symlink(target, join(dir, 'token'));
    assert.throws(() => ensureToken(dir), (e: unknown) => e instanceof PaintsUndoError && /symbolic link/.test(e.message) && /Delete/.test(e.hint ?? ''));
    assert.throws(() => readToken(dir), /symbolic link/);
    assert.equal(statSync(target).mode & 0o777, 0o644, 'the link target was not chmodded');
    await rm(join(dir, 'token'));
    await mkdir(join(dir, 'token'));
    assert.throws(() => readToken(dir), /not a regular file/);
    await rm(join(dir, 'token'), { recursive: true });
    const own = ensureToken(dir);
    if (process.getuid?.() !== 0) return t.skip('changing a file owner needs root; the symlink and type checks ran');
    chownSync(own.path, 65534, 65534);
    assert.throws(() => readToken(dir), /belongs to user 65534, not to you/);
  } finally {
    await removeDir(dir);
  }
});
