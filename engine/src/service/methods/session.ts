/** Pairing and discovery: `hello` (the token check of WebSocket clients) and `engine.info`. */
import { METHODS, PROTOCOL_VERSION } from '../../client/protocol.js';
import { ServiceError } from '../errors.js';
import { tokensEqual } from '../security.js';
import type { MethodEntries } from './method.js';

export const sessionMethods = {
  hello: {
    params: METHODS.hello.params,
    handle: (params, { engine, session }) => {
      if (params.protocol !== PROTOCOL_VERSION) {
        throw new ServiceError('VERSION_MISMATCH', `This engine speaks protocol ${PROTOCOL_VERSION}; the client speaks ${params.protocol}.`, {
          hint: params.protocol < PROTOCOL_VERSION ? 'Update the client (panel or extension).' : 'Update the engine (npm install -g paints-undo@latest).',
          details: { engine: PROTOCOL_VERSION, client: params.protocol },
        });
      }
      if (!session.authenticated) {
        if (!tokensEqual(params.token, engine.token)) {
          throw new ServiceError('UNAUTHORIZED', params.token === undefined ? 'This connection needs the engine token.' : 'The token is wrong.', {
            hint: 'Pair again: copy the token the engine printed (or from its token file) into the client.',
          });
        }
        engine.authenticate(session);
      }
      if (params.client) session.clientName = params.client;
      return engine.info(session);
    },
  },
  'engine.info': {
    params: METHODS['engine.info'].params,
    handle: (_params, { engine, session }) => engine.info(session),
  },
} satisfies MethodEntries;
