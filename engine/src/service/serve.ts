/**
 * `paints-undo serve`: starts the engine on stdio or on a port, prints how to pair, and shuts down
 * gracefully on SIGINT/SIGTERM or when the stdio parent goes away: stop accepting, cancel jobs, flush the
 * cache index, flush stdout, resolve (the CLI then exits 0).
 */
import { format } from 'node:util';
import { z } from 'zod';
import { PaintsUndoError } from '../core/errors.js';
import { parseOrThrow } from '../core/job.js';
import { DEFAULT_PORT, PROTOCOL_VERSION } from '../client/protocol.js';
import { engineVersion } from '../io/provenance.js';
import { Engine, DEFAULT_LIMITS } from './engine.js';
import { listen, type Listener } from './http.js';
import { defaultCacheDir, ensureToken } from './paths.js';
import { isLoopbackHost } from './security.js';
import { serveStdio } from './stdio.js';

/** A number, or its text as typed on a command line (checked here, so one message names every bad value). */
type Numeric = number | string;

/**
 * What `serve` can be asked for. The service owns these options; the CLI maps its flags onto them.
 * Sizes are in MiB; every field has its default in ServeOptionsSchema.
 */
export interface ServeOptions {
  readonly stdio?: boolean;
  readonly port?: Numeric;
  readonly host?: string;
  readonly cacheDir?: string;
  readonly cacheSize?: Numeric;
  readonly workers?: Numeric;
  readonly memory?: Numeric;
  /** Warm the workers up while waiting for the first work (EngineOptions.warmUp). Default true. */
  readonly warmUp?: boolean;
  readonly allowOrigin?: readonly string[];
  readonly allowHost?: readonly string[];
  readonly maxUploadMb?: Numeric;
  readonly maxConnections?: Numeric;
  readonly maxJobsPerClient?: Numeric;
  readonly maxRps?: Numeric;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const ServeOptionsSchema = z.object({
  stdio: z.boolean().default(false),
  port: int(0, 65535).optional(),
  host: z.string().min(1).default('127.0.0.1'),
  cacheDir: z.string().min(1).optional(),
  cacheSize: int(16, 1024 * 1024).default(2048),
  workers: int(1, 64).optional(),
  memory: int(256, 1024 * 1024).optional(),
  warmUp: z.boolean().default(true),
  allowOrigin: z.array(z.string()).default([]),
  allowHost: z.array(z.string()).default([]),
  maxUploadMb: int(1, 1024).default(DEFAULT_LIMITS.maxUploadBytes / 1024 / 1024),
  maxConnections: int(1, 10_000).default(DEFAULT_LIMITS.maxConnections),
  maxJobsPerClient: int(1, 10_000).default(DEFAULT_LIMITS.maxQueuedJobsPerClient),
  maxRps: int(1, 1_000_000).default(DEFAULT_LIMITS.maxRequestsPerSecond),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

export async function runServe(requested: ServeOptions): Promise<void> {
  const options = parseOrThrow(ServeOptionsSchema, requested, 'options');
  const log = options.quiet ? () => undefined : (message: string) => process.stderr.write(`[paints-undo] ${message}\n`);
  if (options.stdio) {
    // stdout carries the protocol: anything printed by a library must go to stderr instead.
    for (const name of ['log', 'info', 'debug', 'warn'] as const) {
      console[name] = (...args: unknown[]) => process.stderr.write(`${format(...args)}\n`);
    }
  }
  // One bad request must not take down an engine that other clients use: errors that escape a request
  // handler are logged, not fatal (every handler already answers its own errors).
  process.on('unhandledRejection', (reason) => log(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));
  process.on('uncaughtException', (error) => log(`uncaught exception: ${error.stack ?? error.message}`));
  const { token, created, path: tokenFile } = ensureToken();
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const engine = await Engine.start({
    cacheDir,
    cacheCapBytes: options.cacheSize * 1024 * 1024,
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.memory ? { memoryBytes: options.memory * 1024 * 1024 } : {}),
    token,
    log,
    warmUp: options.warmUp,
    limits: {
      maxUploadBytes: options.maxUploadMb * 1024 * 1024,
      maxConnections: options.maxConnections,
      maxQueuedJobsPerClient: options.maxJobsPerClient,
      maxRequestsPerSecond: options.maxRps,
    },
  });

  let listener: Listener | undefined;
  const wantsPort = !options.stdio || options.port !== undefined;
  if (wantsPort) {
    try {
      listener = await listen(engine, {
        port: options.port ?? DEFAULT_PORT,
        host: options.host,
        allowOrigins: options.allowOrigin,
        allowHosts: options.allowHost,
      });
    } catch (error) {
      await engine.shutdown();
      const code = (error as NodeJS.ErrnoException).code;
      const port = options.port ?? DEFAULT_PORT;
      throw new PaintsUndoError(
        'INVALID_OPTION',
        code === 'EADDRINUSE'
          ? `Port ${port} on ${options.host} is already in use (is another engine running?).`
          : `Cannot listen on ${options.host}:${port}: ${(error as Error).message}`,
        { hint: 'Stop the other process, or choose another port with --port (0 picks a free one).', cause: error },
      );
    }
  }

  if (listener) {
    const line = {
      ok: true,
      event: 'listening',
      url: listener.url,
      websocket: `${listener.url.replace(/^http/, 'ws')}/ws`,
      port: listener.port,
      protocol: PROTOCOL_VERSION,
      version: engineVersion(),
      tokenFile,
      cacheDir: engine.cache.root,
    };
    // In stdio mode stdout is the protocol; the start-up line goes to stderr.
    const out = options.stdio ? process.stderr : process.stdout;
    if (options.json) {
      out.write(`${JSON.stringify(line)}\n`);
    } else {
      out.write(`paints-undo engine ${line.version} listening on ${line.url} (WebSocket ${line.websocket}, protocol ${PROTOCOL_VERSION})\n`);
      // Never the token itself: this output often lands in terminals' scrollback and editors' logs.
      out.write(`Pairing token: ${created ? 'created' : 'stored'} in ${tokenFile} (readable by you only). Print it with \`paints-undo token\` and paste it into the Photoshop panel once.\n`);
    }
    if (!isLoopbackHost(options.host)) {
      log(`WARNING: listening on ${options.host}, reachable from the network. Every request still needs the token; use TLS through a reverse proxy (see PROTOCOL.md).`);
    }
  } else {
    log(`engine ${engineVersion()} serving JSON-RPC on stdio (protocol ${PROTOCOL_VERSION}); cache ${engine.cache.root}`);
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log(`shutting down (${why})`);
      void (async () => {
        // Jobs first: every client is told its jobs were cancelled while its connection is still open;
        // the sockets close after those events.
        engine.stopAccepting();
        await listener?.close().catch(() => undefined);
        await engine.shutdown();
        resolve();
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (options.stdio) {
      // A parent that died leaves a broken pipe: writing to it fails with EPIPE instead of crashing us.
      process.stdout.on('error', () => stop('stdout closed'));
      void serveStdio(engine, { input: process.stdin, output: process.stdout }).then(() => stop('stdin closed'));
    }
  });
  // Every reply and event is handed to the OS before the process exits.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  if (options.stdio) process.stdin.destroy();
  log('stopped');
}
