/**
 * The engine's protocol methods: name -> params schema -> handler, one module per method area. A new
 * method is a schema in client/protocol.ts (METHODS), one entry in an area module here, and a row in
 * PROTOCOL.md (a test checks the document against this table both ways).
 */
import { cacheMethods } from './cache.js';
import { imageMethods } from './images.js';
import { jobMethods } from './jobs.js';
import type { MethodTable } from './method.js';
import { sessionMethods } from './session.js';

export const METHOD_TABLE: MethodTable = {
  ...sessionMethods,
  ...imageMethods,
  ...jobMethods,
  ...cacheMethods,
};

export type { EngineServices, MethodContext, MethodEntry, MethodParamsSchema, MethodTable } from './method.js';
