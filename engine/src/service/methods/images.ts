/** `image.put`: an upload (an encoded file, or raw pixels with their layout) as base64 in the message, or (stdio only) a path on the engine's disk. */
import { basename } from 'node:path';
import { METHODS } from '../../client/protocol.js';
import { readInputFile } from '../../io/input-file.js';
import { ServiceError } from '../errors.js';
import type { MethodEntries } from './method.js';

export const imageMethods = {
  'image.put': {
    params: METHODS['image.put'].params,
    // base64 inflates by 4/3; a little room for the envelope.
    maxMessageBytes: (limits) => Math.ceil((limits.maxUploadBytes * 4) / 3) + 64 * 1024,
    handle: async (params, { engine, session }) => {
      if ('path' in params) {
        if (session.transport !== 'stdio') {
          throw new ServiceError('INVALID_REQUEST', 'image.put with a path is only available over stdio.', {
            hint: 'Send the bytes instead: HTTP POST /images, or image.put {data: base64}.',
          });
        }
        // A regular file only, at most the upload limit: a device or FIFO path must not exhaust or block the engine.
        const path = params.path;
        // Messages about it name the file.
        return engine.putImage(async () => ({ bytes: await readInputFile(path, { maxBytes: engine.limits.maxUploadBytes }), name: basename(path) }));
      }
      const bytes = base64Bytes(params.data);
      if (!bytes) {
        throw new ServiceError('INVALID_REQUEST', 'image.put data is not valid base64.', { hint: 'Encode the file bytes with standard base64 (RFC 4648).' });
      }
      return engine.putImage(() => Promise.resolve(bytes), params.pixels);
    },
  },
} satisfies MethodEntries;

/**
 * The bytes of base64 `data` (line breaks allowed), or undefined when it is not base64 or empty. Node's
 * decoder skips what is not in the alphabet, so unbroken base64 is recognised by its decoded length alone;
 * only other text pays for a strict comparison (on the main thread, which every client waits on: a
 * re-encode and compare takes about 0.1 s per 30 MB).
 */
function base64Bytes(data: string): Buffer | undefined {
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0) return undefined;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  if (data.length % 4 === 0 && bytes.length === (data.length / 4) * 3 - padding) return bytes;
  return bytes.toString('base64').replace(/=+$/, '') === data.replace(/\s+/g, '').replace(/=+$/, '') ? bytes : undefined;
}
