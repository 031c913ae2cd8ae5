/** The result cache: `cache.stats`, `cache.clear`. */
import { METHODS } from '../../client/protocol.js';
import type { MethodEntries } from './method.js';

export const cacheMethods = {
  'cache.stats': {
    params: METHODS['cache.stats'].params,
    handle: async (_params, { engine }) => {
      // Other engines on the same folder add and remove entries too.
      await engine.cache.reconcile();
      return engine.cache.stats();
    },
  },
  'cache.clear': { params: METHODS['cache.clear'].params, handle: (_params, { engine }) => engine.cache.clear() },
} satisfies MethodEntries;
