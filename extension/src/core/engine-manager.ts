/**
 * Owns the one engine the extension talks to: starts it lazily (first editor opened), exposes its state
 * for the status bar and the webviews, restarts it, and stops it on deactivation making sure the child
 * process is gone (graceful close of stdin, then SIGTERM, then SIGKILL).
 *
 * Only the typed engine client is used to talk to the engine (stdio transport for a child engine,
 * WebSocket for one started by the user). No vscode import: the adapter feeds settings and a logger in.
 */
import type { ChildProcess } from 'node:child_process';
import { EngineClient, EngineError, type ConnectionState, type EngineInfo } from '../../../engine/src/client/index.js';
import { nodeWebSocketTransport, stdioTransport, tokenFromFile, type StdioTransport } from '../../../engine/src/client/node.js';
import { EngineLaunchError, planLaunch, type EngineLaunch } from './engine-launch.js';
import type { EngineState } from './messages.js';
import { engineSettingsKey, type Settings } from './settings.js';

export interface EngineManagerOptions {
  readonly extensionPath: string;
  readonly settings: () => Settings;
  /** One line of the engine's log (its stderr) or of the extension's own account of what it does. */
  readonly log: (line: string) => void;
  readonly clientName: string;
  /** Per-call timeout for the client (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** How long a child gets to exit after stdin closes, before SIGTERM (default 5 s) and SIGKILL (+2 s). */
  readonly stopGraceMs?: number;
}

export interface EngineStatus {
  readonly state: EngineState;
  /** What is wrong and what to do about it, when not connected; the engine description when connected. */
  readonly message: string | undefined;
}

type Listener = (status: EngineStatus) => void;

interface Running {
  readonly client: EngineClient;
  readonly launch: EngineLaunch;
  readonly transport: StdioTransport | undefined;
  readonly settingsKey: string;
  readonly unsubscribe: () => void;
  /** Why this engine cannot start, once that is known: the client then stops retrying until a restart. */
  failure: string | undefined;
  /** Times the client connected (a child that exits before the count moves died while starting). */
  connects: number;
  /** Children in a row that exited before the client connected. */
  earlyExits: number;
}

/** Children in a row that may exit while starting before the manager stops respawning and says why. */
export const START_ATTEMPTS = 3;
/** The engine's last stderr lines a start failure quotes. */
const STDERR_TAIL_LINES = 4;
/** Spawn errors that retrying cannot cure: the command is missing or not executable. */
const CANNOT_RUN = new Set(['ENOENT', 'EACCES', 'ENOTDIR', 'ENOEXEC']);

const STATE_OF: Readonly<Record<ConnectionState, EngineState>> = {
  disconnected: 'disconnected',
  connecting: 'connecting',
  connected: 'connected',
  unauthorized: 'unauthorized',
  'version-mismatch': 'version-mismatch',
};

const FIX_OF: Partial<Record<EngineState, string>> = {
  unauthorized: 'The engine refused the token: copy the token `paints-undo serve` printed into "paintsUndo.engine.token".',
  'version-mismatch': 'The engine speaks another protocol version: update the extension or the engine so they match.',
  disconnected: 'The engine stopped or cannot be reached; retrying. See "PaintsUndo: Show Engine Log", or run "PaintsUndo: Restart Engine".',
};

export class EngineManager {
  private readonly options: EngineManagerOptions;
  private current: Running | undefined;
  private queue: Promise<void> = Promise.resolve();
  private status: EngineStatus = { state: 'idle', message: undefined };
  private readonly listeners = new Set<Listener>();
  private readonly children = new Set<ChildProcess>();
  private disposed = false;
  /** Increases with every new engine; sessions re-upload their image when it changes. */
  private gen = 0;

  constructor(options: EngineManagerOptions) {
    this.options = options;
  }

  get state(): EngineStatus {
    return this.status;
  }

  get generation(): number {
    return this.gen;
  }

  get info(): EngineInfo | undefined {
    return this.current?.client.info;
  }

  get transportKind(): 'stdio' | 'websocket' | undefined {
    return this.current ? (this.current.launch.kind === 'stdio' ? 'stdio' : 'websocket') : undefined;
  }

  /** Pids of engine children still alive (several only briefly, while a crashed one is replaced). */
  get childPids(): number[] {
    return [...this.children].flatMap((c) => (c.pid !== undefined && c.exitCode === null && c.signalCode === null ? [c.pid] : []));
  }

