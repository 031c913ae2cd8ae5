/** The result cache: `cache.stats`, `cache.clear`. */
import { METHODS } from '../../client/protocol.js';
import type { MethodEntries } from './method.js';

export const cacheMethods = {
  'cache.stats': { params: METHODS['cache.stats'].params, handle: (_params, { engine }) => engine.cache.stats() },
  'cache.clear': { params: METHODS['cache.clear'].params, handle: (_params, { engine }) => engine.cache.clear() },
} satisfies MethodEntries;
