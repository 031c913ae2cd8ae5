/**
 * Moving image bytes: HTTP uploads and downloads with the pairing token (WebSocket transport), and
 * base64 for the stdio transport, which has no HTTP side.
 */
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { EngineError } from './protocol.js';
import { toEngineError } from './errors.js';

/**
 * Fetches `url` with the token as a Bearer header; an unreachable engine is DISCONNECTED and an error
 * answer becomes the EngineError its JSON-RPC error body describes.
 */
export async function engineHttp(fetchImpl: typeof fetch, token: string | undefined, url: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetchImpl(url, { ...init, headers });
  } catch (error) {
    throw new EngineError('DISCONNECTED', `Cannot reach the engine at ${url}: ${String(error)}`, { rpcCode: -1 });
  }
  if (!response.ok) {
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    const error = (body as { error?: { code?: number; message?: string; data?: unknown } } | undefined)?.error;
    throw toEngineError(new JSONRPCErrorException(error?.message ?? `HTTP ${response.status}`, error?.code ?? -32603, error?.data));
  }
  return response;
}

/** base64 without Node's Buffer (browsers and UXP have btoa). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Slices sent per read of an upload stream (see Transport's `streamsUploads`). */
const UPLOAD_SLICE_BYTES = 1024 * 1024;

/** `bytes` as a stream of views into them, a slice per read (no copy): what fetch sends as they are asked for. */
export function sliceStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const end = Math.min(bytes.length, offset + UPLOAD_SLICE_BYTES);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      if (offset >= bytes.length) controller.close();
    },
  });
}
