/**
 * Request checks for the HTTP/WebSocket listener: token, Host (DNS rebinding) and Origin (cross-site).
 *
 * Origin policy, decided for these clients and attackers:
 * - no Origin header: Node, curl, native app networking (UXP's WebSocket/fetch send none or a plugin
 *   origin). Allowed; the token is still required.
 * - `null`: refused. Any web page can send it (sandboxed iframe, data: URL, some redirects).
 * - http(s) and browser-extension origins: refused unless listed exactly with --allow-origin. A page in the
 *   user's browser is the attacker this defends against.
 * - other schemes (application origins such as a UXP plugin's): allowed; the token is still required.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

const WEB_SCHEMES = new Set(['http:', 'https:', 'file:', 'ws:', 'wss:', 'chrome-extension:', 'moz-extension:', 'safari-web-extension:', 'data:', 'blob:', 'ftp:']);

export interface SecurityOptions {
  readonly token: string;
  /** The port the listener is bound to (Host must name it). */
  readonly port: number;
  /** The address given with --host, if any (loopback otherwise). */
  readonly bindHost: string;
  readonly allowOrigins: readonly string[];
  readonly allowHosts: readonly string[];
}

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

/** Splits a Host header into name and port ("[::1]:7439" -> ["::1", 7439]). */
export function parseHostHeader(header: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!m) return undefined;
  const name = m[1]!.replace(/^\[|\]$/g, '').toLowerCase();
  return { name, port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * The URL of a request target ("/images?width=4"), or undefined when it is not one a URL can be made of
 * ("//[", "http://x:99999/"): such a request is refused as malformed, never left unanswered.
 */
export function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://x');
  } catch {
    return undefined;
  }
}

/** What to do about a refused Host or Origin (FORBIDDEN). */
export const FORBIDDEN_HINT =
  'Reach the engine as 127.0.0.1 or localhost from an allowed app; to allow another Origin or Host, start it with --allow-origin or --allow-host.';

/** Why a Host header is refused, or undefined when it is fine. */
export function checkHost(header: string | undefined, options: SecurityOptions): string | undefined {
  if (!header) return 'the request has no Host header';
  const parsed = parseHostHeader(header);
  if (!parsed) return `the Host header ${JSON.stringify(header)} is not a host name`;
  const name = parsed.name;
  // A name listed with --allow-host is the engine as a reverse proxy publishes it, on the proxy's port
  // (443, so often none in the header), not the engine's: any port. The name alone defeats rebinding.
  if (options.allowHosts.some((h) => h.toLowerCase() === name)) return undefined;
  if (parsed.port !== options.port) return `the Host header ${JSON.stringify(header)} does not name port ${options.port}`;
  if (isLoopbackHost(name)) return undefined;
  const remote = !isLoopbackHost(options.bindHost);
  if (remote) {
    // IP literals cannot be rebound; names must be listed (the proxy's or the machine's name).
    if (isIP(name) !== 0) return undefined;
    if (name === options.bindHost.toLowerCase()) return undefined;
  }
  return `the Host header ${JSON.stringify(header)} is not this engine's address (possible DNS rebinding); allow it with --allow-host`;
}

/** Why an Origin header is refused, or undefined when it is fine (see the module comment). */
export function checkOrigin(header: string | undefined, options: SecurityOptions): string | undefined {
  if (header === undefined) return undefined;
  const origin = header.trim();
  if (options.allowOrigins.includes(origin)) return undefined;
  if (origin === 'null') return 'requests from an opaque ("null") origin are refused';
  let scheme: string;
  try {
    scheme = new URL(origin).protocol;
  } catch {
    return `the Origin ${JSON.stringify(origin)} is not a valid origin`;
  }
  if (WEB_SCHEMES.has(scheme)) return `web pages from ${origin} may not use the engine; allow a trusted origin with --allow-origin`;
  return undefined;
}

export function tokensEqual(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * How long a signed result URL stays valid. Hours: a panel or page left open still loads what it shows,
 * while a URL that leaked (a log, a shared screenshot) stops working. The expiry is rounded up to the
 * hour, so a file's URL stays the same within an hour and browsers can cache it.
 */
export const SIGNED_URL_TTL_SECONDS = 12 * 60 * 60;

/** The access signature of one URL path until `exp` (Unix seconds): lets <img>/<video> fetch a result without the token. */
export function signPath(token: string, path: string, exp: number): string {
  return createHmac('sha256', token).update(`${path}\n${exp}`).digest('hex').slice(0, 32);
}

/** The query string (`exp=…&sig=…`) that opens `path` for SIGNED_URL_TTL_SECONDS from `now` (ms). */
export function signedQuery(token: string, path: string, now: number = Date.now()): string {
  const exp = Math.ceil((now / 1000 + SIGNED_URL_TTL_SECONDS) / 3600) * 3600;
  return `exp=${exp}&sig=${signPath(token, path, exp)}`;
}

/** Why a signed URL does not open `path` ('missing', 'invalid', 'expired'), or undefined when it does. */
export function checkSignature(token: string, path: string, query: URLSearchParams, now: number = Date.now()): 'missing' | 'invalid' | 'expired' | undefined {
  const sig = query.get('sig');
  const expText = query.get('exp');
  if (!sig || expText === null) return sig || expText !== null ? 'invalid' : 'missing';
  if (!/^\d{1,12}$/.test(expText)) return 'invalid';
  const exp = Number(expText);
  // The expiry is signed: checking the signature first means a forged exp is 'invalid', not 'expired'.
  if (!tokensEqual(sig, signPath(token, path, exp))) return 'invalid';
  return exp * 1000 < now ? 'expired' : undefined;
}

/** The token from `Authorization: Bearer <t>` or `X-Paints-Undo-Token: <t>`. */
export function tokenFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const h = headers['x-paints-undo-token'];
  return typeof h === 'string' ? h.trim() : undefined;
}

/** A token bucket: `rate` requests per second, bursts up to `rate`. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly rate: number) {
    this.tokens = rate;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** One token bucket per client address (bounded: the map starts afresh past 1000 addresses). */
export class AddressRateLimits {
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(readonly rate: number) {}

  take(address: string): boolean {
    let limiter = this.limiters.get(address);
    if (!limiter) {
      if (this.limiters.size > 1000) this.limiters.clear();
      limiter = new RateLimiter(this.rate);
      this.limiters.set(address, limiter);
    }
    return limiter.take();
  }
}
