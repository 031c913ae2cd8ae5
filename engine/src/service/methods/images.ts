/** `image.put`: an upload as base64 in the message, or (stdio only) a path on the engine's disk. */
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
        return engine.putImage(() => readInputFile(path, { maxBytes: engine.limits.maxUploadBytes }));
      }
      const bytes = Buffer.from(params.data, 'base64');
      if (bytes.length === 0 || bytes.toString('base64').replace(/=+$/, '') !== params.data.replace(/\s+/g, '').replace(/=+$/, '')) {
        throw new ServiceError('INVALID_REQUEST', 'image.put data is not valid base64.', { hint: 'Encode the file bytes with standard base64 (RFC 4648).' });
      }
      return engine.putImage(() => Promise.resolve(bytes));
    },
  },
} satisfies MethodEntries;
