import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEncoder } from '../../engine/src/io/encoder.js';
import { findFfmpeg } from '../../engine/src/io/ffmpeg.js';
import { tempFolder, testCard } from './helpers.js';

const dir = tempFolder();

/** ffmpeg copying raw 64x48 RGB frames from stdin to `output` unchanged. */
function copyArgs(output: string, width = 64, height = 48): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', output];
}

test('frames reach ffmpeg whole and in order through the ring, many more frames than slots', async () => {
  const ffmpeg = await findFfmpeg();
  const output = join(dir, 'copy.raw');
  const frames = Array.from({ length: 60 }, (_, i) => testCard(64, 48, i).data);
  const encoder = startEncoder(ffmpeg.path, copyArgs(output), frames[0]!.length);
  for (const frame of frames) {
    assert.equal(await encoder.send(frame), true);
    // The caller may reuse its buffer at once: the ring holds a copy.
    frame.fill(0);
  }
  encoder.end();
  const exit = await encoder.exited;
  assert.equal(exit.code, 0, exit.stderr);
  const written = readFileSync(output);
  assert.equal(written.length, 60 * 64 * 48 * 3);
  for (let i = 0; i < 60; i++) {
    const expected = testCard(64, 48, i).data;
    assert.ok(written.subarray(i * expected.length, (i + 1) * expected.length).equals(expected), `frame ${i}`);
  }
});

test('frames written into lent slots reach ffmpeg uncopied, mixed with copied ones; a slot not sent is taken back', async () => {
  const ffmpeg = await findFfmpeg();
  const output = join(dir, 'lent.raw');
  const bytes = 64 * 48 * 3;
  const encoder = startEncoder(ffmpeg.path, copyArgs(output), bytes);
  assert.equal(encoder.bytes, bytes);
  const expected: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const card = testCard(64, 48, i).data;
    if (i % 5 === 3) {
      // Taken and given up (the frame went out in a buffer of its own): the next take reclaims the slot.
      (await encoder.take()).fill(7);
      assert.equal(await encoder.send(card), true);
    } else if (i % 5 === 4) {
      assert.equal(await encoder.send(card), true);
    } else {
      const slot = await encoder.take();
      assert.equal(slot.length, bytes);
      slot.set(card);
      assert.equal(await encoder.send(slot), true);
      if (i === 10) {
        // Once sent the slot is the ring's again: a second send of it is a copy, not the lent slot twice.
        assert.equal(await encoder.send(slot), true);
        expected.push(card);
      }
    }
    expected.push(card);
  }
  encoder.end();
  const exit = await encoder.exited;
  assert.equal(exit.code, 0, exit.stderr);
  const written = readFileSync(output);
  assert.equal(written.length, expected.length * bytes, 'every frame once, the re-sent one twice; no slot was lost or left waiting');
  for (const [i, card] of expected.entries()) assert.ok(written.subarray(i * bytes, (i + 1) * bytes).equals(card), `frame ${i}`);
});

test('once ffmpeg has ended, take lends a scratch buffer and its send says so', async () => {
  const encoder = startEncoder(join(dir, 'no-such-ffmpeg'), [], 12);
  await encoder.exited;
  const scratch = await encoder.take();
  assert.equal(scratch.length, 12);
  assert.equal(await encoder.send(scratch), false);
});

test('several encodes at once share the thread and keep their frames apart', async () => {
  const ffmpeg = await findFfmpeg();
  const outputs = [0, 1, 2].map((k) => join(dir, `parallel-${k}.raw`));
  const encoders = outputs.map((output) => startEncoder(ffmpeg.path, copyArgs(output), 64 * 48 * 3));
  for (let i = 0; i < 20; i++) {
    await Promise.all(encoders.map((encoder, k) => encoder.send(testCard(64, 48, k * 100 + i).data)));
  }
  for (const encoder of encoders) encoder.end();
  for (const [k, encoder] of encoders.entries()) {
    assert.equal((await encoder.exited).code, 0);
    const written = readFileSync(outputs[k]!);
    for (let i = 0; i < 20; i++) {
      const expected = testCard(64, 48, k * 100 + i).data;
      assert.ok(written.subarray(i * expected.length, (i + 1) * expected.length).equals(expected), `encode ${k} frame ${i}`);
    }
  }
});

test('ffmpeg that fails at once: send resolves false, and the exit gives its code and message', async () => {
  const ffmpeg = await findFfmpeg();
  const args = [...copyArgs(join(dir, 'never.raw')).slice(0, -5), '-f', 'no-such-muxer', join(dir, 'never.raw')];
  const encoder = startEncoder(ffmpeg.path, args, 64 * 48 * 3);
  const frame = testCard(64, 48).data;
  // ffmpeg may read input for a while before it gives up (a fast machine took 1000 frames first): the
  // bound is time, not a frame count.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await encoder.send(frame)));
  assert.ok(Date.now() < deadline, 'sending stopped once ffmpeg had exited');
  const exit = await encoder.exited;
  assert.notEqual(exit.code, 0);
  assert.match(exit.stderr, /no-such-muxer/);
  assert.equal(await encoder.send(frame), false);
});

test('a binary that cannot start: the exit says why, and nothing waits forever', async () => {
  const encoder = startEncoder(join(dir, 'no-such-ffmpeg'), [], 12);
  const exit = await encoder.exited;
  assert.equal(exit.code, null);
  assert.match(exit.spawnError ?? '', /ENOENT/);
  assert.equal(await encoder.send(new Uint8Array(12)), false);
});

test('kill stops ffmpeg mid-stream; a frame of the wrong size is refused', async () => {
  const ffmpeg = await findFfmpeg();
  const encoder = startEncoder(ffmpeg.path, copyArgs(join(dir, 'killed.raw')), 64 * 48 * 3);
  await assert.rejects(encoder.send(new Uint8Array(10)), /a frame of 10 bytes, expected 9216/);
  assert.equal(await encoder.send(testCard(64, 48).data), true);
  encoder.kill();
  const exit = await encoder.exited;
  assert.equal(exit.code, null);
  assert.equal(encoder.hasExited, true);
});
