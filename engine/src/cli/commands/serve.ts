import type { Command } from 'commander';
import { DEFAULT_PORT } from '../../client/constants.js';
import type { ServeOptions } from '../../service/serve.js';
import { defined } from '../options.js';

/** What commander collects for `serve`: text as typed (numbers are checked by the service's schema). */
interface ServeFlags {
  stdio?: boolean;
  port?: string;
  host?: string;
  cacheDir?: string;
  cacheSize?: string;
  workers?: string;
  memory?: string;
  warmUp?: boolean;
  allowOrigin?: string[];
  allowHost?: string[];
  maxUploadMb?: string;
  maxConnections?: string;
  maxJobsPerClient?: string;
  maxRps?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      `run the engine for the Photoshop panel, editor extensions and other local apps: JSON-RPC over WebSocket on 127.0.0.1:${DEFAULT_PORT} (plus HTTP for uploads and downloads), or over stdio with --stdio. The protocol is documented in engine/PROTOCOL.md`,
    )
    .option('--stdio', 'speak newline-delimited JSON-RPC on stdin/stdout (for editor extensions that spawn the engine); closing stdin stops it')
    .option('--port <n>', `TCP port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks a free port, printed at start)`)
    .option(
      '--host <address>',
      'address to listen on (default 127.0.0.1). Any other address exposes the engine to the network: the token is still required on every request; put TLS in front with a reverse proxy (see PROTOCOL.md)',
    )
    .option('--cache-dir <dir>', 'result cache folder (default: PAINTS_UNDO_CACHE_DIR, else the platform user cache folder)')
    .option('--cache-size <MiB>', 'cache size cap in MiB; least recently used results are evicted above it (default 2048)')
    .option('--workers <n>', 'worker threads for CPU work (default: CPU threads, at most 4)')
    .option(
      '--memory <MiB>',
      'memory kept for reuse across requests, at most: decoded images and warm renderers, half each, shared by every worker (default: a quarter of the memory, 512 to 2048); running jobs need their working memory on top',
    )
    .option('--no-warm-up', 'do not spend the first seconds after start warming the workers up (by default they plan a small picture of their own until the first request, so the first canvas plans at full speed)')
    .option('--allow-origin <origin...>', 'web origins allowed to connect, exact match (e.g. http://localhost:5173); by default web pages are refused')
    .option('--allow-host <name...>', 'extra Host header names to accept, on any port (e.g. the public name of a TLS reverse proxy in front of the engine)')
    .option('--max-upload-mb <n>', 'largest accepted upload in MiB (default 64)')
    .option('--max-connections <n>', 'concurrent WebSocket connections (default 64)')
    .option('--max-jobs-per-client <n>', 'unfinished jobs per connection (default 16)')
    .option('--max-rps <n>', 'requests per second per connection (default 200)')
    .option('--json', 'print the start-up line as JSON')
    .option('--quiet', 'no log lines on stderr')
    .action(async (flags: ServeFlags) => {
      const { runServe } = await import('../../service/serve.js');
      await runServe(serveOptionsOf(flags));
    });
}

/** The flags mapped onto the service's options (one flag per option, same names). */
function serveOptionsOf(flags: ServeFlags): ServeOptions {
  return {
    ...defined({
      stdio: flags.stdio,
      port: flags.port,
      host: flags.host,
      cacheDir: flags.cacheDir,
      cacheSize: flags.cacheSize,
      workers: flags.workers,
      memory: flags.memory,
      warmUp: flags.warmUp,
      maxUploadMb: flags.maxUploadMb,
      maxConnections: flags.maxConnections,
      maxJobsPerClient: flags.maxJobsPerClient,
      maxRps: flags.maxRps,
      json: flags.json,
      quiet: flags.quiet,
    }),
    ...(flags.allowOrigin ? { allowOrigin: flags.allowOrigin } : {}),
    ...(flags.allowHost ? { allowHost: flags.allowHost } : {}),
  };
}
