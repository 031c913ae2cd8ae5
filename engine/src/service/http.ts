/**
 * The network listener: WebSocket (JSON-RPC) at /ws and plain HTTP for binary bodies on one port.
 *   POST /images                      upload an image (raw bytes) -> image.put result
 *   GET|HEAD /results/<id>/<file>     download a result (Range supported), token or ?sig= required
 * Every request passes the Host check (DNS rebinding), the Origin check (cross-site pages) and the token
 * check before anything else happens. CORS headers are sent only to allowed origins, so a foreign page
 * cannot read a response even where a request gets through the browser.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { RawPixelsSchema, type ProtocolErrorCode, type RawPixels } from '../client/protocol.js';
import type { Engine } from './engine.js';
import type { UploadBytes } from './images.js';
import { ServiceError, httpStatusOf, serviceError, toRpcError } from './errors.js';
import { AddressRateLimits, FORBIDDEN_HINT, checkHost, checkOrigin, checkSignature, isLoopbackHost, requestUrl, tokenFromHeaders, tokensEqual, type SecurityOptions } from './security.js';
import { DEFAULT_UPLOAD_IDLE_TIMEOUT_MS, MIN_UPLOAD_BYTES_PER_SECOND, belowUploadPace } from './read-gate.js';
import type { UploadProgress } from './upload-ahead.js';
import { webSocketEndpoint, type WebSocketEndpoint, type WebSocketOptions } from './websocket.js';

export interface ListenOptions extends WebSocketOptions {
  readonly port: number;
  readonly host: string;
  readonly allowOrigins?: readonly string[];
  readonly allowHosts?: readonly string[];
}
/** Where to go instead of a target the engine does not serve (or that is not a URL at all). */
const ENDPOINTS_HINT = 'The engine serves POST /images, GET /results/<id>/<file> and the WebSocket at /ws.';

export interface Listener {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(engine: Engine, options: ListenOptions): Promise<Listener> {
  const server = createServer();
  // Completed with the real port once bound (requests only arrive after that).
  const security: { -readonly [K in keyof SecurityOptions]: SecurityOptions[K] } = {
    token: engine.token,
    port: options.port,
    bindHost: options.host,
    allowOrigins: options.allowOrigins ?? [],
    allowHosts: options.allowHosts ?? [],
  };
  const sockets = new Set<Duplex>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  // HTTP requests are rate limited per client address (WebSocket messages per connection, in rpc.ts), from
  // two budgets: requests with the token or a valid signature, and all others (refused, or CORS preflight).
  // A flood of refused requests (a web page, a process without the token) never spends the paired
  // clients' budget, so their uploads and signed downloads keep working through it.
  const budgets = { paired: new AddressRateLimits(engine.limits.maxRequestsPerSecond), other: new AddressRateLimits(engine.limits.maxRequestsPerSecond) };
  server.on('request', (req, res) => {
    const url = requestUrl(req.url);
    if (!url) {
      req.resume();
      res.setHeader('Connection', 'close');
      const error = new ServiceError('INVALID_REQUEST', 'The request target is not a valid URL path.', { hint: ENDPOINTS_HINT });
      if (budgets.other.take(req.socket.remoteAddress ?? '?')) sendError(res, error, engine.log);
      else res.destroy();
      return;
    }
    const access = checkAccess(engine, security, req, url);
    if (!(access.authorized ? budgets.paired : budgets.other).take(req.socket.remoteAddress ?? '?')) {
      req.resume();
      sendError(res, new ServiceError('RATE_LIMITED', `More than ${engine.limits.maxRequestsPerSecond} HTTP requests per second.`, { hint: 'Slow down and retry.' }), engine.log);
      return;
    }
    handleHttp(engine, access, req, res, options.uploadIdleTimeoutMs ?? DEFAULT_UPLOAD_IDLE_TIMEOUT_MS).catch((error: unknown) => sendError(res, error, engine.log));
  });

