/** video.encode: recorded frames uploaded by the client become a real video job (real engine, real ffmpeg). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { EngineError, type EngineClient } from '../../engine/src/client/index.js';
import { SAMPLE, removeDir, startEngine, tempDir, type Running } from './helpers.js';

let running: Running;
let client: EngineClient;
let scratch: string;
/** Five "history states" of the sample at 160x? px: the artwork with more and more of it revealed. */
let states: string[];

interface Probe {
  streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[];
  format: { tags?: Record<string, string> };
}

function probe(path: string): Probe {
  return JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format_tags', '-of', 'json', path], { encoding: 'utf8' }),
  ) as Probe;
}

/** The sample with everything right of `fraction` of its width painted white, like an unfinished state. */
async function state(fraction: number, long = 160): Promise<Buffer> {
  const base = sharp(SAMPLE).resize(long, long, { fit: 'inside' });
  const { width, height } = await base.clone().png().toBuffer({ resolveWithObject: true }).then((r) => r.info);
  const cover = Math.round(width * (1 - fraction));
  if (cover === 0) return base.png().toBuffer();
  const white = await sharp({ create: { width: cover, height, channels: 3, background: '#ffffff' } }).png().toBuffer();
  return base.composite([{ input: white, left: width - cover, top: 0 }]).png().toBuffer();
}

async function download(job: { result?: { files: { name: string; url?: string; bytes: number; mime: string }[] } }, name: string): Promise<string> {
  const file = job.result!.files[0]!;
  const path = join(scratch, name);
  await writeFile(path, await client.download(file));
  return path;
}

before(async () => {
  running = await startEngine();
  client = running.client();
  await client.connect();
  scratch = await tempDir('encode');
  states = [];
  for (const f of [0.2, 0.4, 0.6, 0.8, 1]) states.push((await client.putImage(await state(f))).image);
});

after(async () => {
  await running.stop();
  await removeDir(running.cacheDir);
  await removeDir(scratch);
});

test('engine.info lists video.encode, so panels know they can use it', async () => {
  const info = await client.call('engine.info');
  assert.ok(info.methods?.includes('video.encode'));
});

test('five uploaded states become an MP4 of five frames, tagged as recorded, and the repeat comes from the cache', async () => {
  const events: string[] = [];
  const offs = (['job.queued', 'job.progress', 'job.done'] as const).map((e) => client.on(e, () => events.push(e)));
  const params = { images: states, format: 'mp4', fps: 5, hold: 0, from: 'Photoshop history states' } as const;
  const job = await client.run('video.encode', params);
  offs.forEach((off) => off());
  assert.equal(job.kind, 'encode');
  assert.ok(events.includes('job.queued') && events.includes('job.progress') && events.includes('job.done'), events.join(','));
  const file = job.result!.files[0]!;
  assert.equal(file.name, 'recorded.mp4');
  assert.equal(file.mime, 'video/mp4');
  const p = probe(await download(job, 'five.mp4'));
  const stream = p.streams[0]!;
  assert.equal(stream.codec_name, 'h264');
  assert.equal(Number(stream.nb_read_frames), 5);
  const meta = await sharp(await state(1)).metadata();
  assert.deepEqual([stream.width, stream.height], [meta.width! - (meta.width! % 2), meta.height! - (meta.height! % 2)]);
  const tags = p.format.tags ?? {};
  assert.equal(tags.title, 'Recorded from Photoshop history states');
  assert.match(tags.comment ?? '', /^Recorded from Photoshop history states: 5 recorded frames/);
  assert.doesNotMatch(`${tags.title} ${tags.comment}`, /Generated reconstruction/i);

  const again = await client.run('video.encode', params);
  assert.equal(again.result?.cached, true);
  assert.equal(again.result?.id, job.result?.id);
});

