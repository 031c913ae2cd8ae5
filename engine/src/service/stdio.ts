/**
 * The stdio carrier: newline-delimited JSON-RPC on stdin/stdout, logs on stderr. Lines longer than the
 * hard limit are skipped (answered with BODY_TOO_LARGE) without buffering them whole.
 */
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Engine } from './engine.js';
import { serviceError, toRpcError } from './errors.js';
import { ReadGate } from './read-gate.js';
import { maxMessageBytes } from './rpc.js';

export interface StdioOptions {
  readonly input: Readable;
  readonly output: Writable;
}

/**
 * Serves one session over the given streams. Resolves when the input ends (the parent closed stdin or
 * exited) after every pending reply has been written.
 */
export function serveStdio(engine: Engine, options: StdioOptions): Promise<void> {
  const { input, output } = options;
  const write = (text: string): void => {
    if (!output.writable) return;
    output.write(text + '\n');
  };
  const session = engine.openSession('stdio', (text) => write(text), true);
  const hardMax = maxMessageBytes(engine.limits);
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  let skipping = false;
  const pending = new Set<Promise<void>>();

  // Large messages (base64 uploads) are read one at a time: stdin stays unread meanwhile (read-gate.ts).
  const gate = new ReadGate(
    () => input.pause(),
    () => input.resume(),
  );

  const handle = (line: string): void => {
    if (line.trim() === '') return;
    const bytes = Buffer.byteLength(line);
    const p = gate
      .track(bytes, engine.handleText(session, line, bytes))
      .then((reply) => {
        if (reply !== undefined) write(reply);
      })
      .catch(() => undefined)
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  return new Promise<void>((resolve) => {
    input.on('data', (chunk: Buffer | string) => {
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      while (text.length > 0) {
        const nl = text.indexOf('\n');
        if (skipping) {
          if (nl < 0) return;
          skipping = false;
          text = text.slice(nl + 1);
          continue;
        }
        if (nl < 0) {
          buffer += text;
          if (buffer.length > hardMax) {
            buffer = '';
            skipping = true;
            write(JSON.stringify({ jsonrpc: '2.0', id: null, error: toRpcError(serviceError('BODY_TOO_LARGE', `A message is longer than ${hardMax} bytes; it was skipped.`)) }));
          }
          return;
        }
        const line = buffer + text.slice(0, nl);
        buffer = '';
        text = text.slice(nl + 1);
        handle(line.replace(/\r$/, ''));
      }
    });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (!skipping && buffer.trim() !== '') handle(buffer);
      buffer = '';
      void Promise.allSettled([...pending]).then(() => {
        engine.closeSession(session);
        resolve();
      });
    };
    input.on('end', end);
    input.on('close', end);
    input.on('error', end);
  });
}
