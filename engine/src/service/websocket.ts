/**
 * WebSocket sessions on the listener's port: the handshake checks (Host, Origin, token, slots) and one
 * engine session per socket.
 *
 * Connections without the token yet ("pending": they must send hello) have their own small budget and a
 * short deadline, and read only small messages, so a local process without the token can neither take
 * the slots of paired clients nor make the engine buffer large messages:
 * - at most `maxPendingConnections` at once; a new one closes the oldest (4429), so a real client that
 *   sends hello right after connecting still gets in during a flood;
 * - closed (4401) when hello has not succeeded within `authTimeoutMs`;
 * - messages over MAX_UNAUTHENTICATED_MESSAGE_BYTES close the socket (1009) from the frame header, unread.
 * Paired connections (token in the handshake, or after hello) count against `limits.maxConnections`.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX, type ServiceErrorCode } from '../client/protocol.js';
import type { Engine } from './engine.js';
import { ServiceError, toRpcError } from './errors.js';
import { DEFAULT_UPLOAD_IDLE_TIMEOUT_MS, LARGE_MESSAGE_BYTES, MIN_UPLOAD_BYTES_PER_SECOND, MessageSlots, ReadGate, belowUploadPace } from './read-gate.js';
import { MAX_UNAUTHENTICATED_MESSAGE_BYTES, maxMessageBytes } from './rpc.js';
import { FORBIDDEN_HINT, checkHost, checkOrigin, requestUrl, tokenFromHeaders, tokensEqual, type SecurityOptions } from './security.js';
import type { Session } from './session.js';

export interface WebSocketOptions {
  /** Connections waiting for hello are closed after this long (ms; default 5000). */
  readonly authTimeoutMs?: number;
  /** Connections waiting for hello at once (default 16); a new one closes the oldest. */
  readonly maxPendingConnections?: number;
  /**
   * An upload body that sends nothing for this long (ms; default 30 000) is dropped: uploads are admitted
   * a few at a time (Engine.putImage), and a stalled one would keep every other upload waiting. The pace
   * of uploads, HTTP bodies and large WebSocket messages alike, is checked from this long (at most
   * UPLOAD_RATE_GRACE_MS) after their turn came.
   */
  readonly uploadIdleTimeoutMs?: number;
}

export const DEFAULT_AUTH_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_PENDING_CONNECTIONS = 16;
/** Progress events are dropped for a client that has this much unsent data (a stalled panel). */
const BACKPRESSURE_BYTES = 8 * 1024 * 1024;
/**
 * A client that does not read its replies (it keeps sending, but its replies pile up unsent) is not read
 * either once this much is waiting for it, until it has taken them: without that, every message it sends
 * (a request over the rate limit, a binary frame) adds a reply in the engine's memory, without bound.
 */
const UNREAD_REPLIES_BYTES = 4 * 1024 * 1024;
/** A socket asked to close that does not answer the close handshake is dropped after this long. */
const CLOSE_GRACE_MS = 1000;

export interface WebSocketEndpoint {
  /** Handles an HTTP upgrade request for the listener. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket (1001), waiting a little for queued messages to go out. */
  close(): Promise<void>;
}

