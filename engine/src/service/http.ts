/**
 * The network listener: WebSocket (JSON-RPC) at /ws and plain HTTP for binary bodies on one port.
 *   POST /images                      upload an image (raw bytes) -> image.put result
 *   GET|HEAD /results/<id>/<file>     download a result (Range supported), token or ?sig= required
 * Every request passes the Host check (DNS rebinding), the Origin check (cross-site pages) and the token
 * check before anything else happens. CORS headers are sent only to allowed origins, so a foreign page
 * cannot read a response even where a request gets through the browser.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX, type ProtocolErrorCode, type ServiceErrorCode } from '../client/protocol.js';
import type { Engine } from './engine.js';
import type { Session } from './session.js';
import { ServiceError, httpStatusOf, serviceError, toRpcError } from './errors.js';
import { RateLimiter, checkHost, checkOrigin, isLoopbackHost, signatureValid, tokenFromHeaders, tokensEqual, type SecurityOptions } from './security.js';

export interface ListenOptions {
  readonly port: number;
  readonly host: string;
  readonly allowOrigins?: readonly string[];
  readonly allowHosts?: readonly string[];
  /** Unauthenticated WebSocket connections are closed after this long (ms). */
  readonly authTimeoutMs?: number;
}

export interface Listener {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Progress events are dropped for a client that has this much unsent data (a stalled panel). */
const BACKPRESSURE_BYTES = 8 * 1024 * 1024;

export async function listen(engine: Engine, options: ListenOptions): Promise<Listener> {
  const server = createServer();
  const wss = new WebSocketServer({
    noServer: true,
    // Hard cap: a base64 image.put at the upload limit plus envelope. Larger frames close the socket (1009).
    maxPayload: Math.ceil((engine.limits.maxUploadBytes * 4) / 3) + 128 * 1024,
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
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

  // HTTP requests are rate limited per client address (WebSocket messages per connection, in the engine).
  const limiters = new Map<string, RateLimiter>();
  server.on('request', (req, res) => {
    const address = req.socket.remoteAddress ?? '?';
    let limiter = limiters.get(address);
    if (!limiter) {
      if (limiters.size > 1000) limiters.clear();
      limiter = new RateLimiter(engine.limits.maxRequestsPerSecond);
      limiters.set(address, limiter);
    }
    if (!limiter.take()) {
      req.resume();
      sendError(res, new ServiceError('RATE_LIMITED', `More than ${engine.limits.maxRequestsPerSecond} HTTP requests per second.`, { hint: 'Slow down and retry.' }), engine.log);
      return;
    }
    handleHttp(engine, security, req, res).catch((error: unknown) => sendError(res, error, engine.log));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const refuse = (status: number, code: ServiceErrorCode, message: string): void => {
      const body = JSON.stringify({ error: toRpcError(new ServiceError(code, message)) });
      socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    const denied = checkHost(req.headers.host, security) ?? checkOrigin(req.headers.origin, security);
    if (denied) return refuse(403, 'FORBIDDEN', `Refused: ${denied}.`);
    if (url.pathname !== '/ws') return refuse(404, 'NOT_FOUND', 'The WebSocket endpoint is /ws.');
    if (engine.isClosing) return refuse(503, 'SHUTTING_DOWN', 'The engine is shutting down.');
    if (engine.sessionCount >= engine.limits.maxConnections) {
      return refuse(503, 'TOO_MANY_CONNECTIONS', `The engine already serves ${engine.limits.maxConnections} connections.`);
    }
    // Node clients may authenticate in the handshake (header or subprotocol); browsers use hello.
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const fromProtocol = offered.find((p) => p.startsWith(WS_TOKEN_SUBPROTOCOL_PREFIX))?.slice(WS_TOKEN_SUBPROTOCOL_PREFIX.length);
    const given = tokenFromHeaders(req.headers) ?? fromProtocol;
    if (given !== undefined && !tokensEqual(given, engine.token)) return refuse(401, 'UNAUTHORIZED', 'The token is wrong.');
    // The Host passed checkHost: it is this engine as the client reached it (directly or through a proxy).
    const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
    const base = req.headers.host ? `${proto}://${req.headers.host}` : undefined;
    wss.handleUpgrade(req, socket, head, (ws) => attach(engine, ws, given !== undefined, options.authTimeoutMs ?? 10_000, base));
  });

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
    close: () => closeServer(server, wss, sockets),
  };
}

function attach(engine: Engine, ws: WebSocket, authenticated: boolean, authTimeoutMs: number, base: string | undefined): void {
  const session: Session = engine.openSession(
    'websocket',
    (text, droppable) => {
      if (ws.readyState !== ws.OPEN) return;
      if (droppable && ws.bufferedAmount > BACKPRESSURE_BYTES) return;
      ws.send(text);
    },
    authenticated,
  );
  if (base) session.httpBase = base;
  const timer = setTimeout(() => {
    if (!session.authenticated) ws.close(4401, 'no hello with a valid token within the time limit');
  }, authTimeoutMs);
  timer.unref();
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: toRpcError(new ServiceError('INVALID_REQUEST', 'Binary WebSocket messages are not part of the protocol.', { hint: 'Send JSON-RPC as text; upload images with HTTP POST /images.' })) }));
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    engine.handleText(session, text).then(
      (reply) => {
        if (reply !== undefined && ws.readyState === ws.OPEN) ws.send(reply);
      },
      () => undefined,
    );
  });
  ws.on('error', () => undefined);
  ws.on('close', () => {
    clearTimeout(timer);
    engine.closeSession(session);
  });
}