  const webSockets = webSocketEndpoint(engine, security, options);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => webSockets.upgrade(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  security.port = address.port;
  const hostForUrl = isLoopbackHost(options.host) || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${hostForUrl.includes(':') ? `[${hostForUrl}]` : hostForUrl}:${address.port}`;
  engine.httpBase = url;
  return {
    port: address.port,
    url,
    close: () => closeServer(server, webSockets, sockets),
  };
}

/** What a request may do, decided from its headers and URL alone (cheap: before any rate limit is spent). */
interface Access {
  readonly url: URL;
  /** The result file the URL names, if it names one. */
  readonly result: { readonly key: string; readonly name: string } | undefined;
  /** Why the Host or Origin is refused (403), if it is. */
  readonly denied: string | undefined;
  /** The token or a valid signature came with it. */
  readonly authorized: boolean;
  readonly unauthorized: ServiceError | undefined;
}

function checkAccess(engine: Engine, security: SecurityOptions, req: IncomingMessage, url: URL): Access {
  const m = /^\/results\/([0-9a-f]{64})\/([A-Za-z0-9._-]{1,100})$/.exec(url.pathname);
  const result = m ? { key: m[1]!, name: m[2]! } : undefined;
  const denied = checkHost(req.headers.host, security) ?? checkOrigin(req.headers.origin, security);
  const headerToken = tokenFromHeaders(req.headers);
  if (denied === undefined && tokensEqual(headerToken, engine.token)) return { url, result, denied, authorized: true, unauthorized: undefined };
  const signature = result ? checkSignature(engine.token, url.pathname, url.searchParams) : 'missing';
  if (denied === undefined && signature === undefined) return { url, result, denied, authorized: true, unauthorized: undefined };
  const hint = 'Send "Authorization: Bearer <token>" (`paints-undo token` prints it), or use the signed URL from a job result.';
  const unauthorized =
    headerToken !== undefined
      ? new ServiceError('UNAUTHORIZED', 'The token is wrong.', { hint })
      : signature === 'expired'
        ? new ServiceError('UNAUTHORIZED', 'This signed URL has expired.', { hint: 'Ask the engine for the job again (jobs.get, or run it again: it comes from the cache) for a fresh URL.' })
        : signature === 'invalid'
          ? new ServiceError('UNAUTHORIZED', 'The signature of this URL is wrong (or the URL was changed).', { hint })
          : new ServiceError('UNAUTHORIZED', 'This request needs the engine token.', { hint });
  return { url, result, denied, authorized: false, unauthorized };
}

async function handleHttp(engine: Engine, access: Access, req: IncomingMessage, res: ServerResponse, uploadIdleMs: number): Promise<void> {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Even a result URL with a valid signature cannot be embedded by a page from another origin.
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  if (access.denied) throw new ServiceError('FORBIDDEN', `Refused: ${access.denied}.`, { hint: FORBIDDEN_HINT });
  const origin = req.headers.origin;
  if (origin !== undefined) {
    // Only origins that passed the check get here (listed with --allow-origin, or application schemes):
    // they may read responses and send the token header, which needs CORS in browsers.
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, POST',
        'Access-Control-Allow-Headers': 'authorization, content-type, range, x-paints-undo-token',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
  }
  if (access.unauthorized) throw access.unauthorized;
  const { url, result } = access;
  if (engine.isClosing) throw serviceError('SHUTTING_DOWN', 'The engine is shutting down.');
  if (url.pathname === '/images') {
    if (req.method !== 'POST') throw new ServiceError('INVALID_REQUEST', `${req.method} /images is not supported; use POST with the image bytes as the body.`);
    const pixels = rawPixelsOf(url);
    const limit = pixels ? rawUploadBytes(pixels, engine.limits.maxUploadBytes) : engine.limits.maxUploadBytes;
    // The body is read when the upload's turn comes: until then it waits in the socket, not in memory.
    // Raw pixels, of a size known in advance, are read straight into shared memory that the decoding
    // worker reads without a copy.
    const result = await engine.putImage(
      () => readBody(req, limit, uploadIdleMs, (error) => sendError(res, error, engine.log), pixels ? (buffer) => engine.pool.readAhead(buffer, pixels) : undefined),
      pixels,
    );
    sendJson(res, 200, result);
    return;
  }
  if (result) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ServiceError('INVALID_REQUEST', `${req.method} is not supported on results; use GET.`);
    await sendResult(engine, req, res, result.key, result.name);
    return;
  }
  throw serviceError('NOT_FOUND', `Nothing at ${url.pathname}.`, ENDPOINTS_HINT);
}

/** The raw-pixel layout of `POST /images?width=W&height=H&channels=C`; undefined for an encoded file (none of them given). */
function rawPixelsOf(url: URL): RawPixels | undefined {
  const fields = ['width', 'height', 'channels'] as const;
  const given = fields.filter((f) => url.searchParams.has(f));
  if (given.length === 0) return undefined;
  const usage = 'POST /images?width=W&height=H&channels=3|4 with exactly W x H x channels bytes of 8-bit RGB or RGBA (rows top to bottom), or POST /images with an encoded file (PNG, JPEG, ...) and no query.';
  if (given.length < fields.length) {
    const missing = fields.filter((f) => !given.includes(f)).join(' and ');
    throw new ServiceError('INVALID_REQUEST', `POST /images with raw pixels needs width, height and channels together; ${missing} ${missing.includes(' and ') ? 'are' : 'is'} missing.`, { hint: usage });
  }
  const raw = Object.fromEntries(fields.map((f) => [f, url.searchParams.get(f) ?? '']));
  const parsed = RawPixelsSchema.safeParse(Object.fromEntries(fields.map((f) => [f, /^[0-9]{1,9}$/.test(raw[f]!) ? Number(raw[f]) : raw[f]])));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'query');
    const expected = field === 'channels' ? '3 (RGB) or 4 (RGBA)' : 'an integer from 1 to 1000000';
    throw new ServiceError('INVALID_REQUEST', `POST /images: ${field} must be ${expected}, got ${JSON.stringify(raw[field] ?? '')}.`, { hint: usage });
  }
  return parsed.data;
}

/** The exact body size of raw pixels, refused before reading when it is over the upload limit. */
function rawUploadBytes(pixels: RawPixels, maxUploadBytes: number): number {
  const bytes = pixels.width * pixels.height * pixels.channels;
  if (bytes > maxUploadBytes) {
    throw serviceError(
      'BODY_TOO_LARGE',
      `Raw pixels of ${pixels.width}x${pixels.height} with ${pixels.channels} channels are ${bytes} bytes; the upload limit is ${maxUploadBytes}.`,
      'Send the image as PNG instead (POST /images without a query), or start the engine with a larger --max-upload-mb.',
    );
  }
  return bytes;
}

/**
 * The request body, at most `limit` bytes. With `rawInto`: raw pixels, `limit` is the expected size, read
 * into one SharedArrayBuffer, which `rawInto` gets before a byte is written there; for a big one it returns
 * where to report how far the read got (an idle worker faults the memory in ahead and hashes behind, see
 * upload-ahead.ts). An encoded file is hashed as it arrives, while the client is still sending (the image
 * store looks it up by that hash).
 */
async function readBody(
  req: IncomingMessage,
  limit: number,
  idleMs: number,
  answer: (error: ServiceError) => void,
  rawInto?: (buffer: SharedArrayBuffer) => UploadProgress | undefined,
): Promise<UploadBytes> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  // Raw pixels have an exact size: more is a body that does not match its width, height and channels.
  const tooLarge = (): ServiceError =>
    rawInto
      ? serviceError(
          'BODY_TOO_LARGE',
          `The raw pixels are more than the ${limit} bytes their width, height and channels make.`,
          'Send exactly width x height x channels bytes (rows top to bottom, 8 bits per channel), or correct the width, height or channels in the query.',
        )
      : serviceError('BODY_TOO_LARGE', `The upload is larger than the ${limit}-byte limit.`, 'Export the artwork at a smaller size (4096 px on the long side is plenty).');
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  const hash = rawInto ? undefined : createHash('sha256');
  const shared = rawInto ? new SharedArrayBuffer(limit) : undefined;
  const into = shared ? new Uint8Array(shared) : undefined;
  const progress = shared ? rawInto?.(shared) : undefined;
  let size = 0;
  // Counted from now, when the upload's turn has come (not while it waited to be admitted). A stalled
  // sender is cut off: it is not reading an answer either. So is one that trickles (a byte now and then
  // resets the idle timer): past a grace period, the body must arrive at a minimum average rate.
  let idle = false;
  let slow = false;
  const stalled = (): void => {
    idle = true;
    req.destroy();
  };
  const socket = req.socket;
  socket.setTimeout(idleMs, stalled);
  const started = Date.now();
  const tooSlow = (): ServiceError =>
    serviceError(
      'INVALID_REQUEST',
      `The upload was too slow: ${size} bytes in ${Math.round((Date.now() - started) / 1000)} s; uploads must average at least ${MIN_UPLOAD_BYTES_PER_SECOND / 1024} KiB/s (others wait for their turn).`,
      'Send the whole file in one request, as fast as the connection allows; retry on a better connection.',
    );
  const pace = setInterval(() => {
    const seconds = (Date.now() - started) / 1000;
    if (slow || !belowUploadPace(size, seconds, idleMs)) return;
    // A trickling sender may be reading: it is told why, then cut off.
    slow = true;
    answer(tooSlow());
    setTimeout(stalled, 200).unref();
  }, 1000);
  pace.unref();
  try {
    for await (const chunk of req) {
      const part = chunk as Buffer;
      if (size + part.length > limit) {
        req.resume();
        throw tooLarge();
      }
      if (into) into.set(part, size);
      else chunks.push(part);
      hash?.update(part);
      size += part.length;
      progress?.wrote(size);
    }
  } catch (error) {
    progress?.end(false);
    if (!idle) {
      // The client went away mid-body: its mistake (or its user's Ctrl+C), not the engine's.
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') {
        throw serviceError('INVALID_REQUEST', `The upload was interrupted after ${size} bytes: the client closed the connection.`, 'Send the whole file again.');
      }
      throw error;
    }
  } finally {
    clearInterval(pace);
    socket.setTimeout(0);
    socket.off('timeout', stalled);
  }
  // Only a body of the announced size is hashed to the end by its reader (the decode refuses any other).
  progress?.end(!idle && size === limit);
  if (slow) throw tooSlow();
  if (idle) throw serviceError('INVALID_REQUEST', `The upload stalled: no bytes arrived for ${idleMs / 1000} s.`, 'Send the whole file in one request; if the network is slow, retry.');
  if (size === 0) throw new ServiceError('INVALID_REQUEST', 'The upload is empty.', { hint: 'Send the encoded image (PNG, JPEG, ...) as the request body.' });
  return { bytes: into ? into.subarray(0, size) : Buffer.concat(chunks), ...(hash ? { sha256: hash.digest('hex') } : {}), ...(progress ? { ahead: progress } : {}) };
}

async function sendResult(engine: Engine, req: IncomingMessage, res: ServerResponse, key: string, name: string): Promise<void> {
  const entry = await engine.cache.get(key, { count: false });
  const file = entry?.files.find((f) => f.name === name);
  const notFound = (): ServiceError => serviceError('NOT_FOUND', `No result ${key.slice(0, 12)}…/${name}: it was evicted from the cache or never existed.`, 'Run the job again; the engine recomputes it.');
  if (!entry || !file) throw notFound();
  const path = engine.cache.filePath(key, name);
  const size = (await stat(path).catch(() => undefined))?.size;
  if (size === undefined) throw notFound();
  res.setHeader('Content-Type', file.mime);
  res.setHeader('Accept-Ranges', 'bytes');
  // Content-addressed: a URL's bytes never change.
  res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
  res.setHeader('ETag', `"${file.sha256}"`);
  let start = 0;
  let end = size - 1;
  // One byte range is served as asked. A unit other than bytes must be ignored (RFC 9110 14.2), and so are
  // several ranges (a server may): the whole file, 200.
  const asked = req.headers.range?.trim();
  const range = asked !== undefined && /^bytes=/i.test(asked) && !asked.includes(',') ? asked : undefined;
  let status = 200;
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/i.exec(range);
    const valid = m !== null && (m[1] !== '' || m[2] !== '');
    if (valid && m) {
      if (m[1] === '') {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(size - 1, Number(m[2]));
      }
    }
    if (!valid || start > end || start >= size) {
      res.setHeader('Content-Range', `bytes */${size}`);
      sendJson(res, 416, { error: toRpcError(new ServiceError('INVALID_REQUEST', `The range ${range} is not satisfiable for ${size} bytes.`, { hint: 'Ask for one range inside the file, e.g. "bytes=0-1023".' })) });
      return;
    }
    status = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  }
  res.writeHead(status, { 'Content-Length': String(end - start + 1) });
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  // Large reads: a 3 MB frame goes out in a few writes instead of ~50 (64 KiB default). pipeline closes the
  // file whichever side ends first, also when the client left while the entry was looked up above (a
  // browser seeking a video aborts requests all the time): a 'close' listener added now would never fire.
  await pipeline(createReadStream(path, { start, end, highWaterMark: 1024 * 1024 }), res).catch(() => res.destroy());
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown, log: (message: string) => void): void {
  const rpc = toRpcError(error, log);
  const status = httpStatusOf(rpc.data.code as ProtocolErrorCode);
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="paints-undo"');
  sendJson(res, status, { error: rpc });
}

async function closeServer(server: Server, webSockets: WebSocketEndpoint, sockets: Set<Duplex>): Promise<void> {
  const socketsClosed = webSockets.close();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive sockets would hold close() open.
    setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, 500).unref();
  });
  await socketsClosed;
}
