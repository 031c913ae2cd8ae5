/**
 * The encoder thread (started by encoder.ts): runs ffmpeg and feeds its stdin from a ring of frame slots
 * in shared memory, with this thread's own event loop. On the main thread, a frame being rendered holds
 * the event loop for milliseconds, and stdin's pipe buffer holds far less than a frame: ffmpeg would
 * wait for every frame, and rendering for ffmpeg.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import type { ToEncoder, FromEncoder } from './encoder.js';

/** Enough of ffmpeg's stderr to report why it failed (the tail is where the error is). */
const STDERR_TAIL = 4000;

interface Session {
  readonly child: ChildProcess;
  readonly ring: SharedArrayBuffer;
  readonly slotBytes: number;
  stderr: string;
  spawnError?: string;
}

const port = parentPort;
if (!port) throw new Error('encoder-thread.ts runs as a worker thread (see encoder.ts)');
const sessions = new Map<number, Session>();

function post(message: FromEncoder): void {
  port!.postMessage(message);
}

function start(id: number, ffmpeg: string, args: readonly string[], ring: SharedArrayBuffer, slotBytes: number): void {
  // Own process group on POSIX: a terminal Ctrl+C goes to the whole foreground group, and ffmpeg would
  // race our cancellation by finalising a file (exit 255). We alone stop it (the `kill` message).
  const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true, detached: process.platform !== 'win32' });
  const session: Session = { child, ring, slotBytes, stderr: '' };
  sessions.set(id, session);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    session.stderr = (session.stderr + chunk).slice(-STDERR_TAIL);
  });
  // EPIPE when ffmpeg dies early: its exit code and stderr tell the real story.
  child.stdin!.on('error', () => undefined);
  const exit = (code: number | null): void => {
    if (!sessions.delete(id)) return;
    post({ type: 'exit', id, code, stderr: session.stderr, ...(session.spawnError === undefined ? {} : { spawnError: session.spawnError }) });
  };
  child.on('error', (error) => {
    session.spawnError = error.message;
    // A process that never started has no exit code: report null now. (Node 20 also sends 'close', with
    // the errno as its code, e.g. -2; Node does not promise 'close' or 'exit' after an error, and exit()
    // reports once.)
    if (child.pid === undefined) exit(null);
  });
  child.on('close', exit);
}

port.on('message', (message: ToEncoder) => {
  if (message.type === 'start') {
    start(message.id, message.ffmpeg, message.args, message.ring, message.slotBytes);
    return;
  }
  const session = sessions.get(message.id);
  if (!session) return;
  switch (message.type) {
    case 'frame': {
      const bytes = new Uint8Array(session.ring, message.slot * session.slotBytes, session.slotBytes);
      // The callback comes once the bytes are in the pipe (or the write failed): the slot is free again.
      session.child.stdin!.write(bytes, () => post({ type: 'written', id: message.id, slot: message.slot }));
      break;
    }
    case 'end':
      session.child.stdin!.end();
      break;
    case 'kill':
      session.child.kill('SIGKILL');
      break;
  }
});