async function handleHttp(engine: Engine, security: SecurityOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // Even a result URL with a valid signature cannot be embedded by a page from another origin.
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  const denied = checkHost(req.headers.host, security) ?? checkOrigin(req.headers.origin, security);
  if (denied) throw new ServiceError('FORBIDDEN', `Refused: ${denied}.`);
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
  const url = new URL(req.url ?? '/', 'http://x');
  const results = /^\/results\/([0-9a-f]{64})\/([A-Za-z0-9._-]{1,100})$/.exec(url.pathname);
  const headerToken = tokenFromHeaders(req.headers);
  const authorized = tokensEqual(headerToken, engine.token) || (results !== null && signatureValid(engine.token, url.pathname, url.searchParams.get('sig')));
  if (!authorized) {
    throw new ServiceError('UNAUTHORIZED', headerToken === undefined ? 'This request needs the engine token.' : 'The token is wrong.', {
      hint: 'Send "Authorization: Bearer <token>" (the token file path is printed when the engine starts), or use the signed URL from a job result.',
    });
  }
  if (engine.isClosing) throw serviceError('SHUTTING_DOWN', 'The engine is shutting down.');
  if (url.pathname === '/images') {
    if (req.method !== 'POST') throw new ServiceError('INVALID_REQUEST', `${req.method} /images is not supported; use POST with the image bytes as the body.`);
    const bytes = await readBody(req, engine.limits.maxUploadBytes);
    const result = await engine.putImage(bytes);
    sendJson(res, 200, result);
    return;
  }
  if (results) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ServiceError('INVALID_REQUEST', `${req.method} is not supported on results; use GET.`);
    await sendResult(engine, req, res, results[1]!, results[2]!);
    return;
  }
  throw serviceError('NOT_FOUND', `Nothing at ${url.pathname}.`, 'The engine serves POST /images, GET /results/<id>/<file> and the WebSocket at /ws.');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooLarge = (): ServiceError =>
    serviceError('BODY_TOO_LARGE', `The upload is larger than the ${limit}-byte limit.`, 'Export the artwork at a smaller size (4096 px on the long side is plenty).');
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) throw new ServiceError('INVALID_REQUEST', 'The upload is empty.', { hint: 'Send the encoded image (PNG, JPEG, ...) as the request body.' });
  return Buffer.concat(chunks);
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
  const range = req.headers.range;
  let status = 200;
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
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
  await new Promise<void>((resolve) => {
    // Large reads: a 3 MB frame goes out in a few writes instead of ~50 (64 KiB default).
    const stream = createReadStream(path, { start, end, highWaterMark: 1024 * 1024 });
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
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

function statusText(status: number): string {
  return { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
}

async function closeServer(server: Server, wss: WebSocketServer, sockets: Set<Duplex>): Promise<void> {
  for (const client of wss.clients) client.close(1001, 'engine shutting down');
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive sockets would hold close() open.
    setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, 500).unref();
  });
  for (const client of wss.clients) client.terminate();
  wss.close();
}