  onDidChangeState(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The connected client, starting the engine if needed. Rejects with an EngineError whose message says
   * what to do when the engine cannot be started or reached (the client keeps retrying in the background).
   */
  async client(): Promise<EngineClient> {
    if (this.disposed) throw new EngineError('SHUTTING_DOWN', 'The extension is shutting down.');
    // Starting and stopping are serialised: a restart (command or settings change) racing with an
    // editor asking for the engine must neither start two engines nor hand out one being stopped.
    const current = await this.serialize(async () => {
      const settingsKey = engineSettingsKey(this.options.settings());
      if (this.current && this.current.settingsKey !== settingsKey) {
        this.options.log('[extension] engine settings changed: restarting the engine');
        await this.stopCurrent();
      }
      if (this.disposed) throw new EngineError('SHUTTING_DOWN', 'The extension is shutting down.');
      return this.current ?? this.start(settingsKey);
    });
    if (current.failure !== undefined) throw new EngineError('ENGINE_START_FAILED', current.failure);
    if (current.client.state !== 'connected') {
      try {
        await current.client.connect();
      } catch (error) {
        if (current.failure !== undefined) throw new EngineError('ENGINE_START_FAILED', current.failure);
        const e = error instanceof EngineError ? error : new EngineError('DISCONNECTED', String(error));
        const fix = FIX_OF[STATE_OF[current.client.state]];
        throw new EngineError(e.code, fix ? `${e.message} ${fix}` : e.message, { rpcCode: e.rpcCode, ...(e.hint ? { hint: e.hint } : {}) });
      }
    }
    return current.client;
  }

  /** Stops the engine (if any) and starts a fresh one. */
  async restart(): Promise<EngineInfo> {
    this.options.log('[extension] restarting the engine');
    await this.serialize(() => this.stopCurrent());
    const client = await this.client();
    const info = client.info;
    if (!info) throw new EngineError('DISCONNECTED', 'The engine connected but sent no information.');
    return info;
  }

  /** Stops the engine (it starts again when asked for); resolves once its process has exited. */
  async stop(): Promise<void> {
    await this.serialize(() => this.stopCurrent());
  }

  async clearCache(): Promise<{ removedEntries: number; freedBytes: number }> {
    const client = await this.client();
    return client.call('cache.clear', {});
  }

  /** Stops everything; resolves once every child engine this manager started has exited. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.serialize(() => this.stopCurrent());
    this.listeners.clear();
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  // -------------------------------------------------------------------------------------------

  /** Creates the client (the transport opens on connect); throws ENGINE_NOT_FOUND when there is no engine. */
  private start(settingsKey: string): Running {
    let launch: EngineLaunch;
    try {
      launch = planLaunch(this.options.settings(), this.options.extensionPath);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.log(`[extension] ${message}`);
      this.setStatus({ state: 'failed', message });
      throw new EngineError(error instanceof EngineLaunchError ? error.code : 'INTERNAL', message);
    }
    this.gen++;
    this.options.log(`[extension] starting: ${launch.describe}`);
    let transport: StdioTransport | undefined;
    let client: EngineClient;
    const timeout = this.options.requestTimeoutMs ?? 30_000;
    if (launch.kind === 'stdio') {
      const stderrTail: string[] = [];
      const t = stdioTransport({
        command: launch.command,
        args: launch.args,
        env: launch.env,
        onStderr: (line) => {
          stderrTail.push(line);
          if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
          this.options.log(line);
        },
      });
      // Track every child the transport spawns (it spawns a new one when reconnecting after a crash),
      // so that dispose can wait for all of them; stop respawning when the engine cannot start.
      transport = {
        ...t,
        kind: 'stdio',
        get child() {
          return t.child;
        },
        open: async (handlers) => {
          const connection = await t.open(handlers).catch((error: unknown) => {
            this.options.log(`[extension] ${error instanceof Error ? error.message : String(error)}`);
            const code = spawnErrorCode(error);
            if (code !== undefined && CANNOT_RUN.has(code)) this.fail(running, cannotRunMessage(launch.command, launch.commandSetting, code));
            throw error;
          });
          const child = t.child;
          if (child) {
            this.children.add(child);
            this.options.log(`[extension] engine pid ${child.pid ?? '?'} started`);
            const connectsAtSpawn = running.connects;
            child.once('exit', (code, signal) => {
              this.children.delete(child);
              const how = signal ?? `code ${code}`;
              this.options.log(`[extension] engine pid ${child.pid ?? '?'} exited (${how})`);
              if (running !== this.current || running.failure !== undefined) return;
              running.earlyExits = running.connects === connectsAtSpawn ? running.earlyExits + 1 : 0;
              if (running.earlyExits >= START_ATTEMPTS) this.fail(running, crashedMessage(launch.describe, how, stderrTail));
            });
          }
          return connection;
        },
      };
      client = new EngineClient({ transport, clientName: this.options.clientName, requestTimeoutMs: timeout, reconnect: { initialDelayMs: 500, maxDelayMs: 10_000 } });
    } else {
      client = new EngineClient({
        transport: nodeWebSocketTransport(launch.url),
        token: launch.token ?? tokenFromFile(),
        clientName: this.options.clientName,
        requestTimeoutMs: timeout,
      });
    }
    const unsubscribe = client.onStateChange((state) => {
      if (running.failure !== undefined) return;
      if (state === 'connected') running.connects++;
      const mapped = STATE_OF[state];
      const message =
        state === 'connected'
          ? `paints-undo ${client.info?.version ?? ''} (${launch.describe})`
          : [client.lastError?.message, FIX_OF[mapped]].filter(Boolean).join(' ');
      if (state === 'connected') this.options.log(`[extension] connected: ${message}`);
      else if (client.lastError && state !== 'connecting') this.options.log(`[extension] ${state}: ${client.lastError.message}`);
      this.setStatus({ state: mapped, message: message || undefined });
    });
    // The transport's and the listener's callbacks above run only once the client connects, after this.
    const running: Running = { client, launch, transport, settingsKey, unsubscribe, failure: undefined, connects: 0, earlyExits: 0 };
    this.current = running;
    this.setStatus({ state: 'starting', message: launch.describe });
    return running;
  }

  /** The engine cannot start: stop retrying (until a restart or a settings change) and say why. */
  private fail(running: Running, message: string): void {
    running.failure = message;
    running.client.close();
    this.options.log(`[extension] ${message}`);
    if (running === this.current) this.setStatus({ state: 'failed', message });
  }

  private async stopCurrent(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current) {
      current.unsubscribe();
      // Closing the client ends the child's stdin: the engine's signal to finish up and exit 0.
      current.client.close();
    }
    await Promise.all([...this.children].map((child) => this.waitForExit(child)));
    if (!this.disposed) this.setStatus({ state: 'idle', message: undefined });
    else this.setStatus({ state: 'idle', message: 'stopped' });
  }