export function webSocketEndpoint(engine: Engine, security: SecurityOptions, options: WebSocketOptions = {}): WebSocketEndpoint {
  const authTimeoutMs = options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
  const maxPending = options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS;
  const uploadIdleMs = options.uploadIdleTimeoutMs ?? DEFAULT_UPLOAD_IDLE_TIMEOUT_MS;
  const wss = new WebSocketServer({
    noServer: true,
    // Every socket starts with the pre-hello limit; pairing raises it (setMessageLimit). Larger frames close
    // the socket with 1009 before their payload is buffered.
    maxPayload: MAX_UNAUTHENTICATED_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  /** Sockets waiting for hello, oldest first. */
  const pending = new Set<WebSocket>();
  /** Large messages read at once across all sockets: as many as uploads are taken at once (one per worker). */
  const largeMessages = new MessageSlots<object>(engine.pool.size);

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => undefined);
    const refuse = (status: number, code: ServiceErrorCode, message: string, hint: string): void => {
      const body = JSON.stringify({ error: toRpcError(new ServiceError(code, message, { hint })) });
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    const url = requestUrl(req.url);
    const endpoint = 'Connect to ws://127.0.0.1:<port>/ws (the port `paints-undo serve` printed).';
    if (!url) return refuse(400, 'INVALID_REQUEST', 'The request target is not a valid URL path.', endpoint);
    const denied = checkHost(req.headers.host, security) ?? checkOrigin(req.headers.origin, security);
    if (denied) return refuse(403, 'FORBIDDEN', `Refused: ${denied}.`, FORBIDDEN_HINT);
    if (url.pathname !== '/ws') return refuse(404, 'NOT_FOUND', 'The WebSocket endpoint is /ws.', endpoint);
    if (engine.isClosing) return refuse(503, 'SHUTTING_DOWN', 'The engine is shutting down.', 'Reconnect once it has been started again.');
    if (engine.connectionCount >= engine.limits.maxConnections) {
      return refuse(503, 'TOO_MANY_CONNECTIONS', `The engine already serves ${engine.limits.maxConnections} connections.`, 'Close connections you no longer use, then retry; or start the engine with a higher --max-connections.');
    }
    // Node clients may authenticate in the handshake (header or subprotocol); browsers use hello.
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const fromProtocol = offered.find((p) => p.startsWith(WS_TOKEN_SUBPROTOCOL_PREFIX))?.slice(WS_TOKEN_SUBPROTOCOL_PREFIX.length);
    const given = tokenFromHeaders(req.headers) ?? fromProtocol;
    if (given !== undefined && !tokensEqual(given, engine.token)) return refuse(401, 'UNAUTHORIZED', 'The token is wrong.', 'Use the token `paints-undo token` prints.');
    // The Host passed checkHost: it is this engine as the client reached it (directly or through a proxy).
    const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
    const base = req.headers.host ? `${proto}://${req.headers.host}` : undefined;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = attach(ws, socket, base);
      if (given !== undefined) {
        try {
          engine.authenticate(session);
        } catch {
          closeSoon(ws, 1013, 'the engine serves the maximum number of connections');
        }
        return;
      }
      if (pending.size >= maxPending) {
        const oldest = pending.values().next().value;
        if (oldest) closeSoon(oldest, 4429, 'too many connections waiting for hello; the oldest was closed');
      }
      pending.add(ws);
      const timer = setTimeout(() => {
        if (!session.authenticated) closeSoon(ws, 4401, 'no hello with a valid token within the time limit');
      }, authTimeoutMs);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    });
  };

  const attach = (ws: WebSocket, socket: Duplex, base: string | undefined): Session => {
    const session = engine.openSession(
      'websocket',
      (text, droppable) => {
        if (ws.readyState !== ws.OPEN) return;
        if (droppable && ws.bufferedAmount > BACKPRESSURE_BYTES) return;
        ws.send(text);
      },
      false,
    );
    if (base) session.httpBase = base;
    // Reading stops while either reason holds: large messages in hand, or replies the client has not taken.
    let holds = 0;
    const hold = (): void => {
      if (holds++ === 0) ws.pause();
    };
    const release = (): void => {
      if (--holds === 0) ws.resume();
    };
    // Large messages (base64 uploads) are read one at a time: the socket stays unread meanwhile (read-gate.ts).
    const gate = new ReadGate(hold, release);
    // A message that grows large is read on only with one of the engine's large-message slots, which it
    // keeps until it is handled, and at a pace that does not keep the others waiting for long (read-gate.ts
    // MessageSlots).
    let sinceMessage = 0;
    /** The large message being received: its slot token, and the timer that checks its pace once it has the slot. */
    let incoming: { readonly token: object; pace?: NodeJS.Timeout } | undefined;
    const tooSlow = (seconds: number): void => {
      const error = new ServiceError('INVALID_REQUEST', `The message was too slow: ${sinceMessage} bytes so far in ${Math.round(seconds)} s; large messages must average at least ${MIN_UPLOAD_BYTES_PER_SECOND / 1024} KiB/s (others wait for their turn).`, {
        hint: 'Send each message as fast as the connection allows, or upload images with HTTP POST /images.',
      });
      reply(JSON.stringify({ jsonrpc: '2.0', id: null, error: toRpcError(error) }));
      closeSoon(ws, 1008, 'message too slow');
    };
    const checkPace = (message: { pace?: NodeJS.Timeout }): void => {
      const since = Date.now();
      const bytes = sinceMessage;
      const pace = setInterval(() => {
        const seconds = (Date.now() - since) / 1000;
        if (!belowUploadPace(sinceMessage - bytes, seconds, uploadIdleMs)) return;
        clearInterval(pace);
        tooSlow(seconds);
      }, 1000);
      pace.unref();
      message.pace = pace;
    };
    socket.on('data', (chunk: Buffer) => {
      sinceMessage += chunk.length;
      if (incoming || sinceMessage <= LARGE_MESSAGE_BYTES) return;
      const message: { readonly token: object; pace?: NodeJS.Timeout } = { token: {} };
      incoming = message;
      const granted = (): void => {
        checkPace(message);
        release();
      };
      if (largeMessages.acquire(message.token, granted)) checkPace(message);
      else hold();
    });
    /** The slot token of the message that just ended, to be released once it is handled. */
    const messageEnded = (): object | undefined => {
      sinceMessage = 0;
      const message = incoming;
      incoming = undefined;
      if (!message) return undefined;
      // Still waiting for its slot (its end was already buffered when reading paused): reading resumes.
      if (message.pace === undefined) release();
      clearInterval(message.pace);
      return message.token;
    };
    let waitingForDrain = false;
    const reply = (text: string): void => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(text);
      if (waitingForDrain || ws.bufferedAmount <= UNREAD_REPLIES_BYTES) return;
      waitingForDrain = true;
      hold();
      const drained = (): void => {
        if (ws.readyState === ws.OPEN && ws.bufferedAmount > UNREAD_REPLIES_BYTES) {
          socket.once('drain', drained);
          return;
        }
        waitingForDrain = false;
        release();
      };
      socket.once('drain', drained);
    };
    session.onAuthenticated = () => {
      pending.delete(ws);
      setMessageLimit(ws, maxMessageBytes(engine.limits));
    };
    ws.on('message', (data, isBinary) => {
      const slot = messageEnded();
      const handled = (): void => {
        if (slot) largeMessages.release(slot);
      };
      if (isBinary) {
        handled();
        // Before hello, a client that speaks something else is dropped; after, each frame costs a request
        // of the rate limit (over it, it goes unanswered: it has no id to answer to).
        if (!session.authenticated) return closeSoon(ws, 1003, 'binary messages are not part of the protocol');
        if (session.limiter && !session.limiter.take()) return;
        reply(JSON.stringify({ jsonrpc: '2.0', id: null, error: toRpcError(new ServiceError('INVALID_REQUEST', 'Binary WebSocket messages are not part of the protocol.', { hint: 'Send JSON-RPC as text; upload images with HTTP POST /images.' })) }));
        return;
      }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      gate.track(bytes.length, engine.handleText(session, bytes.toString('utf8'), bytes.length).finally(handled)).then(
        (text) => {
          if (text !== undefined) reply(text);
          if (session.closeAfterReply) closeSoon(ws, session.closeAfterReply.code, session.closeAfterReply.reason);
        },
        () => undefined,
      );
    });
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return;
      // ws has sent the 1009 close frame and would read (and drop) the rest of the message until the peer
      // answers; stop reading it at all (after ws's own resume, on the next tick) and drop the peer soon.
      setImmediate(() => socket.pause());
      closeSoon(ws, 1009, 'message too large');
    });
    ws.on('close', () => {
      pending.delete(ws);
      // A message cut off by the close gives its slot (or its place in the queue) back; messages being
      // handled give theirs back when they are.
      const slot = messageEnded();
      if (slot) largeMessages.release(slot);
      engine.closeSession(session);
    });
    return session;
  };

  /** Closes with a code that says why; a peer that ignores the close handshake is dropped soon after. */
  const closeSoon = (ws: WebSocket, code: number, reason: string): void => {
    pending.delete(ws);
    if (ws.readyState === ws.OPEN) ws.close(code, reason);
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  };

  const close = async (): Promise<void> => {
    const closed = [...wss.clients].map((ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve()))));
    for (const ws of wss.clients) ws.close(1001, 'engine shutting down');
    // The close frame follows every queued message; clients that do not answer it are dropped.
    await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };

  return { upgrade, close };
}

/**
 * Sets the largest message ws reads on one socket. ws takes `maxPayload` once per server, but a socket
 * needs the small pre-hello limit first and the upload limit once paired; ws 8 keeps the limit of each
 * socket in its receiver's `_maxPayload`, checked against every frame header. The WebSocket tests send
 * large messages after hello, so a ws release that moves this field fails them instead of going unnoticed.
 */
function setMessageLimit(ws: WebSocket, bytes: number): void {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') {
    throw new Error('Cannot raise the message limit of a WebSocket: the ws library changed its receiver (field _maxPayload).');
  }
  receiver._maxPayload = bytes;
}