test('generated lead-in frames come first and the metadata says how many are generated; other sizes are fitted', async () => {
  const smaller = (await client.putImage(await state(0.9, 100))).image;
  const job = await client.run('video.encode', { images: [...states.slice(0, 4), smaller, states[4]!], format: 'webm', fps: 10, hold: 0.2, leadIn: 3, label: true });
  const p = probe(await download(job, 'lead-in.webm'));
  assert.equal(p.streams[0]!.codec_name, 'vp9');
  // 3 generated + 6 recorded + 2 hold.
  assert.equal(Number(p.streams[0]!.nb_read_frames), 11);
  const tags = Object.fromEntries(Object.entries(p.format.tags ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  assert.equal(tags.title, 'Recorded from history states (first 3 frames generated, not recorded)');
  assert.match(tags.comment ?? '', /The first 3 frames are generated, not recorded: Generated reconstruction .*backend classic/);
  // The lead-in starts from the blank canvas: the first frame is paper white (but for the small caption).
  const first = execFileSync('ffmpeg', ['-v', 'error', '-i', join(scratch, 'lead-in.webm'), '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1']);
  const stats = await sharp(first).stats();
  assert.ok(stats.channels.every((c) => c.mean > 225), stats.channels.map((c) => c.mean).join(','));
  const last = await sharp(await state(1)).stats();
  assert.ok(last.channels.some((c) => c.mean < 225), 'the recorded artwork is not white, so the check above can fail');
});

test('a GIF carries the recorded provenance in its comment extension', async () => {
  const { readGifComments } = await import('../../engine/src/io/video.js');
  const job = await client.run('video.encode', { images: states, format: 'gif', fps: 4, hold: 0, size: 96 });
  const bytes = await client.download(job.result!.files[0]!);
  assert.equal(Buffer.from(bytes.subarray(0, 6)).toString('latin1'), 'GIF89a');
  const comments = readGifComments(bytes);
  assert.ok(comments.some((c) => c.startsWith('Recorded from history states: 5 recorded frames')), comments.join(' | '));
});

test('cancelling a running encode sends job.cancelled and the waiter rejects with CANCELLED', async () => {
  // 600 recorded frames held for 30 s at 60 fps in VP9: seconds of work, cancelled at its first progress.
  const images = Array.from({ length: 600 }, (_, i) => states[i % states.length]!);
  const cancelled: string[] = [];
  const off = client.on('job.cancelled', (e) => cancelled.push(e.job.id));
  const progressed = new Set<string>();
  let wake: (() => void) | undefined;
  const offProgress = client.on('job.progress', (e) => {
    progressed.add(e.job);
    wake?.();
  });
  const handle = await client.submit('video.encode', { images, format: 'webm', fps: 60, hold: 30, size: 160, seed: 7 });
  while (!progressed.has(handle.job.id)) await new Promise<void>((resolve) => (wake = resolve));
  offProgress();
  const entries = (await client.call('cache.stats')).entries;
  const after = await handle.cancel();
  assert.equal(after.state, 'cancelled');
  await assert.rejects(handle.done, (e: unknown) => e instanceof EngineError && e.code === 'CANCELLED');
  off();
  assert.deepEqual(cancelled, [handle.job.id]);
  assert.equal((await client.call('cache.stats')).entries, entries, 'nothing partial reaches the cache');
});

test('the total pixels of the frames are capped (engine.info tells the cap): INPUT_TOO_LARGE says what to do', async () => {
  const small = await startEngine({ limits: { maxEncodePixels: 50_000 } });
  try {
    const c = small.client();
    const info = await c.connect();
    assert.equal(info.limits.maxEncodePixels, 50_000);
    const ids: string[] = [];
    for (const f of [0.5, 0.75, 1]) ids.push((await c.putImage(await state(f))).image);
    const { width, height } = await sharp(await state(1)).metadata();
    assert.ok(3 * width! * height! > 50_000 && 2 * width! * height! <= 50_000, 'the frames straddle the cap');
    await assert.rejects(
      c.call('video.encode', { images: ids }),
      (e: unknown) => e instanceof EngineError && e.code === 'INPUT_TOO_LARGE' && e.rpcCode === -32014 && /limit is 50000/.test(e.message) && /smaller/.test(e.hint ?? ''),
    );
    // Repeating a frame costs nothing: the cap counts distinct frames.
    const job = await c.run('video.encode', { images: [ids[0]!, ids[1]!, ids[0]!, ids[1]!], fps: 4, hold: 0 });
    assert.equal(job.state, 'done');
  } finally {
    await small.stop();
    await removeDir(small.cacheDir);
  }
});

test('an empty list, malformed ids and unknown ids are stable JSON-RPC errors', async () => {
  await assert.rejects(
    client.call('video.encode', { images: [] }),
    (e: unknown) => e instanceof EngineError && e.code === 'INVALID_OPTION' && e.rpcCode === -32602 && /at least 1 items for images/.test(e.message),
  );
  await assert.rejects(
    client.call('video.encode', { images: [states[0]!, 'not-an-id'] }),
    (e: unknown) => e instanceof EngineError && e.code === 'INVALID_OPTION' && /images\.1/.test(e.message),
  );
  await assert.rejects(
    client.call('video.encode', { images: [states[0]!], provenance: 'generated' as 'recorded' }),
    (e: unknown) => e instanceof EngineError && e.code === 'INVALID_OPTION' && /provenance/.test(e.message),
  );
  await assert.rejects(
    client.call('video.encode', { images: [states[0]!, 'f'.repeat(64)] }),
    (e: unknown) => e instanceof EngineError && e.code === 'NOT_FOUND' && e.rpcCode === -32003,
  );
});