  private waitForExit(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
      this.children.delete(child);
      return Promise.resolve();
    }
    const grace = this.options.stopGraceMs ?? 5_000;
    return new Promise<void>((resolve) => {
      const timers: ReturnType<typeof setTimeout>[] = [];
      child.once('exit', () => {
        for (const t of timers) clearTimeout(t);
        this.children.delete(child);
        resolve();
      });
      if (!child.stdin?.writableEnded) child.stdin?.end();
      timers.push(
        setTimeout(() => {
          this.options.log(`[extension] engine pid ${child.pid ?? '?'} did not exit within ${grace} ms of closing stdin; sending SIGTERM`);
          child.kill('SIGTERM');
        }, grace),
        setTimeout(() => {
          this.options.log(`[extension] engine pid ${child.pid ?? '?'} ignored SIGTERM; sending SIGKILL`);
          child.kill('SIGKILL');
        }, grace + 2_000),
      );
    });
  }

  private setStatus(status: EngineStatus): void {
    if (status.state === this.status.state && status.message === this.status.message) return;
    this.status = status;
    for (const l of this.listeners) {
      try {
        l(status);
      } catch (error) {
        this.options.log(`[extension] state listener failed: ${String(error)}`);
      }
    }
  }
}

/** The errno code of a failed spawn (the transport keeps Node's error as the cause). */
function spawnErrorCode(error: unknown): string | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function cannotRunMessage(command: string, setting: 'engine.nodePath' | 'engine.path', code: string): string {
  const what = code === 'ENOENT' || code === 'ENOTDIR' ? 'was not found' : code === 'EACCES' ? 'cannot be run (permission denied)' : `cannot be run (${code})`;
  return setting === 'engine.nodePath'
    ? `Cannot start the engine: Node.js ("${command}") ${what}. The engine runs on Node.js 20 or later: install it, or set "paintsUndo.engine.nodePath" to the node executable. Then run "PaintsUndo: Restart Engine".`
    : `Cannot start the engine: "${command}" ${what}. Set "paintsUndo.engine.path" to the paints-undo executable, then run "PaintsUndo: Restart Engine".`;
}

function crashedMessage(describe: string, how: string, stderrTail: readonly string[]): string {
  const said = stderrTail.length > 0 ? ` Its last output: "${stderrTail.join(' / ')}".` : '';
  return (
    `The engine exited while starting, ${START_ATTEMPTS} times in a row (last: ${how}); the extension stopped retrying. Started as: ${describe}.${said} ` +
    'See "PaintsUndo: Show Engine Log", fix the cause, then run "PaintsUndo: Restart Engine".'
  );
}
