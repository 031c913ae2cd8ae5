/**
 * Node-only parts of the client: the stdio transport (spawns `paints-undo serve --stdio`, for editor
 * extensions) and helpers that read the pairing token file. Browser/UXP code imports index.ts instead.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { EngineClient, type EngineClientOptions } from './client.js';
import type { Connection, Transport, TransportHandlers } from './transport.js';
import { webSocketTransport, type WebSocketConstructor } from './websocket.js';
import { defaultConfigDir, readToken } from '../service/paths.js';

export interface StdioTransportOptions {
  /** Executable to run; default: this Node binary running this package's bin/paints-undo. */
  readonly command?: string;
  /** Arguments; default [bin/paints-undo, 'serve', '--stdio', ...extraArgs]. */
  readonly args?: readonly string[];
  readonly extraArgs?: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Receives the engine's stderr lines (logs); default: dropped. */
  readonly onStderr?: (line: string) => void;
}

/** bin/paints-undo of this package, found from this module (works from engine/src and dist/engine/src). */
export function packageBin(): string {
  const here = fileURLToPath(import.meta.url);
  const marker = here.lastIndexOf(`${sep()}engine${sep()}src${sep()}`);
  const root = here.slice(0, marker).replace(/[\\/]dist$/, '');
  return `${root}${sep()}bin${sep()}paints-undo`;
}

function sep(): string {
  return process.platform === 'win32' ? '\\' : '/';
}

export interface StdioTransport extends Transport {
  /** The running child, once opened (for tests and for killing it on extension deactivation). */
  readonly child: ChildProcessWithoutNullStreams | undefined;
}

export function stdioTransport(options: StdioTransportOptions = {}): StdioTransport {
  let child: ChildProcessWithoutNullStreams | undefined;
  return {
    kind: 'stdio',
    get child() {
      return child;
    },
    open(handlers: TransportHandlers): Promise<Connection> {
      const command = options.command ?? process.execPath;
      const args = options.args ?? [packageBin(), 'serve', '--stdio', ...(options.extraArgs ?? [])];
      return new Promise<Connection>((resolve, reject) => {
        const proc = spawn(command, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: 'pipe' });
        child = proc;
        let closed = false;
        const finish = (reason: string): void => {
          if (closed) return;
          closed = true;
          handlers.onClose(reason);
        };
        proc.once('error', (error) => {
          reject(new Error(`cannot start the engine (${command}): ${error.message}`, { cause: error }));
          finish(error.message);
        });
        proc.once('spawn', () => {
          resolve({
            send: (text) => {
              if (!proc.stdin.destroyed) proc.stdin.write(text + '\n');
            },
            // Closing stdin is the engine's signal to shut down gracefully (it exits 0).
            close: () => proc.stdin.end(),
          });
        });
        proc.once('exit', (code, signal) => finish(`engine exited (${signal ?? `code ${code}`})`));
        proc.stdin.on('error', () => undefined);
        createInterface({ input: proc.stdout }).on('line', (line) => {
          if (line.trim() !== '') handlers.onMessage(line);
        });
        const stderr = createInterface({ input: proc.stderr });
        stderr.on('line', (line) => options.onStderr?.(line));
      });
    },
  };
}

/** WebSocket transport for Node 20 (which has no global WebSocket), using `ws`; Node's fetch streams uploads. */
export function nodeWebSocketTransport(baseUrl?: string): Transport {
  return webSocketTransport({
    ...(baseUrl ? { baseUrl } : {}),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    streamsUploads: true,
  });
}

/** Reads the pairing token from the engine's token file (same user, same machine). */
export function tokenFromFile(configDir: string = defaultConfigDir()): () => string | undefined {
  return () => readToken(configDir);
}

/** Convenience: a client for a local engine over WebSocket, token read from the token file. */
export function localClient(options: Partial<EngineClientOptions> & { baseUrl?: string; configDir?: string } = {}): EngineClient {
  return new EngineClient({
    transport: options.transport ?? nodeWebSocketTransport(options.baseUrl),
    token: options.token ?? tokenFromFile(options.configDir),
    ...options,
  });
}
